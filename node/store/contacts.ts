/**
 * The address book: (name, e-mail) pairs imported from vCards. A certificate carrying one of
 * a contact's addresses is shown under the contact's name.
 */
import type { StoreContext } from './context.ts';

/** One contact address. A contact with three addresses is three rows with the same name. */
export interface ContactEntry {
  readonly name: string;
  /** Lowercased. */
  readonly email: string;
}

/** The contacts table. */
export class Contacts {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  /** Adds each (name, e-mail) pair not yet known; returns how many were new. All or nothing. */
  add(entries: readonly ContactEntry[]): { added: number; present: number } {
    return this.ctx.write(() => {
      const insert = this.ctx.db.prepare(
        'INSERT OR IGNORE INTO contacts (name, email, added_at) VALUES (?, ?, ?)',
      );
      let added = 0;
      for (const e of entries) {
        added += insert.run(e.name, e.email.trim().toLowerCase(), this.ctx.now()).changes;
      }
      return { added, present: entries.length - added };
    });
  }

  /** Every contact address, by name then address. */
  list(): ContactEntry[] {
    return this.ctx.read(
      () =>
        this.ctx.db
          .prepare('SELECT name, email FROM contacts ORDER BY name COLLATE NOCASE, email')
          .all() as ContactEntry[],
    );
  }

  /** Names of the contacts with this address. */
  namesFor(email: string): string[] {
    return this.ctx.read(
      () =>
        this.ctx.db
          .prepare('SELECT name FROM contacts WHERE email = ? ORDER BY name')
          .pluck()
          .all(email.trim().toLowerCase()) as string[],
    );
  }
}
