/**
 * One session with a peer over one link, from hello to goodbye: the hellos in the clear,
 * the secure handshake (pairing when asked), then the session engine driven against the
 * SQLite store, with every user request as a promise.
 *
 * The engine is pure (protocol/session/engine.ts): this class feeds it frames, ticks and
 * commands one at a time, sends the frames it returns in order, and settles the promises of
 * the requests its effects answer.
 */
import { CertsyncError, isCertsyncError } from '../../protocol/errors.ts';
import type { ListOrder, TransferMode, ValidityResult } from '../../protocol/messages/catalog.ts';
import { decodeFrame, encodeMessage } from '../../protocol/messages/codec.ts';
import type { ItemResult, ListEntry } from '../../protocol/messages/records.ts';
import { Reconciler, type ReconcileReport } from '../../protocol/reconcile/reconciler.ts';
import { createSession, RECONCILE_CAPABILITY, step } from '../../protocol/session/engine.ts';
import type { SessionEnv } from '../../protocol/session/turn.ts';
import {
  DEFAULT_TIMEOUTS,
  type Command,
  type Effect,
  type SessionState,
  type SessionTimeouts,
} from '../../protocol/session/types.ts';
import { DEFAULT_LIMITS, MIN_FRAME_BYTES, withFrameLimit } from '../../protocol/wire/limits.ts';
import { SUPPORTED_VERSIONS } from '../../protocol/wire/version.ts';
import { isLinkError, silentLogger, type Link, type Logger } from '../../transports/link.ts';
import {
  acceptSecure,
  connectSecure,
  type InitiatorIntent,
  type ResponderPairing,
  type SecureSession,
} from '../keys/secure-link.ts';
import { storeIdentity, storePeerBook } from '../keys/store-peer-book.ts';
import type { Store } from '../store/index.ts';
import { DeadlineLink } from './deadline-link.ts';
import type { SessionKeys } from './session-keys.ts';
import { SessionStore } from './session-store.ts';

/** Default bound of a handshake after the hellos, in ms. */
export const HANDSHAKE_WAIT_MS = 30_000;
/** Default bound of a handshake that may pair by code: two users read and type a code. */
export const CODE_PAIRING_WAIT_MS = 300_000;

/** Room a sealed record takes beyond its body (type byte, tag), with a margin. */
const RECORD_OVERHEAD = 64;
/** Entries per listing page asked for. */
const PAGE = 512;

/** The peer's hello, as the user sees it. */
export interface PeerInfo {
  /** The name this side paired it under. */
  readonly name: string;
  /** The name the peer gives itself in its hello, if any. */
  readonly calls: string | undefined;
  readonly certificates: number;
  readonly crls: number;
  readonly capacity: number | undefined;
  readonly free: number | undefined;
  readonly newlyPaired: boolean;
}

/** What one transfer did. */
export interface TransferSummary {
  readonly results: readonly ItemResult[];
  readonly aborted: boolean;
  readonly removed: number;
}

/** A transfer's progress, for the progress bar. */
export interface TransferProgress {
  readonly direction: 'sent' | 'received';
  /** Items acknowledged (sent) or applied (received) so far. */
  readonly items: number;
  /** Items the transfer carries in all, when known. */
  readonly total: number | undefined;
}

/** Asks the user which of the peer's candidates to evict for `incoming`; null aborts. */
export type OverflowChooser = (
  incoming: Uint8Array,
  candidates: readonly ListEntry[],
) => Promise<Uint8Array | null>;

/** Settings of one session. */
export interface PeerSessionOptions {
  readonly store: Store;
  /** Start a reconcile right after the hellos (the `auto` setting `sync`). */
  readonly autoSync: boolean;
  /** The name this side gives itself in its hello. */
  readonly name?: string;
  readonly timeouts?: Partial<SessionTimeouts>;
  /** Hex ids of certificates a reconcile does not offer (found invalid before the session). */
  readonly withhold?: ReadonlySet<string>;
  /**
   * How long to wait for the peer's hello, its first frame (default: the hello timeout, plus
   * 5 s); null waits without limit (a serial line, where that is the wait for a peer).
   */
  readonly helloWaitMs?: number | null;
  /**
   * How long the whole handshake after the hellos may take: default
   * {@link HANDSHAKE_WAIT_MS}, or {@link CODE_PAIRING_WAIT_MS} when a pairing by code may
   * happen, since both users then compare codes.
   */
  readonly handshakeWaitMs?: number;
  /**
   * Once the session is up, how long it may go without a frame from the peer while this side
   * waits on nothing of its own (no request, transfer or reconcile it times); it then says
   * goodbye and ends with `timeout`. Default: no limit, since the side that connected drives
   * the session; a side that serves peers one after another sets it.
   */
  readonly idleMs?: number;
  /** Called when the peer's store is full under policy `alert`; default: abort. */
  readonly chooseVictim?: OverflowChooser;
  readonly onProgress?: (p: TransferProgress) => void;
  /** Called for every validity report the peer sends. */
  readonly onValidityReport?: (results: readonly ValidityResult[]) => void;
  /**
   * The private keys this session may offer and take (node/client/session-keys.ts); without
   * it, the session lists, sends and stores no private key.
   */
  readonly keys?: SessionKeys;
  readonly logger?: Logger;
}

/** The initiator's side: what it wants from the handshake. */
export interface ConnectOptions extends PeerSessionOptions {
  readonly intent: InitiatorIntent;
}

/** The responder's side: whether it accepts a pairing on this connection. */
export interface AcceptOptions extends PeerSessionOptions {
  readonly pairing?: ResponderPairing;
}

interface Waiter {
  /** The request or transfer id it waits on, so that a refusal of it rejects the waiter. */
  readonly requestId?: number;
  match(e: Effect): boolean;
  resolve(e: Effect): void;
  reject(error: unknown): void;
}

/**
 * Opens a session as the side that connected.
 *
 * @throws CertsyncError from the handshake (`not-paired`, `peer-key-mismatch`,
 *   `handshake-failed`, `pairing-rejected`, `timeout`, `link-closed`); the link is closed
 */
export function connectSession(link: Link, options: ConnectOptions): Promise<PeerSession> {
  return PeerSession.open(link, options, 'initiator');
}

/**
 * Opens a session as the side that waited.
 *
 * @throws CertsyncError as {@link connectSession}
 */
export function acceptSession(link: Link, options: AcceptOptions): Promise<PeerSession> {
  return PeerSession.open(link, options, 'responder');
}

/** A running session; see the module comment. */
export class PeerSession {
  readonly peer: PeerInfo;
  readonly store: SessionStore;
  private state: SessionState;
  private readonly env: SessionEnv;
  private readonly secure: SecureSession;
  private readonly options: PeerSessionOptions;
  private readonly log: Logger;
  private waiters: Waiter[] = [];
  private sending: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private failure: unknown = null;
  private readonly ended: Promise<CertsyncError | null>;
  private endWith!: (error: CertsyncError | null) => void;
  private transferTotal = new Map<number, number>();
  /** Transfers and deletes this session ran; a reconcile must come before them. */
  private transfers = 0;
  private counted = new Map<number, number>();
  /** This store's change counter when the session read it (see recordSync). */
  private readonly counterAtStart: number;
  /** True once this side's reconcile finished. */
  private reconcileFinished = false;
  /** True once the session closed on the peer's goodbye (its own or its answer to ours). */
  private peerSaidGoodbye = false;
  /** When the peer's last frame arrived, for the idle limit. */
  private lastHeard = Date.now();
  private idleTimer: NodeJS.Timeout | undefined;
  /** Why this side ended a session that then closed cleanly (the idle limit). */
  private cutOff: CertsyncError | null = null;

  private constructor(
    secure: SecureSession,
    state: SessionState,
    env: SessionEnv,
    options: PeerSessionOptions,
    peer: PeerInfo,
    counterAtStart: number,
  ) {
    this.counterAtStart = counterAtStart;
    this.secure = secure;
    this.state = state;
    this.env = env;
    this.store = env.store as SessionStore;
    this.options = options;
    this.peer = peer;
    this.log = options.logger ?? silentLogger;
    this.ended = new Promise((resolve) => (this.endWith = resolve));
  }

  /** Runs hellos and handshake; the engine takes the peer's hello once the session is up. */
  static async open(
    link: Link,
    options: ConnectOptions | AcceptOptions,
    role: 'initiator' | 'responder',
  ): Promise<PeerSession> {
    // Read before the store itself, so that no change the session did not see counts as seen.
    const counterAtStart = options.store.sync.counter();
    const sessionStore = new SessionStore(options.store, 'peer', options.withhold, options.keys);
    const env: SessionEnv = { store: sessionStore, reconciler: new Reconciler(sessionStore) };
    const frameLimit = Math.max(
      MIN_FRAME_BYTES,
      Math.min(DEFAULT_LIMITS.maxFrameBytes, link.maxFrameSize - RECORD_OVERHEAD),
    );
    let state = createSession({
      versions: SUPPORTED_VERSIONS,
      capabilities: [RECONCILE_CAPABILITY],
      limits: withFrameLimit(DEFAULT_LIMITS, frameLimit),
      sync: options.autoSync ? 'auto' : 'on-request',
      ...(options.name !== undefined ? { name: options.name } : {}),
      timeouts: { ...DEFAULT_TIMEOUTS, ...options.timeouts },
      // Only a paired peer gets past the handshake below, so the engine never sees another.
      standing: 'paired',
      exportPrivateKeys: options.keys?.offering ?? false,
    });
    const started = step(state, { kind: 'start', now: Date.now() }, env);
    state = started.state;
    const ownHello = started.frames[0] as Uint8Array;
    const helloWait =
      options.helloWaitMs === undefined
        ? (options.timeouts?.hello ?? DEFAULT_TIMEOUTS.hello) + 5_000
        : options.helloWaitMs;
    const codePairing =
      role === 'initiator'
        ? (options as ConnectOptions).intent.kind === 'pair'
        : (options as AcceptOptions).pairing?.kind === 'pair';
    const handshakeWait =
      options.handshakeWaitMs ?? (codePairing ? CODE_PAIRING_WAIT_MS : HANDSHAKE_WAIT_MS);
    const bounded = new DeadlineLink(link);
    let secure: SecureSession;
    let peerHello: Uint8Array;
    try {
      await link.send(ownHello);
      peerHello = await receiveHello(bounded, helloWait, state);
      bounded.setDeadline(Date.now() + handshakeWait, `the handshake (${handshakeWait} ms)`);
      const common = {
        link: bounded,
        identity: storeIdentity(options.store),
        peers: storePeerBook(options.store),
        ...(options.logger ? { logger: options.logger } : {}),
      };
      secure =
        role === 'initiator'
          ? await connectSecure({
              ...common,
              hellos: { initiatorHello: ownHello, responderHello: peerHello },
              intent: (options as ConnectOptions).intent,
            })
          : await acceptSecure({
              ...common,
              hellos: { initiatorHello: peerHello, responderHello: ownHello },
              ...((options as AcceptOptions).pairing
                ? { pairing: (options as AcceptOptions).pairing }
                : {}),
            });
    } catch (error) {
      await link.close().catch(() => undefined);
      throw asCertsyncError(error);
    }
    bounded.setDeadline(null);
    const session = new PeerSession(
      secure,
      state,
      env,
      options,
      {
        name: secure.peer.name,
        calls: undefined,
        certificates: 0,
        crls: 0,
        capacity: undefined,
        free: undefined,
        newlyPaired: secure.newlyPaired,
      },
      counterAtStart,
    );
    const ready = session.waitFor((e) => e.kind === 'ready');
    session.feed({ kind: 'frame', now: Date.now(), frame: peerHello });
    void session.readLoop();
    const hello = await ready;
    if (hello.kind === 'ready') {
      const s = hello.peer.summary;
      Object.assign(session.peer, {
        calls: hello.peer.name,
        certificates: s.certificates,
        crls: s.crls,
        capacity: s.capacity,
        free: s.free,
      });
    }
    session.armIdle();
    return session;
  }

  /** Resolves when the session is over: null after a clean goodbye, else why it ended. */
  whenEnded(): Promise<CertsyncError | null> {
    return this.ended;
  }

  /** True while a reconcile (started by either side) has not finished. */
  get reconcileRunning(): boolean {
    return this.state.reconcile === 'running';
  }

  /**
   * True when this side's reconcile finished but the session ended without the peer's
   * goodbye (the link closed or the goodbye timed out): the peer may not have applied the
   * last entries this side sent, so the two stores are not known to agree. A rerun finishes.
   */
  get reconcileUnconfirmed(): boolean {
    return this.reconcileFinished && !this.peerSaidGoodbye && this.state.phase === 'closed';
  }

  /** True while both sides are talking. */
  get open(): boolean {
    return this.state.phase === 'ready';
  }

  /**
   * The peer's whole listing in `order` (`lacking`: only what this side lacks, after a
   * reconcile).
   *
   * @throws CertsyncError when the session ends first or the peer refuses
   */
  async list(order: ListOrder, filter: 'all' | 'lacking' = 'all'): Promise<ListEntry[]> {
    const out: ListEntry[] = [];
    let cursor: Uint8Array | undefined;
    for (;;) {
      const id = this.state.nextId;
      const page = this.waitFor((e) => e.kind === 'list-page' && e.page.id === id, id);
      this.command({ op: 'list', order, filter, limit: PAGE, ...(cursor ? { cursor } : {}) });
      const e = await page;
      if (e.kind !== 'list-page') break;
      out.push(...e.page.entries);
      cursor = e.page.next;
      if (!cursor) break;
    }
    return out;
  }

  /**
   * The first `limit` entries of the peer's listing in `order`, and how many it holds.
   *
   * @throws CertsyncError when the session ends first or the peer refuses
   */
  async listFirst(
    order: ListOrder,
    limit: number,
  ): Promise<{ entries: ListEntry[]; total: number }> {
    const id = this.state.nextId;
    const page = this.waitFor((e) => e.kind === 'list-page' && e.page.id === id, id);
    this.command({ op: 'list', order, filter: 'all', limit });
    const e = await page;
    return e.kind === 'list-page'
      ? { entries: [...e.page.entries], total: e.page.total }
      : { entries: [], total: 0 };
  }

  /**
   * Sends the items `ids` (hex) to the peer under `mode`.
   *
   * @throws CertsyncError when the session ends first
   */
  async push(ids: readonly string[], mode: TransferMode): Promise<TransferSummary> {
    const id = this.state.nextId;
    this.transferTotal.set(id, ids.length);
    this.transfers++;
    const done = this.collect(id, 'sent');
    this.command({ op: 'push', mode, ids });
    return done;
  }

  /**
   * Asks the peer for items (`ids`, else everything it holds) to store under `mode`.
   *
   * @throws CertsyncError when the session ends first or the peer refuses
   */
  async pull(mode: TransferMode, ids?: readonly Uint8Array[]): Promise<TransferSummary> {
    const id = this.state.nextId;
    if (ids) this.transferTotal.set(id, ids.length);
    this.transfers++;
    const done = this.collect(id, 'received');
    this.command({ op: 'pull', mode, filter: 'all', ...(ids ? { ids } : {}) });
    return done;
  }

  /**
   * Deletes items on the peer.
   *
   * @throws CertsyncError when the session ends first
   */
  async deleteOnPeer(ids: readonly Uint8Array[]): Promise<readonly ItemResult[]> {
    const id = this.state.nextId;
    this.transfers++;
    const result = this.waitFor((e) => e.kind === 'delete-result' && e.result.id === id, id);
    this.command({ op: 'delete', ids });
    const e = await result;
    return e.kind === 'delete-result' ? e.result.results : [];
  }

  /**
   * A two-way reconcile: both stores end with the same content, within capacity. When either
   * side's setting started one right after the hellos, this waits for that one.
   *
   * @throws CertsyncError when the session ends first, or the reconcile fails
   */
  async reconcile(): Promise<ReconcileReport> {
    if (this.transfers > 0 && this.state.reconcile === 'idle') {
      // Shortcoming: both sides reconcile from the digests of their hellos, so a store that
      // changed since then cannot be reconciled in the same session; open a new one.
      throw new RangeError(
        `expected a reconcile before any transfer of the session, got ${this.transfers} before`,
      );
    }
    const done = this.waitFor((e) => e.kind === 'reconciled');
    if (this.state.reconcile === 'idle') this.command({ op: 'reconcile' });
    else if (this.state.reconcile === 'finished') {
      this.waiters = this.waiters.filter((w) => !w.match({ kind: 'reconciled' } as Effect));
      return (this.env.reconciler as Reconciler).report();
    }
    await done;
    await this.drain();
    return (this.env.reconciler as Reconciler).report();
  }

  /**
   * Notes on the peer's row how far it has this store's changes, for tombstone compaction:
   * up to the counter when the session read the store, since the reconcile offered every
   * change made until then. Called only once the peer is known to have taken them: the
   * reconcile finished here and the session then ended by a goodbye the peer sent or
   * answered (the peer handles frames in order, so it had applied everything this side sent
   * before). A session cut after its reconcile records nothing; the next one does.
   */
  private recordSync(): void {
    const peers = this.store.store.peers;
    const row = peers.get(this.peer.name);
    if (!row) return;
    peers.recordSync(this.peer.name, {
      ackedCounter: Math.max(row.ackedCounter, this.counterAtStart),
      remoteCounter: row.remoteCounter,
    });
  }

  /** Tells the peer what this side's check found about the peer's items. */
  reportValidity(results: readonly ValidityResult[]): void {
    this.command({ op: 'report-validity', checkedAt: Date.now(), results });
  }

  /** Ends the session cleanly and waits for the link to close. */
  async goodbye(reason?: string): Promise<void> {
    if (this.state.phase === 'ready') {
      this.command({ op: 'goodbye', ...(reason !== undefined ? { reason } : {}) });
    }
    await this.ended;
  }

  /** Ends the session at once, without a goodbye (the user interrupted). */
  async abort(): Promise<void> {
    this.finish(new CertsyncError('aborted', 'the session was aborted'));
    await this.secure.close().catch(() => undefined);
  }

  // ---- engine driving ----

  private command(command: Command): void {
    if (this.failure !== null) throw this.failure;
    this.feed({ kind: 'command', now: Date.now(), command });
  }

  private feed(event: Parameters<typeof step>[1]): void {
    const r = step(this.state, event, this.env);
    this.state = r.state;
    // A clean close on a frame is the peer's goodbye (its own or its answer to ours); on a
    // tick it is our goodbye timing out, which proves nothing about the peer.
    const confirmed = event.kind === 'frame';
    if (confirmed && r.effects.some(isCleanClose)) {
      this.peerSaidGoodbye = true;
      if (this.reconcileFinished) this.recordSync();
    }
    for (const frame of r.frames) {
      this.sending = this.sending.then(() => this.secure.send(frame));
    }
    this.sending = this.sending.catch((error: unknown) => this.onLinkFailure(error));
    for (const e of r.effects) this.onEffect(e);
  }

  private onEffect(e: Effect): void {
    switch (e.kind) {
      case 'set-timer':
        clearTimeout(this.timer);
        this.timer = undefined;
        if (e.at !== null) {
          const wait = Math.max(0, e.at - Date.now()) + 5;
          this.timer = setTimeout(() => this.feed({ kind: 'tick', now: Date.now() }), wait);
          this.timer.unref();
        }
        break;
      case 'close':
        this.finish(e.error);
        void this.sending.then(() => this.secure.close()).catch(() => undefined);
        break;
      case 'overflow-alert':
        void this.answerOverflow(e.alert.incoming, e.alert.candidates);
        break;
      case 'items-acked':
      case 'items-received':
        if (e.kind === 'items-acked') this.options.keys?.acknowledged(e.results);
        this.progress(e.transfer, e.kind === 'items-acked' ? 'sent' : 'received', e.results);
        break;
      case 'reconciled':
        this.reconcileFinished = true;
        break;
      case 'validity-report':
        this.options.onValidityReport?.(e.report.results);
        break;
      case 'peer-error':
        this.log.warn(`peer error ${e.error.code}: ${e.error.message}`);
        if (!e.error.fatal && e.error.inReplyTo !== undefined) {
          const err = new CertsyncError(e.error.code, `the peer refused: ${e.error.message}`);
          this.rejectRequest(e.error.inReplyTo, err);
        }
        break;
      default:
        break;
    }
    for (const w of this.waiters.filter((x) => x.match(e))) {
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(e);
    }
  }

  private async answerOverflow(incoming: Uint8Array, candidates: readonly ListEntry[]) {
    const choose = this.options.chooseVictim;
    let victim: Uint8Array | null = null;
    try {
      victim = choose ? await choose(incoming, candidates) : null;
    } catch {
      victim = null;
    }
    if (this.state.phase === 'ready') this.command({ op: 'overflow-choice', victim });
  }

  private progress(id: number, direction: 'sent' | 'received', results: readonly ItemResult[]) {
    const n = (this.counted.get(id) ?? 0) + results.length;
    this.counted.set(id, n);
    this.options.onProgress?.({ direction, items: n, total: this.transferTotal.get(id) });
  }

  private async readLoop(): Promise<void> {
    try {
      for (;;) {
        const frame = await this.secure.receive();
        if (this.state.phase === 'closed') return;
        if (frame === null) {
          this.feed({ kind: 'link-closed', now: Date.now() });
          return;
        }
        this.lastHeard = Date.now();
        this.feed({ kind: 'frame', now: Date.now(), frame });
      }
    } catch (error) {
      this.onLinkFailure(error);
    }
  }

  private onLinkFailure(error: unknown): void {
    if (this.state.phase === 'closed') return;
    this.log.debug(`link failed: ${String(error)}`);
    const failure = asCertsyncError(error);
    this.failure = failure;
    // The session ends with the link's own code (`decrypt-failed` for a tampered record);
    // the engine, told next, can only say `link-closed`.
    this.finish(failure);
    this.feed({ kind: 'link-closed', now: Date.now() });
  }

  /** Starts or restarts the idle limit's timer (options.idleMs). */
  private armIdle(): void {
    const ms = this.options.idleMs;
    if (ms === undefined || this.state.phase !== 'ready') return;
    clearTimeout(this.idleTimer);
    const wait = Math.max(0, this.lastHeard + ms - Date.now()) + 5;
    this.idleTimer = setTimeout(() => this.onIdle(ms), wait);
    this.idleTimer.unref();
  }

  /**
   * The idle limit: while the engine times a wait of its own it governs, and the idle time
   * counts again from its end; otherwise a peer silent for `ms` gets a goodbye.
   */
  private onIdle(ms: number): void {
    this.idleTimer = undefined;
    if (this.state.phase !== 'ready') return;
    if (this.timer !== undefined) this.lastHeard = Date.now();
    if (Date.now() - this.lastHeard < ms) return this.armIdle();
    this.cutOff = new CertsyncError('timeout', `the peer sent nothing for ${ms} ms`);
    this.log.info(`peer idle for ${ms} ms: saying goodbye`);
    this.command({ op: 'goodbye', reason: `idle for ${Math.round(ms / 1000)} s` });
  }

  private finish(error: CertsyncError | null): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    error ??= this.cutOff;
    const why = error ?? new CertsyncError('link-closed', 'the session ended');
    if (error !== null && this.failure === null) this.failure = error;
    for (const w of this.waiters) w.reject(why);
    this.waiters = [];
    this.endWith(error);
  }

  private rejectRequest(id: number, error: CertsyncError): void {
    const hit = this.waiters.filter((w) => w.requestId === id);
    for (const w of hit) w.reject(error);
    this.waiters = this.waiters.filter((w) => !hit.includes(w));
  }

  /** A promise for the first effect matching `match`; it rejects when the session ends. */
  private waitFor(match: (e: Effect) => boolean, requestId?: number): Promise<Effect> {
    if (this.state.phase === 'closed') {
      return Promise.reject(
        this.failure ?? new CertsyncError('link-closed', 'the session is over'),
      );
    }
    return new Promise((resolve, reject) => {
      this.waiters.push({
        match,
        resolve,
        reject,
        ...(requestId !== undefined ? { requestId } : {}),
      });
    });
  }

  private async collect(id: number, direction: 'sent' | 'received'): Promise<TransferSummary> {
    const results: ItemResult[] = [];
    const kind = direction === 'sent' ? 'items-acked' : 'items-received';
    const gather: Waiter = {
      match: (e) => {
        if (e.kind === kind && e.transfer === id) results.push(...e.results);
        return false;
      },
      resolve: () => undefined,
      reject: () => undefined,
    };
    this.waiters.push(gather);
    try {
      const e = await this.waitFor(
        (x) => x.kind === 'transfer-done' && x.direction === direction && x.done.id === id,
        id,
      );
      const done = e.kind === 'transfer-done' ? e.done : { aborted: true, removed: 0 };
      await this.drain();
      return { results, aborted: done.aborted, removed: done.removed };
    } finally {
      this.waiters = this.waiters.filter((w) => w !== gather);
    }
  }

  /** Waits until the frames queued so far have been handed to the link. */
  private async drain(): Promise<void> {
    await this.sending;
  }
}

function isCleanClose(e: Effect): boolean {
  return e.kind === 'close' && e.error === null;
}

function asCertsyncError(error: unknown): CertsyncError {
  if (isCertsyncError(error)) return error;
  if (isLinkError(error)) {
    return new CertsyncError(error.code, `the link failed: ${error.message}`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new CertsyncError('internal', message, { cause: error });
}

/**
 * The peer's hello, waited for at most `waitMs` (null: without limit) and decoded before the
 * handshake, so that a peer that sends anything else is cut off at once. A failure of this
 * side is told to the peer in the clear, as the engine tells it before the hellos
 * (spec/protocol.md, "Timeouts"); an error the peer sent instead of its hello is its own.
 *
 * @throws CertsyncError `timeout`, `link-closed`, a decoding error, or the peer's error
 */
async function receiveHello(
  link: DeadlineLink,
  waitMs: number | null,
  state: SessionState,
): Promise<Uint8Array> {
  const limits = state.config.limits;
  link.setDeadline(waitMs === null ? null : Date.now() + waitMs, `the peer's hello`);
  let peerError: CertsyncError | null = null;
  try {
    const frame = await link.receive();
    if (frame === null) throw new CertsyncError('link-closed', 'the peer left before hello');
    const incoming = decodeFrame(frame, limits);
    if (incoming.kind === 'message' && incoming.message.type === 'hello') return frame;
    if (incoming.kind === 'message' && incoming.message.type === 'error') {
      const m = incoming.message;
      peerError = new CertsyncError(m.code, `the peer ended the session: ${m.message}`);
      throw peerError;
    }
    const what = incoming.kind === 'message' ? incoming.message.type : `type ${incoming.code}`;
    throw new CertsyncError('unexpected-message', `the peer sent ${what} before hello`);
  } catch (error) {
    const failure = asCertsyncError(error);
    if (failure !== peerError && !['link-closed', 'link-error'].includes(failure.code)) {
      const message = failure.message.slice(0, 200);
      const frame = encodeMessage(
        state.config.versions.max,
        { type: 'error', code: failure.code, message, fatal: true },
        limits,
      );
      await link.send(frame).catch(() => undefined);
    }
    throw failure;
  }
}
