/**
 * The store's long-term identity: an X25519 key pair (key agreement) and an Ed25519 key pair
 * (signatures), made once when the store is created. What they are used for (pairing,
 * session handshakes) is the session layer's business; this table only keeps them.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import type { Db } from './database.ts';
import type { StoreContext } from './context.ts';

/** The identity key pairs of a store. Private keys never leave the machine. */
export interface StoreIdentity {
  readonly x25519PublicKey: Uint8Array;
  readonly x25519PrivateKey: Uint8Array;
  readonly ed25519PublicKey: Uint8Array;
  readonly ed25519PrivateKey: Uint8Array;
  readonly createdAt: Date;
}

/** Makes and saves new identity key pairs; for the transaction that creates a store. */
export function createIdentity(db: Db, now: number): void {
  const x = x25519.keygen();
  const e = ed25519.keygen();
  db.prepare(
    `INSERT INTO identity (id, x25519_public, x25519_private, ed25519_public, ed25519_private,
     created_at) VALUES (1, ?, ?, ?, ?, ?)`,
  ).run(x.publicKey, x.secretKey, e.publicKey, e.secretKey, now);
}

interface IdentityRow {
  x25519_public: Buffer;
  x25519_private: Buffer;
  ed25519_public: Buffer;
  ed25519_private: Buffer;
  created_at: number;
}

/** Reads the identity of the store behind `ctx`. */
export function readIdentity(ctx: StoreContext): StoreIdentity {
  return ctx.read(() => {
    const row = ctx.db.prepare('SELECT * FROM identity WHERE id = 1').get() as IdentityRow;
    return {
      x25519PublicKey: new Uint8Array(row.x25519_public),
      x25519PrivateKey: new Uint8Array(row.x25519_private),
      ed25519PublicKey: new Uint8Array(row.ed25519_public),
      ed25519PrivateKey: new Uint8Array(row.ed25519_private),
      createdAt: new Date(row.created_at),
    };
  });
}
