/**
 * Reading command arguments: typed option values, and turning a fingerprint prefix or an
 * e-mail address into the stored item it names.
 */
import { CertsyncError } from '../../protocol/errors.ts';
import type { CertificateRecord, CrlRecord, Store } from '../store/index.ts';
import type { RevocationPolicy } from '../validate/index.ts';
import { UsageError, type CommandContext, type OptionSpec } from './command.ts';

/** A string option's value, or undefined. */
export function stringOption(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.options[name];
  return typeof v === 'string' ? v : undefined;
}

/** A repeatable string option's values. */
export function stringsOption(ctx: CommandContext, name: string): string[] {
  const v = ctx.options[name];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' ? [v] : [];
}

/** True when a boolean option was given. */
export function flag(ctx: CommandContext, name: string): boolean {
  return ctx.options[name] === true;
}

/**
 * `value` as one of `allowed`, for option `--name`.
 *
 * @throws UsageError naming the option, the allowed values and what came
 */
export function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got ${value}`);
  }
  return value as T;
}

/** A stored certificate or CRL named on the command line. */
export type NamedItem =
  | { readonly kind: 'cert'; readonly record: CertificateRecord }
  | { readonly kind: 'crl'; readonly record: CrlRecord };

/** Minimum number of hex digits accepted as a fingerprint prefix. */
export const MIN_PREFIX = 4;

/**
 * The certificate or CRL whose SHA-256 fingerprint starts with `arg` (hex, colons allowed).
 *
 * @throws UsageError when `arg` is not hex of at least 4 digits
 * @throws CertsyncError `not-found` when nothing matches, `bad-input` when several do
 */
export function resolveItem(store: Store, arg: string): NamedItem {
  const hex = arg.replace(/:/g, '');
  if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length < MIN_PREFIX || hex.length > 64) {
    throw new UsageError(`${arg}: expected a fingerprint (at least ${MIN_PREFIX} hex digits)`);
  }
  const items: NamedItem[] = [
    ...store.certificates.findByPrefix(hex).map((record) => ({ kind: 'cert' as const, record })),
    ...store.crls.findByPrefix(hex).map((record) => ({ kind: 'crl' as const, record })),
  ];
  const [first] = items;
  if (!first)
    throw new CertsyncError('not-found', `${arg}: no certificate or CRL has this fingerprint`);
  if (items.length > 1) {
    throw new CertsyncError('bad-input', `${arg}: matches ${items.length} items; give more digits`);
  }
  return first;
}

/**
 * Like {@link resolveItem}, but only certificates.
 *
 * @throws CertsyncError `not-found` also when `arg` names a CRL
 */
export function resolveCertificate(store: Store, arg: string): CertificateRecord {
  const item = resolveItem(store, arg);
  if (item.kind !== 'cert')
    throw new CertsyncError('not-found', `${arg}: a CRL, not a certificate`);
  return item.record;
}

/** Options that choose the revocation policy of one check. */
export const REVOCATION_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  'hard-fail': {
    type: 'boolean',
    help: 'this check: a certificate whose revocation cannot be decided is not valid',
  },
  'soft-fail': {
    type: 'boolean',
    help: 'this check: accept a certificate whose revocation cannot be decided',
  },
};

/**
 * The revocation policy of one check: `--hard-fail` or `--soft-fail`, else the store's
 * `revocation-policy` setting (soft-fail unless set).
 *
 * @throws UsageError when both flags are given
 */
export function revocationPolicy(ctx: CommandContext, store: Store): RevocationPolicy {
  const hard = flag(ctx, 'hard-fail');
  const soft = flag(ctx, 'soft-fail');
  if (hard && soft) throw new UsageError('--hard-fail and --soft-fail exclude each other');
  if (hard) return 'hard-fail';
  if (soft) return 'soft-fail';
  return store.settings.get('revocation-policy');
}
