/**
 * A {@link SyncStore} wrapper that checks, after every write a reconcile makes, that the
 * store is within its capacity: what a reader could see between two writes.
 */

import type { Entry, EntryKind } from '../merge/entry.ts';
import type { MemoryStore } from '../merge/memory-store.ts';
import type {
  ApplyContext,
  ApplyOutcome,
  CapacityInfo,
  RoomCheck,
  StoredItem,
  SyncStore,
} from '../merge/store.ts';
import type { StoreDigest } from '../reconcile/messages.ts';
import type { Cells } from '../reconcile/riblt.ts';
import { assertWithinCapacity } from './store-assertions.ts';

/** Delegates to a memory store and checks its capacity after each `apply`. */
export class CapacityCheckedStore implements SyncStore {
  /** Writes checked so far. */
  writes = 0;

  constructor(readonly inner: MemoryStore) {}

  get origin(): Uint8Array {
    return this.inner.origin;
  }

  digest(): StoreDigest {
    return this.inner.digest();
  }

  sketchCells(from: number, to: number): Cells | null {
    return this.inner.sketchCells(from, to);
  }

  sketchSyndromes(t: number): Float64Array | null {
    return this.inner.sketchSyndromes(t);
  }

  items(): Iterable<StoredItem> {
    return this.inner.items();
  }

  findByKey(key: number): readonly StoredItem[] {
    return this.inner.findByKey(key);
  }

  get(kind: EntryKind, fingerprint: Uint8Array): Entry | null {
    return this.inner.get(kind, fingerprint);
  }

  capacityInfo(): CapacityInfo {
    return this.inner.capacityInfo();
  }

  checkRoom(ctx: ApplyContext): RoomCheck {
    return this.inner.checkRoom(ctx);
  }

  apply(entry: Entry, ctx: ApplyContext): ApplyOutcome {
    const outcome = this.inner.apply(entry, ctx);
    this.writes += 1;
    assertWithinCapacity(this.inner);
    return outcome;
  }
}
