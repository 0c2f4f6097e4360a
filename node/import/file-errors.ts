/**
 * What went wrong reading a file, in words, for the one-line errors of import commands.
 */

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EISDIR: 'a folder, not a file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a part of the path is not a folder',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
  EIO: 'the disk could not be read',
};

/** A short reason for a failed read of a file: `no such file`, `a folder, not a file`, ... */
export function fileReadReason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return REASONS[code] ?? `cannot be read (${code})`;
  return `cannot be read (${error instanceof Error ? error.message : String(error)})`;
}
