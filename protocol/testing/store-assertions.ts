/**
 * Shared assertions about stores after a sync (spec/reconcile.md, "Properties"). Each
 * throws an Error that names the first record in which the stores differ. (protocol/ takes
 * no node:* import, so these do not use node:assert.)
 */

import { compareBytes, recordKey, toHex, type Entry } from '../merge/entry.ts';
import type { MemoryStore } from '../merge/memory-store.ts';

/** A record's synced content as one comparable line. */
export function describeEntry(e: Entry): string {
  const der = e.der === null ? '-' : toHex(e.der).slice(0, 16);
  const meta = e.deleted ? '' : ` label=${e.meta.label ?? '-'} pinned=${e.meta.pinned}`;
  return `${recordKey(e)} ${e.deleted ? 'deleted' : 'live'} v${e.clock}/${toHex(e.origin)}${meta} der=${der}`;
}

/** Every record of a store, sorted, as lines. */
export function contentOf(store: MemoryStore): string[] {
  return [...store.liveEntries(), ...store.tombstones()].map(describeEntry).sort();
}

/** The two stores hold the same live entries (with DER and metadata) and tombstones. */
export function assertSameContent(a: MemoryStore, b: MemoryStore): void {
  const ca = contentOf(a);
  const cb = contentOf(b);
  for (let i = 0; i < Math.max(ca.length, cb.length); i++) {
    if (ca[i] !== cb[i]) {
      throw new Error(
        `stores differ at record ${i}:\n  a: ${ca[i] ?? '(none)'}\n  b: ${cb[i] ?? '(none)'}`,
      );
    }
  }
  if (compareBytes(a.digest().root, b.digest().root) !== 0) {
    throw new Error('stores hold the same records but their digest roots differ');
  }
}

/** The store holds no more live entries than its capacity. */
export function assertWithinCapacity(store: MemoryStore): void {
  const { capacity, live } = store.capacityInfo();
  if (capacity !== null && live > capacity) {
    throw new Error(`${live} live entries, over the capacity of ${capacity}`);
  }
  const counted = store.liveEntries().length;
  if (counted !== live) throw new Error(`store says ${live} live entries but holds ${counted}`);
}

/** The record keys of live entries a store holds. */
export function liveKeys(store: MemoryStore): Set<string> {
  return new Set(store.liveEntries().map((e) => recordKey(e)));
}
