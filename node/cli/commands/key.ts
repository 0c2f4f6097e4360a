/**
 * `certsync key import | list | export | delete`: the private keys of the user's own certificates,
 * kept in the store encrypted under the store's passphrase (node/keys/private-key-ring.ts).
 * A key is named by its certificate's fingerprint. Keys travel to a paired peer only with
 * `push --private-key` or `pull --private-key` (node/client/README.md).
 */
import { rename, stat, writeFile, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CertsyncError } from '../../../protocol/errors.ts';
import { fileReadReason } from '../../import/index.ts';
import { describePrivateKey, privateKeyPem, readPrivateKeyFile } from '../../keys/pkcs8.ts';
import { MAX_KEY_FILE_BYTES } from '../../keys/pkcs8.ts';
import {
  certificateForKey,
  importPrivateKey,
  keyMatchesCertificate,
  listPrivateKeys,
  openPrivateKey,
  type StoredKey,
} from '../../keys/private-key-ring.ts';
import type { Store } from '../../store/index.ts';
import { MIN_PREFIX, oneOf, resolveCertificate, stringOption } from '../arguments.ts';
import { UsageError, type Command } from '../command.ts';
import { clip, day, shortFingerprint, table } from '../format.ts';
import { PASSPHRASE_OPTIONS, passphraseFile, storePassphrase } from '../passphrase.ts';

/**
 * The stored key whose certificate's fingerprint starts with `arg` (hex, colons allowed).
 *
 * @throws UsageError when `arg` is not hex of at least 4 digits
 * @throws CertsyncError `not-found` when no stored key matches, `bad-input` when several do
 */
export function resolveKey(store: Store, arg: string): StoredKey {
  const hex = arg.replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex) || hex.length < MIN_PREFIX || hex.length > 64) {
    throw new UsageError(`${arg}: expected a fingerprint (at least ${MIN_PREFIX} hex digits)`);
  }
  const keys = listPrivateKeys(store).filter((k) => k.fingerprint.startsWith(hex));
  const [first] = keys;
  if (!first) throw new CertsyncError('not-found', `${arg}: no private key for this certificate`);
  if (keys.length > 1) {
    throw new CertsyncError('bad-input', `${arg}: names ${keys.length} keys; give more digits`);
  }
  return first;
}

async function readKeyFile(path: string, shown: string): Promise<Uint8Array> {
  try {
    const info = await stat(path);
    if (info.isFile() && info.size > MAX_KEY_FILE_BYTES) {
      throw new CertsyncError('bad-input', `${shown}: over ${MAX_KEY_FILE_BYTES} bytes, not a key`);
    }
    return new Uint8Array(await readFile(path));
  } catch (error) {
    if (error instanceof CertsyncError) throw error;
    throw new CertsyncError('bad-input', `${shown}: ${fileReadReason(error)}`, { cause: error });
  }
}

const importKey: Command = {
  name: 'key import',
  summary: 'store a private key (PKCS#8, plain or encrypted) beside its certificate, encrypted',
  args: 'FILE',
  positionals: { min: 1, max: 1 },
  options: {
    ...PASSPHRASE_OPTIONS,
    'input-passphrase-file': {
      type: 'string',
      help: "FILE  an encrypted FILE's own passphrase (default: the store's passphrase)",
    },
    certificate: {
      type: 'string',
      help: 'FINGERPRINT  the certificate of the key, when several have its public key',
    },
  },
  async run(ctx) {
    const store = ctx.openStore();
    const shown = ctx.positionals[0] as string;
    const named = stringOption(ctx, 'certificate');
    const fingerprint =
      named === undefined ? undefined : resolveCertificate(store, named).fingerprint;
    const confirm = store.privateKeys.list().length === 0;
    let passphrase: string | undefined;
    const ownPassphrase = async () =>
      (passphrase ??= await storePassphrase(ctx, 'to store the private key', { confirm }));
    const bytes = await readKeyFile(resolve(ctx.cwd, shown), shown);
    const key = await readPrivateKeyFile(bytes, shown, () =>
      ctx.options['input-passphrase-file'] !== undefined
        ? passphraseFile(ctx, 'input-passphrase-file')
        : ownPassphrase(),
    );
    // Find its certificate before asking for the store's passphrase.
    certificateForKey(store, key.pkcs8, fingerprint);
    const { certificate, outcome } = await importPrivateKey(
      store,
      key.pkcs8,
      await ownPassphrase(),
      {
        ...(fingerprint ? { fingerprint } : {}),
      },
    );
    const algorithm = describePrivateKey(key.pkcs8);
    const what = `the private key (${algorithm}) of ${certificate.displayName} ${shortFingerprint(certificate.fingerprintHex)}`;
    return {
      text:
        outcome === 'stored' ? `Stored ${what}, encrypted.` : `The store already holds ${what}.`,
      json: {
        certificate: certificate.fingerprintHex,
        subject: certificate.subject,
        algorithm,
        outcome,
        fileEncrypted: key.encrypted,
      },
    };
  },
};

const listKeys: Command = {
  name: 'key list',
  summary: 'the private keys the store holds, by certificate',
  args: '',
  positionals: { min: 0, max: 0 },
  options: {},
  run(ctx) {
    const keys = listPrivateKeys(ctx.openStore());
    const rows = keys.map((k) => [
      shortFingerprint(k.fingerprint),
      clip(k.certificate?.displayName ?? '(certificate no longer in the store)', 36),
      clip(k.certificate?.emails.join(' ') || '-', 36),
      day(k.addedAt),
    ]);
    return {
      text: rows.length
        ? table(['CERTIFICATE', 'NAME', 'E-MAIL', 'ADDED'], rows)
        : '(no private keys)',
      json: keys.map((k) => ({
        certificate: k.fingerprint,
        subject: k.certificate?.subject ?? null,
        emails: k.certificate?.emails ?? [],
        addedAt: k.addedAt.toISOString(),
      })),
    };
  },
};

const exportKey: Command = {
  name: 'key export',
  summary: 'write a stored private key as plain PKCS#8 (asks the passphrase)',
  args: 'FINGERPRINT',
  positionals: { min: 1, max: 1 },
  options: {
    ...PASSPHRASE_OPTIONS,
    format: { type: 'string', help: 'FORMAT  pem or der (default pem)' },
    out: {
      type: 'string',
      help: 'FILE  write here (readable by the owner only) instead of standard output',
    },
  },
  async run(ctx) {
    const format = oneOf('format', stringOption(ctx, 'format') ?? 'pem', ['pem', 'der'] as const);
    const store = ctx.openStore();
    const key = resolveKey(store, ctx.positionals[0] as string);
    const fingerprint = Buffer.from(key.fingerprint, 'hex');
    const passphrase = await storePassphrase(ctx, 'to open the private key');
    const pkcs8 = await openPrivateKey(store, fingerprint, passphrase);
    const der = store.certificates.der(fingerprint);
    if (der && !keyMatchesCertificate(pkcs8, der)) {
      throw new CertsyncError('internal', `the key stored for ${key.fingerprint} is not its key`);
    }
    const bytes = format === 'pem' ? new TextEncoder().encode(privateKeyPem(pkcs8)) : pkcs8;
    const summary = { certificate: key.fingerprint, format, bytes: bytes.length };
    const out = stringOption(ctx, 'out');
    if (out) {
      const path = resolve(ctx.cwd, out);
      const partial = `${path}.partial-${process.pid}`;
      try {
        await writeFile(partial, bytes, { mode: 0o600 });
        await rename(partial, path);
      } catch (error) {
        throw new CertsyncError(
          'bad-input',
          `--out ${out}: cannot write (${(error as Error).message})`,
          {
            cause: error,
          },
        );
      }
      return {
        text: `Wrote the private key of ${shortFingerprint(key.fingerprint)} to ${path}`,
        json: { ...summary, file: path },
      };
    }
    if (ctx.json) {
      const content = Buffer.from(bytes).toString(format === 'der' ? 'base64' : 'utf8');
      return {
        text: '',
        json: { ...summary, encoding: format === 'der' ? 'base64' : 'text', content },
      };
    }
    ctx.writeStdout(bytes);
    return { text: '', json: summary };
  },
};

const deleteKey: Command = {
  name: 'key delete',
  summary: 'remove a stored private key for good (its certificate stays)',
  args: 'FINGERPRINT',
  positionals: { min: 1, max: 1 },
  options: {
    yes: { type: 'boolean', help: 'confirm: a deleted key cannot be recovered from the store' },
  },
  run(ctx) {
    const store = ctx.openStore();
    const key = resolveKey(store, ctx.positionals[0] as string);
    const name = key.certificate?.displayName ?? '(certificate no longer in the store)';
    if (ctx.options.yes !== true) {
      throw new UsageError(
        `key delete removes the private key of ${name} ${shortFingerprint(key.fingerprint)} ` +
          'for good: export it first if it may be needed, then give --yes',
      );
    }
    store.privateKeys.delete(Buffer.from(key.fingerprint, 'hex'));
    return {
      text: `Deleted the private key of ${name} ${shortFingerprint(key.fingerprint)}.`,
      json: { certificate: key.fingerprint, outcome: 'deleted' },
    };
  },
};

export default [importKey, listKeys, exportKey, deleteKey];
