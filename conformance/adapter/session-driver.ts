/**
 * certsync's session engine driven over one link for the conformance adapter: hellos in the
 * clear, the secure handshake of spec/session.md, then one engine step per frame, command
 * and tick, as node/client/peer-session.ts does for the CLI.
 *
 * It exists beside PeerSession because the adapter's mutants (conformance/mutants.ts) must
 * reach points PeerSession keeps private: the hello bytes, the prologue, each plaintext
 * frame either way, the store the engine writes and the reconciler it drives. With no hooks
 * it behaves as PeerSession.
 */
import { CertsyncError, isCertsyncError } from '../../protocol/errors.ts';
import { Reconciler } from '../../protocol/reconcile/reconciler.ts';
import { createSession, RECONCILE_CAPABILITY, step } from '../../protocol/session/engine.ts';
import type { SessionEnv } from '../../protocol/session/turn.ts';
import {
  DEFAULT_TIMEOUTS,
  type Command,
  type Effect,
  type SessionState,
  type SessionTimeouts,
} from '../../protocol/session/types.ts';
import type { SessionReconciler, StoreView } from '../../protocol/session/store-view.ts';
import type { SyncStore } from '../../protocol/merge/store.ts';
import { DEFAULT_LIMITS, MIN_FRAME_BYTES, withFrameLimit } from '../../protocol/wire/limits.ts';
import { SUPPORTED_VERSIONS } from '../../protocol/wire/version.ts';
import { isLinkError, type Link } from '../../transports/link.ts';
import {
  acceptSecure,
  connectSecure,
  type InitiatorIntent,
  type ResponderPairing,
} from '../../node/keys/secure-link.ts';
import type { PeerBook } from '../../node/keys/peer-book.ts';
import { storeIdentity, storePeerBook } from '../../node/keys/store-peer-book.ts';
import { DEFAULT_REKEY, type RekeyBound } from '../../protocol/secure/transport.ts';
import type { Store } from '../../node/store/index.ts';
import { SessionStore } from '../../node/client/session-store.ts';

/** Room a sealed record takes beyond its body (type byte, tag), with a margin. */
const RECORD_OVERHEAD = 64;

/** Points where a mutant changes the adapter's behaviour; every one is optional. */
export interface DriverHooks {
  /** Rewrites this side's hello before it is sent and bound into the prologue. */
  readonly ownHello?: (frame: Uint8Array) => Uint8Array;
  /** False: the handshake binds no hellos (an empty prologue), as a broken client might. */
  readonly bindHellos?: boolean;
  /** Rewrites each received frame (the peer's hello included) before the engine reads it. */
  readonly incoming?: (frame: Uint8Array) => Uint8Array;
  /** Rewrites each frame the engine sends after the hello; an empty list drops it. */
  readonly outgoing?: (frame: Uint8Array) => Uint8Array[];
  /** Wraps the store the engine and the reconciler write. */
  readonly store?: (s: SessionStore) => StoreView & SyncStore;
  /** Wraps the paired peers the handshake consults. */
  readonly peers?: (book: PeerBook) => PeerBook;
  /** Changes the rekey bound this side uses (both sides must use the same). */
  readonly rekey?: (bound: RekeyBound) => RekeyBound;
  /** Wraps the reconciler the engine drives. */
  readonly reconciler?: (r: Reconciler) => SessionReconciler;
}

/** How one session is opened. */
export interface DriverOptions {
  readonly store: Store;
  readonly role: 'initiator' | 'responder';
  readonly intent?: InitiatorIntent;
  readonly pairing?: ResponderPairing;
  readonly autoSync: boolean;
  /** What this side answers when the peer's store is full under `alert`. */
  readonly overflow: 'abort' | 'first';
  readonly hooks: DriverHooks;
  /** Shorter waits than spec/protocol.md 8.4, so tests of a silent peer end quickly. */
  readonly timeouts?: Partial<SessionTimeouts>;
  /** A smaller rekey bound than spec/session.md 9, as tests may use. */
  readonly rekey?: RekeyBound;
}

/** A running session; see the module comment. */
export class SessionDriver {
  state: SessionState;
  readonly log: Effect[] = [];
  readonly ended: Promise<CertsyncError | null>;
  private readonly env: SessionEnv;
  private readonly options: DriverOptions;
  private link: Link | null = null;
  private sending: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private waiters: { match: (e: Effect) => boolean; resolve: (e: Effect) => void }[] = [];
  private endWith!: (error: CertsyncError | null) => void;
  private over = false;
  private linkFailure: CertsyncError | null = null;

  private constructor(options: DriverOptions, frameLimit: number) {
    this.options = options;
    const plain = new SessionStore(options.store, 'peer');
    const store = options.hooks.store ? options.hooks.store(plain) : plain;
    const reconciler = new Reconciler(store);
    this.env = {
      store,
      reconciler: options.hooks.reconciler
        ? options.hooks.reconciler(reconciler)
        : (reconciler as unknown as SessionReconciler),
    };
    this.state = createSession({
      versions: SUPPORTED_VERSIONS,
      capabilities: [RECONCILE_CAPABILITY],
      limits: withFrameLimit(DEFAULT_LIMITS, frameLimit),
      sync: options.autoSync ? 'auto' : 'on-request',
      timeouts: { ...DEFAULT_TIMEOUTS, ...options.timeouts },
      standing: 'paired',
      exportPrivateKeys: false,
    });
    this.ended = new Promise((resolve) => (this.endWith = resolve));
  }

  /**
   * Runs the hellos and the handshake and starts the engine.
   *
   * @throws CertsyncError from the handshake; the link is closed then
   */
  static async open(raw: Link, options: DriverOptions): Promise<SessionDriver> {
    // A record is at most 65,535 bytes whatever the link carries (spec/session.md 8).
    const recordLimit = Math.min(raw.maxFrameSize, 65_535);
    const frameLimit = Math.max(
      MIN_FRAME_BYTES,
      Math.min(DEFAULT_LIMITS.maxFrameBytes, recordLimit - RECORD_OVERHEAD),
    );
    const d = new SessionDriver(options, frameLimit);
    const started = step(d.state, { kind: 'start', now: Date.now() }, d.env);
    d.state = started.state;
    const hooks = options.hooks;
    const first = started.frames[0] as Uint8Array;
    const ownHello = hooks.ownHello ? hooks.ownHello(first) : first;
    try {
      await raw.send(ownHello);
      const peerHello = await within(raw.receive(), d.state.config.timeouts.hello);
      if (peerHello === null) throw new CertsyncError('link-closed', 'the peer left before hello');
      const mine = options.role === 'initiator';
      const hellos = {
        initiatorHello: mine ? ownHello : peerHello,
        responderHello: mine ? peerHello : ownHello,
      };
      const book = storePeerBook(options.store);
      const rekey = options.rekey ?? DEFAULT_REKEY;
      const common = {
        link: raw,
        identity: storeIdentity(options.store),
        peers: hooks.peers ? hooks.peers(book) : book,
        ...(hooks.bindHellos === false ? {} : { hellos }),
        rekey: hooks.rekey ? hooks.rekey(rekey) : rekey,
      };
      d.link = mine
        ? await connectSecure({ ...common, intent: options.intent ?? { kind: 'session' } })
        : await acceptSecure({
            ...common,
            ...(options.pairing ? { pairing: options.pairing } : {}),
          });
      d.feed({ kind: 'frame', now: Date.now(), frame: d.inbound(peerHello) });
    } catch (error) {
      await raw.close().catch(() => undefined);
      throw asCertsyncError(error);
    }
    void d.readLoop();
    return d;
  }

  /** Feeds a user command to the engine. */
  command(command: Command): void {
    this.feed({ kind: 'command', now: Date.now(), command });
  }

  /** The first effect from now on that matches; rejects when the session ends first. */
  waitFor(match: (e: Effect) => boolean): Promise<Effect> {
    if (this.over) return Promise.reject(new CertsyncError('link-closed', 'the session is over'));
    return new Promise((resolve, reject) => {
      this.waiters.push({ match, resolve });
      void this.ended.then((error) => reject(error ?? new CertsyncError('link-closed', 'ended')));
    });
  }

  /** Waits until every frame the engine produced so far was handed to the link. */
  drain(): Promise<void> {
    return this.sending;
  }

  /** Closes the link at once, without a goodbye. */
  async abort(): Promise<void> {
    this.finish(new CertsyncError('aborted', 'the adapter was told to stop'));
    await this.link?.close().catch(() => undefined);
  }

  private inbound(frame: Uint8Array): Uint8Array {
    return this.options.hooks.incoming ? this.options.hooks.incoming(frame) : frame;
  }

  private feed(event: Parameters<typeof step>[1]): void {
    if (this.over) return;
    const r = step(this.state, event, this.env);
    this.state = r.state;
    const out = this.options.hooks.outgoing;
    for (const frame of r.frames) {
      for (const f of out ? out(frame) : [frame]) {
        this.sending = this.sending.then(() => this.link?.send(f));
      }
    }
    this.sending = this.sending.catch((error: unknown) => this.fail(error));
    for (const e of r.effects) this.onEffect(e);
  }

  private onEffect(e: Effect): void {
    this.log.push(e);
    if (e.kind === 'set-timer') {
      clearTimeout(this.timer);
      if (e.at !== null) {
        const wait = Math.max(0, e.at - Date.now()) + 5;
        this.timer = setTimeout(() => this.feed({ kind: 'tick', now: Date.now() }), wait);
        this.timer.unref();
      }
    } else if (e.kind === 'close') {
      this.finish(e.error);
      void this.sending.then(() => this.link?.close()).catch(() => undefined);
    } else if (e.kind === 'overflow-alert') {
      const first = e.alert.candidates[0];
      const victim = this.options.overflow === 'first' && first ? first.id : null;
      queueMicrotask(() => this.command({ op: 'overflow-choice', victim }));
    }
    for (const w of this.waiters.filter((x) => x.match(e))) {
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(e);
    }
  }

  private async readLoop(): Promise<void> {
    try {
      for (;;) {
        const frame = await (this.link as Link).receive();
        if (this.over) return;
        if (frame === null) {
          this.feed({ kind: 'link-closed', now: Date.now() });
          this.finish(new CertsyncError('link-closed', 'the peer closed the link'));
          return;
        }
        this.feed({ kind: 'frame', now: Date.now(), frame: this.inbound(frame) });
      }
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    if (this.over) return;
    // The link's own reason (decrypt-failed, ...) is why the session ended, not the generic
    // link-closed the engine reports for the event below.
    this.linkFailure = asCertsyncError(error);
    this.feed({ kind: 'link-closed', now: Date.now() });
    this.finish(this.linkFailure);
  }

  private finish(error: CertsyncError | null): void {
    if (this.over) return;
    this.over = true;
    clearTimeout(this.timer);
    this.endWith(this.linkFailure ?? error);
  }
}

/** `p`, or a `timeout` error after `ms`: the peer's hello must come in time (8.4). */
async function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CertsyncError('timeout', 'the peer sent no hello')), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function asCertsyncError(error: unknown): CertsyncError {
  if (isCertsyncError(error)) return error;
  if (isLinkError(error)) return new CertsyncError(error.code, error.message, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new CertsyncError('internal', message, { cause: error });
}
