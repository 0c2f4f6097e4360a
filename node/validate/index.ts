/**
 * certsync's certificate validator, public entry point. Everything the client and the CLI
 * need; the modules behind it are internal.
 */
export { validate, checkStore, type StoreCheckReport } from './validate.ts';
export {
  DEFAULT_LIMITS,
  type FetchLimits,
  type Profile,
  type RevocationFetcher,
  type RevocationPolicy,
  type ValidateOptions,
  type ValidationLimits,
} from './options.ts';
export {
  RESULT_CODES,
  isResultCode,
  type EmailMatch,
  type PathEntry,
  type ResultCode,
  type RevocationCheck,
  type ValidationResult,
  type WorkDone,
} from './result.ts';
export { httpRevocationFetcher, type HttpFetcherOptions } from './fetcher.ts';
