/**
 * What every conformance case is given: the implementation under test, a seeded random
 * source, a pool of distinct certificates, and short ways to set up a store and open a
 * session with the runner as the peer on the wire.
 */
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesOf, hexOf } from '../../protocol/wire/hex.ts';
import type { Identity } from '../../node/keys/identity.ts';
import { CertificateFactory } from '../../node/testing/certificate-factory.ts';
import type { Impl, Json } from './impl.ts';
import { WirePeer, type PeerOptions } from './wire-peer.ts';

/** One case of the suite. */
export interface Case {
  /** Stable name, `section/what`, e.g. `versions/no-overlap`. */
  readonly name: string;
  /** The requirement ids it checks (conformance/requirements.json). */
  readonly covers: readonly string[];
  /** A case that takes many seconds (1,000 entries and more): left out of `--quick` runs. */
  readonly large?: boolean;
  run(ctx: Context): Promise<void>;
}

/** A store as the control protocol describes it (conformance/README.md, `load`). */
export interface StoreSpec {
  /** Numbers of certificates from the pool. */
  readonly certs?: readonly number[];
  readonly pinned?: readonly number[];
  /** Certificates imported and then deleted: they stay as tombstones. */
  readonly deleted?: readonly number[];
  readonly capacity?: number | null;
  readonly policy?: 'lru' | 'alert' | 'refuse';
}

/** The adapter's answer to `store`. */
export interface StoreReport {
  readonly capacity: number | null;
  readonly policy: string;
  readonly certificates: readonly { id: string; label: string | null; pinned: boolean }[];
  readonly tombstones: readonly string[];
  readonly peers: readonly string[];
}

/** A small, fast, seeded generator (mulberry32): the same seed gives the same run. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** `k` distinct numbers from [0, n), in random order. */
  sample(n: number, k: number): number[] {
    const picked = new Set<number>();
    while (picked.size < Math.min(k, n)) picked.add(this.int(n));
    return [...picked];
  }
}

/** Certificates made by openssl for the cases that need a particular one. */
export interface SpecialCerts {
  /** Expired, with the same subject and e-mail address as `current`. */
  readonly expired: Uint8Array;
  /** Valid now. */
  readonly current: Uint8Array;
  /** Over 4,096 bytes (hundreds of e-mail addresses): it fits no 4,096-byte frame. */
  readonly large: Uint8Array;
}

/** Distinct certificates by number; DER and id are computed once. */
export class CertPool {
  private readonly factory: CertificateFactory;
  private readonly cache = new Map<number, { der: Uint8Array; id: string }>();
  readonly special: SpecialCerts;
  constructor(template: Uint8Array, special: SpecialCerts) {
    this.factory = new CertificateFactory(template);
    this.special = special;
  }
  private get(n: number): { der: Uint8Array; id: string } {
    let c = this.cache.get(n);
    if (!c) {
      const der = this.factory.make(n);
      c = { der, id: hexOf(sha256(der)) };
      this.cache.set(n, c);
    }
    return c;
  }
  der(n: number): Uint8Array {
    return this.get(n).der;
  }
  /** The DER in hex (node's hex codec: large stores send megabytes of it). */
  derHex(n: number): string {
    return Buffer.from(this.get(n).der).toString('hex');
  }
  /** The item id (SHA-256 of the DER) in hex. */
  id(n: number): string {
    return this.get(n).id;
  }
  /**
   * Another certificate with the same subject and e-mail address as `n`: its last signature
   * byte differs (the factory's copies carry no valid signature anyway).
   */
  twin(n: number): Uint8Array {
    const der = this.der(n).slice();
    der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0x01;
    return der;
  }
}

/** See the module comment. */
export class Context {
  readonly impl: Impl;
  readonly rng: Rng;
  readonly certs: CertPool;
  readonly identity: Identity;
  /** The implementation's identity key for the current store. */
  implKey: Uint8Array = new Uint8Array(32);
  private peers: WirePeer[] = [];
  private readonly spawn: () => Impl;
  private other: Impl | null = null;
  private stopped = false;

  /** `spawn` starts another instance of the implementation, for store-to-store cases. */
  constructor(impl: Impl, rng: Rng, certs: CertPool, identity: Identity, spawn: () => Impl) {
    this.impl = impl;
    this.rng = rng;
    this.certs = certs;
    this.identity = identity;
    this.spawn = spawn;
  }

  /** A second instance of the implementation, started on first use, reset for the case. */
  async second(): Promise<Impl> {
    // A case that outlived its time limit must not start a process after the run ended.
    if (this.stopped) throw new Error('the run is over');
    this.other ??= this.spawn();
    await this.other.request('reset');
    return this.other;
  }

  /** Stops the second instance, if one was started. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.other?.stop();
    this.other = null;
  }

  /** A new empty store in the implementation, with the runner paired as `runner`. */
  async fresh(spec: StoreSpec = {}, pairRunner = true): Promise<StoreReport> {
    await this.impl.request('reset');
    const info = (await this.impl.request('info')) as { identityKey: string };
    this.implKey = bytesOf(info.identityKey);
    const pinned = new Set(spec.pinned ?? []);
    const all = [...(spec.certs ?? []), ...(spec.deleted ?? [])];
    const args: { [key: string]: Json } = {
      certificates: all.map((n) => ({ der: this.certs.derHex(n), pinned: pinned.has(n) })),
      delete: (spec.deleted ?? []).map((n) => this.certs.id(n)),
      peers: pairRunner ? [{ name: 'runner', key: hexOf(this.identity.x25519PublicKey) }] : [],
    };
    if (spec.capacity !== undefined || spec.policy !== undefined) {
      args.capacity = spec.capacity ?? null;
      args.policy = spec.policy ?? 'refuse';
    }
    return (await this.impl.request('load', args)) as unknown as StoreReport;
  }

  /** The implementation's store now. */
  async store(): Promise<StoreReport> {
    return (await this.impl.request('store')) as unknown as StoreReport;
  }

  /** Ids (hex) of the live certificates the implementation holds, sorted. */
  async liveIds(): Promise<string[]> {
    return (await this.store()).certificates.map((c) => c.id).sort();
  }

  /** Asks the implementation to listen and returns its port. */
  async listen(args: { [key: string]: Json } = {}): Promise<number> {
    const r = (await this.impl.request('listen', args)) as { port: number };
    return r.port;
  }

  /** Listens and connects the runner as a paired peer; the hellos and handshake are done. */
  async open(
    o: Partial<PeerOptions> = {},
    listenArgs: { [key: string]: Json } = {},
  ): Promise<WirePeer> {
    const port = await this.listen(listenArgs);
    const peer = await WirePeer.open({
      port,
      identity: this.identity,
      adapterKey: this.implKey,
      ...o,
    });
    this.peers.push(peer);
    return peer;
  }

  /** Asks the implementation to act on the open session (`act` of the control protocol). */
  act(action: string, args: { [key: string]: Json } = {}): Promise<Json> {
    return this.impl.request('act', { action, ...args });
  }

  /** How the implementation's session ended, waiting at most `ms`. */
  async ended(ms = 5_000): Promise<{ ended: boolean; error?: string | null }> {
    return (await this.impl.request('wait', { timeoutMs: ms })) as {
      ended: boolean;
      error?: string | null;
    };
  }

  /** Reads the next frame and asserts it is a fatal `error` with `code`, then the close. */
  async expectFatal(peer: WirePeer, code: string): Promise<void> {
    const m = await peer.message();
    assert.equal(m.kind, 'message', `expected an error frame, got a ${m.kind} frame`);
    if (m.kind !== 'message') return;
    assert.equal(m.message.type, 'error', `expected error ${code}, got ${m.message.type}`);
    if (m.message.type !== 'error') return;
    assert.equal(m.message.code, code, `expected error code ${code}`);
    assert.equal(m.message.fatal, true, 'expected the error to be fatal');
    assert.equal(await peer.next(), 'closed', 'expected the link to close after a fatal error');
  }

  /** Closes every connection the case opened. */
  async cleanup(): Promise<void> {
    for (const p of this.peers) p.reset();
    this.peers = [];
  }
}
