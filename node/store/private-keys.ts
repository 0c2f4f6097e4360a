/**
 * Private keys of the user's own certificates, kept only as opaque encrypted PKCS#8 blobs:
 * encrypting, decrypting and deciding when a key may travel belong to node/keys and the
 * session layer (node/keys/private-key-ring.ts).
 */
import type { StoreContext } from './context.ts';

/** The private_keys table: certificate fingerprint -> encrypted PKCS#8 blob. */
export class PrivateKeys {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  /** Stores or replaces the encrypted key of the certificate `fingerprint`. */
  put(fingerprint: Uint8Array, encrypted: Uint8Array): void {
    if (fingerprint.length !== 32) {
      throw new RangeError(`expected a 32-byte fingerprint, got ${fingerprint.length} bytes`);
    }
    this.ctx.write(() => {
      this.ctx.db
        .prepare(
          'INSERT OR REPLACE INTO private_keys (fingerprint, encrypted, added_at) VALUES (?, ?, ?)',
        )
        .run(fingerprint, encrypted, this.ctx.now());
    });
  }

  /** The encrypted key, or undefined. */
  get(fingerprint: Uint8Array): Uint8Array | undefined {
    return this.ctx.read(() => {
      const blob = this.ctx.db
        .prepare('SELECT encrypted FROM private_keys WHERE fingerprint = ?')
        .pluck()
        .get(fingerprint);
      return blob instanceof Buffer ? new Uint8Array(blob) : undefined;
    });
  }

  /** The certificates with a stored key, and when each key was stored, oldest first. */
  entries(): { fingerprint: Uint8Array; addedAt: Date }[] {
    return this.ctx.read(() =>
      (
        this.ctx.db
          .prepare('SELECT fingerprint, added_at FROM private_keys ORDER BY added_at, fingerprint')
          .all() as { fingerprint: Buffer; added_at: number }[]
      ).map((r) => ({ fingerprint: new Uint8Array(r.fingerprint), addedAt: new Date(r.added_at) })),
    );
  }

  /** Fingerprints of the certificates with a stored key. */
  list(): Uint8Array[] {
    return this.ctx.read(() =>
      (
        this.ctx.db
          .prepare('SELECT fingerprint FROM private_keys ORDER BY added_at')
          .pluck()
          .all() as Buffer[]
      ).map((b) => new Uint8Array(b)),
    );
  }

  /** Removes a key; true when there was one. */
  delete(fingerprint: Uint8Array): boolean {
    return this.ctx.write(
      () =>
        this.ctx.db.prepare('DELETE FROM private_keys WHERE fingerprint = ?').run(fingerprint)
          .changes > 0,
    );
  }
}
