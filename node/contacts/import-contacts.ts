/**
 * Importing vCard files into a store's address book, all or nothing per command.
 */
import { readFile } from 'node:fs/promises';
import { CertsyncError } from '../../protocol/errors.ts';
import { fileReadReason } from '../import/index.ts';
import type { Store } from '../store/index.ts';
import { MAX_VCARD_BYTES, parseVCards, type VCardContact } from './vcard.ts';

/** What {@link importContacts} did. */
export interface ContactImportReport {
  readonly contacts: readonly VCardContact[];
  /** New (name, address) pairs. */
  readonly added: number;
  /** Pairs already known. */
  readonly present: number;
  readonly skipped: readonly string[];
}

/**
 * Reads every file, then stores all their contacts in one transaction.
 *
 * @throws CertsyncError `bad-input` naming the file when one cannot be read or is not a
 *   vCard file; nothing is stored then
 */
export async function importContacts(
  store: Store,
  paths: readonly string[],
): Promise<ContactImportReport> {
  const contacts: VCardContact[] = [];
  const skipped: string[] = [];
  for (const path of paths) {
    let text: string;
    try {
      const bytes = await readFile(path);
      if (bytes.length > MAX_VCARD_BYTES) {
        throw new CertsyncError('bad-input', `${path}: over the ${MAX_VCARD_BYTES}-byte limit`);
      }
      text = bytes.toString('utf8');
    } catch (error) {
      if (error instanceof CertsyncError) throw error;
      throw new CertsyncError('bad-input', `${path}: ${fileReadReason(error)}`, { cause: error });
    }
    const parsed = parseVCards(text, path);
    contacts.push(...parsed.contacts);
    skipped.push(...parsed.skipped.map((s) => `${path}: ${s}`));
  }
  const entries = contacts.flatMap((c) => c.emails.map((email) => ({ name: c.name, email })));
  const { added, present } = store.contacts.add(entries);
  return { contacts, added, present, skipped };
}
