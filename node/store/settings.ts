/**
 * Per-store settings as a small key/value table of JSON values, with typed accessors for the
 * settings certsync itself knows.
 */
import { CertsyncError } from '../../protocol/errors.ts';
import type { StoreContext } from './context.ts';

/** The settings certsync knows, with their types. */
export interface KnownSettings {
  /** `auto`: a sync starts when a paired peer connects; `manual`: only when asked. */
  'auto-sync': 'auto' | 'manual';
  /** Least time between two validity checks of the same store, in seconds. */
  'check-interval-seconds': number;
  /** When the store was last checked (ms since the epoch), or null if never. */
  'last-check-at': number | null;
  /**
   * What a validity check of this store (`check`, `peer check`, the check before sending)
   * does when revocation cannot be decided: `soft-fail` accepts the certificate, `hard-fail`
   * gives the verdict `unknown` (node/validate/options.ts, RevocationPolicy).
   */
  'revocation-policy': 'soft-fail' | 'hard-fail';
}

/** Values of settings never set. */
export const SETTING_DEFAULTS: Readonly<KnownSettings> = {
  'auto-sync': 'manual',
  'check-interval-seconds': 86_400,
  'last-check-at': null,
  'revocation-policy': 'soft-fail',
};

/** JSON values a setting can hold. */
export type SettingValue =
  string | number | boolean | null | SettingValue[] | { [k: string]: SettingValue };

/** The settings table. */
export class Settings {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  /** A known setting, or its default. */
  get<K extends keyof KnownSettings>(key: K): KnownSettings[K] {
    const value = this.getJson(key);
    return value === undefined ? SETTING_DEFAULTS[key] : (value as KnownSettings[K]);
  }

  /** Sets a known setting. */
  set<K extends keyof KnownSettings>(key: K, value: KnownSettings[K]): void {
    this.setJson(key, value);
  }

  /**
   * Any setting by name (other components keep theirs here), or undefined when unset.
   *
   * @throws CertsyncError `store-unreadable` when the stored value is not JSON
   */
  getJson(key: string): SettingValue | undefined {
    return this.ctx.read(() => {
      const text = this.ctx.db.prepare('SELECT value FROM settings WHERE key = ?').pluck().get(key);
      if (typeof text !== 'string') return undefined;
      try {
        return JSON.parse(text) as SettingValue;
      } catch (error) {
        throw new CertsyncError('store-unreadable', `setting ${key}: not JSON`, { cause: error });
      }
    });
  }

  /** Sets any setting; `undefined` removes it. */
  setJson(key: string, value: SettingValue | undefined): void {
    this.ctx.write(() => {
      if (value === undefined) {
        this.ctx.db.prepare('DELETE FROM settings WHERE key = ?').run(key);
      } else {
        this.ctx.db
          .prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)')
          .run(key, JSON.stringify(value));
      }
    });
  }
}
