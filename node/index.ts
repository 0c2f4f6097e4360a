/**
 * certsync's running client, public entry point (`certsync/node`): the certificate store,
 * the X.509 adapter, import and export, the address book, and the command line.
 */
export * from './store/index.ts';
export * from './pki/index.ts';
export * from './import/index.ts';
export * from './contacts/index.ts';
export { main as runCli, resolveStorePath, type CliIo } from './cli/main.ts';
