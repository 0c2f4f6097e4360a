/** `certsync contacts import` and `certsync contacts list`: the address book. */
import { importContacts } from '../../contacts/index.ts';
import type { Command } from '../command.ts';
import { table } from '../format.ts';

const contactsImport: Command = {
  name: 'contacts import',
  summary: 'import contacts from vCard (.vcf) files; certificates are then shown by their names',
  args: 'FILE...',
  positionals: { min: 1 },
  options: {},
  async run(ctx) {
    const store = ctx.openStore();
    const report = await importContacts(store, ctx.positionals);
    for (const s of report.skipped) ctx.warn(`certsync: skipped ${s}`);
    return {
      text: `Read ${report.contacts.length} contact${report.contacts.length === 1 ? '' : 's'}: ${report.added} new address${report.added === 1 ? '' : 'es'}, ${report.present} already known`,
      json: report,
    };
  },
};

const contactsList: Command = {
  name: 'contacts list',
  summary: 'list the address book',
  args: '',
  positionals: { min: 0, max: 0 },
  options: {},
  run(ctx) {
    const contacts = ctx.openStore().contacts.list();
    return {
      text: contacts.length
        ? table(
            ['NAME', 'E-MAIL'],
            contacts.map((c) => [c.name, c.email]),
          )
        : 'No contacts.',
      json: contacts,
    };
  },
};

export default [contactsImport, contactsList];
