/**
 * The address book: vCard import, so certificates can be shown by their owners' names.
 */
export { importContacts, type ContactImportReport } from './import-contacts.ts';
export {
  MAX_VCARDS,
  MAX_VCARD_BYTES,
  parseVCards,
  type VCardContact,
  type VCardFile,
} from './vcard.ts';
