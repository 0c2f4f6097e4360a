// One linter for the whole tree; prettier owns formatting, so no style rules here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '**/.cache/**', 'bench/out/**'] },
  js.configs.recommended,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': 'off',
    },
  },
  {
    // Layering: protocol/ is pure and imports no lower-level or higher-level code.
    files: ['protocol/**/*.ts'],
    ignores: ['protocol/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/transports/**',
                '**/node/**',
                'node:*',
                'fs',
                'net',
                'better-sqlite3',
                'pkijs',
                'serialport',
              ],
              message: 'protocol/ is pure: no I/O, no transports, no store.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['transports/**/*.ts'],
    ignores: ['transports/**/*.test.ts', 'transports/**/test-*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/protocol/**', '**/node/**'], message: 'transports/ moves bytes only.' },
          ],
        },
      ],
    },
  },
);
