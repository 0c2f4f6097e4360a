/**
 * Paired peers: who they are (name, identity public key) and how far each sync got. The
 * pairing itself and what the identity key is (its format) belong to the session layer.
 */
import { CertsyncError } from '../../protocol/errors.ts';
import type { StoreContext } from './context.ts';

/** One paired peer. */
export interface Peer {
  readonly name: string;
  /** The peer's identity public key, as the session layer defines it. */
  readonly identityKey: Uint8Array;
  readonly pairedAt: Date;
  /** Our change counter up to which this peer has received our changes. */
  readonly ackedCounter: number;
  /** The peer's change counter up to which we have its changes. */
  readonly remoteCounter: number;
  readonly lastSyncAt: Date | undefined;
}

interface PeerRow {
  name: string;
  identity_key: Buffer;
  paired_at: number;
  acked_counter: number;
  remote_counter: number;
  last_sync_at: number | null;
}

function fromRow(row: PeerRow): Peer {
  return {
    name: row.name,
    identityKey: new Uint8Array(row.identity_key),
    pairedAt: new Date(row.paired_at),
    ackedCounter: row.acked_counter,
    remoteCounter: row.remote_counter,
    lastSyncAt: row.last_sync_at === null ? undefined : new Date(row.last_sync_at),
  };
}

/** The peers table. */
export class Peers {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  /**
   * Records a newly paired peer.
   *
   * @throws CertsyncError `bad-input` when the name or the key is already paired
   */
  add(name: string, identityKey: Uint8Array): Peer {
    if (name.length === 0 || name.length > 200) {
      throw new RangeError(`expected a peer name of 1 to 200 characters, got ${name.length}`);
    }
    return this.ctx.write(() => {
      const clash = this.ctx.db
        .prepare('SELECT name FROM peers WHERE name = ? OR identity_key = ?')
        .pluck()
        .get(name, identityKey);
      if (clash !== undefined) {
        throw new CertsyncError('bad-input', `peer ${name}: already paired (as ${String(clash)})`);
      }
      this.ctx.db
        .prepare('INSERT INTO peers (name, identity_key, paired_at) VALUES (?, ?, ?)')
        .run(name, identityKey, this.ctx.now());
      return this.get(name) as Peer;
    });
  }

  /** The peer called `name`, or undefined. */
  get(name: string): Peer | undefined {
    return this.ctx.read(() => {
      const row = this.ctx.db.prepare('SELECT * FROM peers WHERE name = ?').get(name) as
        PeerRow | undefined;
      return row && fromRow(row);
    });
  }

  /** The peer with this identity key, or undefined. */
  byKey(identityKey: Uint8Array): Peer | undefined {
    return this.ctx.read(() => {
      const row = this.ctx.db
        .prepare('SELECT * FROM peers WHERE identity_key = ?')
        .get(identityKey) as PeerRow | undefined;
      return row && fromRow(row);
    });
  }

  /** Every peer, by name. */
  list(): Peer[] {
    return this.ctx.read(() =>
      (this.ctx.db.prepare('SELECT * FROM peers ORDER BY name').all() as PeerRow[]).map(fromRow),
    );
  }

  /**
   * Records a finished sync: counters only move forward.
   *
   * @throws CertsyncError `not-found` for an unknown peer
   */
  recordSync(name: string, counters: { ackedCounter: number; remoteCounter: number }): Peer {
    return this.ctx.write(() => {
      const result = this.ctx.db
        .prepare(
          `UPDATE peers SET acked_counter = max(acked_counter, ?),
           remote_counter = max(remote_counter, ?), last_sync_at = ? WHERE name = ?`,
        )
        .run(counters.ackedCounter, counters.remoteCounter, this.ctx.now(), name);
      if (result.changes === 0) throw new CertsyncError('not-found', `peer ${name}: not paired`);
      return this.get(name) as Peer;
    });
  }

  /**
   * Forgets a peer.
   *
   * @throws CertsyncError `not-found`
   */
  remove(name: string): void {
    this.ctx.write(() => {
      const result = this.ctx.db.prepare('DELETE FROM peers WHERE name = ?').run(name);
      if (result.changes === 0) throw new CertsyncError('not-found', `peer ${name}: not paired`);
    });
  }
}
