/**
 * The store digest tree (spec/reconcile.md, "Digest tree"): 256 leaves, each the XOR of
 * the 16-byte item hashes of the entries whose hash ends in the leaf's number; 16 inner
 * nodes, each a hash of 16 leaves; and a root, a hash of the entry count and the 16 inner
 * nodes. Adding or removing an entry XORs one leaf and marks one inner node stale, so
 * the tree follows every write in O(1); a root read rehashes only the stale inner nodes
 * (17 SHA-256 calls over 272 bytes at most). A store can keep the 256 leaves in a table.
 */

import { sha256 } from '@noble/hashes/sha2.js';

/** Leaves, inner nodes and leaves per inner node. */
export const LEAVES = 256;
export const INNER_NODES = 16;
const FANOUT = LEAVES / INNER_NODES;
/** Bytes of an item hash, a leaf, a node and the root. */
export const NODE_BYTES = 16;

const encoder = new TextEncoder();
/** Domain tags of the inner-node and root hash inputs (never written to). */
const NODE_TAG = encoder.encode('certsync/node/1');
const ROOT_TAG = encoder.encode('certsync/root/1');

/** The leaf an item hash belongs to: its last byte. */
export function leafOf(hash: Uint8Array): number {
  return hash[NODE_BYTES - 1] as number;
}

/** An incrementally maintained digest tree. Not shared between stores. */
export class DigestTree {
  /** LEAVES leaves of NODE_BYTES each, in order. */
  readonly leaves = new Uint8Array(LEAVES * NODE_BYTES);
  private inner = new Uint8Array(INNER_NODES * NODE_BYTES);
  private stale = new Array<boolean>(INNER_NODES).fill(true);
  private cachedRoot: Uint8Array | null = null;
  private n = 0;

  /** A copy that shares nothing mutable with this tree. */
  clone(): DigestTree {
    const c = new DigestTree();
    c.leaves.set(this.leaves);
    c.inner = this.inner.slice();
    c.stale = this.stale.slice();
    c.cachedRoot = this.cachedRoot;
    c.n = this.n;
    return c;
  }

  /** Entries the tree covers. */
  get count(): number {
    return this.n;
  }

  /**
   * XORs an item hash into its leaf; `delta` is +1 when the entry was added, -1 when removed.
   *
   * @throws RangeError when the hash is not 16 bytes or the count would go negative
   */
  toggle(hash: Uint8Array, delta: 1 | -1): void {
    if (hash.length !== NODE_BYTES) {
      throw new RangeError(`expected a 16-byte item hash, got ${hash.length} bytes`);
    }
    if (this.n + delta < 0) throw new RangeError('expected a remove to follow an add, got none');
    const leaf = leafOf(hash);
    const o = leaf * NODE_BYTES;
    for (let i = 0; i < NODE_BYTES; i++) {
      this.leaves[o + i] = (this.leaves[o + i] as number) ^ (hash[i] as number);
    }
    this.n += delta;
    this.stale[Math.floor(leaf / FANOUT)] = true;
    this.cachedRoot = null;
  }

  /** The 16-byte inner node `k` (0..15): SHA-256(NODE_TAG || its 16 leaves)[0..16]. */
  innerNode(k: number): Uint8Array {
    if (this.stale[k]) {
      const input = new Uint8Array(NODE_TAG.length + FANOUT * NODE_BYTES);
      input.set(NODE_TAG, 0);
      input.set(
        this.leaves.subarray(k * FANOUT * NODE_BYTES, (k + 1) * FANOUT * NODE_BYTES),
        NODE_TAG.length,
      );
      this.inner.set(sha256(input).subarray(0, NODE_BYTES), k * NODE_BYTES);
      this.stale[k] = false;
    }
    return this.inner.slice(k * NODE_BYTES, (k + 1) * NODE_BYTES);
  }

  /** The 16-byte root: SHA-256(ROOT_TAG || count as 4 bytes big-endian || 16 inner nodes). */
  root(): Uint8Array {
    if (this.cachedRoot === null) {
      const input = new Uint8Array(ROOT_TAG.length + 4 + INNER_NODES * NODE_BYTES);
      input.set(ROOT_TAG, 0);
      new DataView(input.buffer).setUint32(ROOT_TAG.length, this.n);
      for (let k = 0; k < INNER_NODES; k++) {
        input.set(this.innerNode(k), ROOT_TAG.length + 4 + k * NODE_BYTES);
      }
      this.cachedRoot = sha256(input).subarray(0, NODE_BYTES);
    }
    return this.cachedRoot.slice();
  }
}
