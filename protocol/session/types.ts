/**
 * The data of a session (spec/protocol.md, "Session"): its configuration, its state, the
 * events the node layer feeds in and the effects it gets back. All plain, immutable data.
 */

import type { CertsyncError } from '../errors.ts';
import type {
  ListOrder,
  MessageOf,
  SelectionFilter,
  TransferMode,
  ValidityResult,
} from '../messages/catalog.ts';
import type { ItemResult } from '../messages/records.ts';
import type { PeerStanding } from '../secure/policy.ts';
import type { WireLimits } from '../wire/limits.ts';
import type { VersionRange } from '../wire/version.ts';

/** How long a session waits, in milliseconds (spec/protocol.md, "Timeouts"). */
export interface SessionTimeouts {
  /** For the peer's hello after ours. */
  readonly hello: number;
  /** For the answer to a request, and for each next message of a running transfer. */
  readonly answer: number;
  /** For the peer's overflow answer: its user is choosing a victim. */
  readonly overflowAnswer: number;
  /** For the peer's goodbye after ours. */
  readonly goodbye: number;
}

/** The timeouts of protocol version 1. */
export const DEFAULT_TIMEOUTS: SessionTimeouts = Object.freeze({
  hello: 15_000,
  answer: 30_000,
  overflowAnswer: 300_000,
  goodbye: 5_000,
});

/** Fixed settings of one session. */
export interface SessionConfig {
  readonly versions: VersionRange;
  /** Capability codes this side offers (spec/protocol.md, "hello"). */
  readonly capabilities: readonly number[];
  /** Largest frame this side accepts (it may be lowered to the link's frame size). */
  readonly limits: WireLimits;
  /** Whether this side reconciles by itself right after the hellos. */
  readonly sync: 'auto' | 'on-request';
  readonly name?: string;
  readonly timeouts: SessionTimeouts;
  /** Whether the peer is paired; an unpaired peer may only send hello, goodbye, error. */
  readonly standing: PeerStanding;
  /** This side's setting: private keys may leave on a request naming one (off by default). */
  readonly exportPrivateKeys: boolean;
}

/** The phases of a session. */
export type Phase = 'awaiting-hello' | 'ready' | 'closing' | 'closed';

/** A request this side sent and awaits an answer to. */
export interface PendingRequest {
  readonly id: number;
  readonly kind: 'list' | 'delete' | 'pull';
  readonly deadline: number;
  /** A pull of exactly one item (hex): the one private key this side may accept. */
  readonly askedFor?: string;
}

/** The transfer this side sends. */
export interface Outbound {
  readonly id: number;
  readonly mode: TransferMode;
  /** Hex ids to send; `next` is the first not yet sent. */
  readonly queue: readonly string[];
  readonly next: number;
  readonly nextSeq: number;
  /** Sequence numbers sent and not yet acknowledged, oldest first (at most WINDOW). */
  readonly unacked: readonly number[];
  readonly ended: boolean;
  /** The ids a pull named, when this transfer answers one (the private-key rule needs it). */
  readonly requested?: readonly string[];
  /** Hex ids the peer acknowledged holding now (stored, updated or unchanged). */
  readonly held: readonly string[];
  /** Set when this transfer offers last copies for the peer's transfer of this id. */
  readonly offerFor?: number;
  /** The peer's store is full: waiting for this side's user to pick a victim or abort. */
  readonly alert: { readonly incoming: Uint8Array; readonly candidates: readonly string[] } | null;
  readonly deadline: number;
}

/** The transfer this side receives. */
export interface Inbound {
  readonly id: number;
  readonly mode: TransferMode;
  readonly expectedSeq: number;
  /** Hex ids received so far (replace-all keeps exactly these). */
  readonly received: readonly string[];
  /**
   * True when the transfer began while this side sent nothing: then it is not the peer
   * offering a last copy it will remove, and what it brings is known to be held by the
   * peer (spec/protocol.md, "Last copies").
   */
  readonly learns: boolean;
  /** A replace-all: how many items the store removed so far to make room for the selection. */
  readonly removed: number;
  /** A replace-all: an item was refused for want of room, so nothing more is removed. */
  readonly refusedForRoom: boolean;
  /** Set while an overflow alert awaits the peer's answer. */
  readonly waiting: InboundWait | null;
  /** Frames that arrived while waiting, applied after the answer (at most WINDOW + 1). */
  readonly held: readonly (MessageOf<'items'> | MessageOf<'transfer-end'>)[];
  /** A replace-all's end, kept while this side first offers what it would remove. */
  readonly ending?: MessageOf<'transfer-end'>;
  /** The private key this side asked for in the pull this transfer answers, if any. */
  readonly askedFor?: string;
  readonly deadline: number;
}

/** An items batch stopped at an item that did not fit. */
export interface InboundWait {
  readonly batch: MessageOf<'items'>;
  /** Index into items then tombstones of the entry that did not fit. */
  readonly index: number;
  readonly results: readonly ItemResult[];
  /** Victims offered in an overflow alert (empty while offering a last copy). */
  readonly candidates: readonly string[];
  /** The hex id of a last copy this side offers the peer before evicting it. */
  readonly offering?: string;
}

/** A session's whole state. Treat as immutable: {@link step} returns a new one. */
export interface SessionState {
  readonly config: SessionConfig;
  readonly phase: Phase;
  readonly version: number | null;
  readonly peer: MessageOf<'hello'> | null;
  /** Frame limit for what this side sends: the smaller of the peer's and its own. */
  readonly sendLimits: WireLimits;
  readonly nextId: number;
  readonly requests: readonly PendingRequest[];
  readonly outbound: Outbound | null;
  readonly inbound: Inbound | null;
  /**
   * Hex ids this side knows the peer holds, so that removing one here destroys no last copy
   * (spec/protocol.md, "Last copies"): each arrived from the peer in a transfer that
   * {@link Inbound.learns}, and this side has not sent it to the peer since. The two sides'
   * sets never share an id, so they never both remove one without an offer.
   */
  readonly peerHolds: ReadonlySet<string>;
  /** Whether this side began reconciling, and whether it finished. */
  readonly reconcile: 'idle' | 'running' | 'finished';
  /** While reconciling: when the peer's next reconciliation message is due. */
  readonly reconcileDeadline: number | null;
  /** When the hello or goodbye wait ends. */
  readonly deadline: number | null;
}

/** Something the user asks the session to do. */
export type Command =
  | {
      readonly op: 'list';
      readonly order: ListOrder;
      readonly filter: SelectionFilter;
      readonly cursor?: Uint8Array;
      readonly limit: number;
    }
  | { readonly op: 'push'; readonly mode: TransferMode; readonly ids: readonly string[] }
  | {
      readonly op: 'pull';
      readonly mode: TransferMode;
      readonly filter: SelectionFilter;
      readonly ids?: readonly Uint8Array[];
    }
  | { readonly op: 'delete'; readonly ids: readonly Uint8Array[] }
  | {
      readonly op: 'report-validity';
      readonly checkedAt: number;
      readonly results: readonly ValidityResult[];
    }
  | { readonly op: 'reconcile' }
  | { readonly op: 'overflow-choice'; readonly victim: Uint8Array | null }
  | { readonly op: 'goodbye'; readonly reason?: string };

/** An input to {@link step}; `now` is the node layer's clock, in ms. */
export type SessionEvent =
  | { readonly kind: 'start'; readonly now: number }
  | { readonly kind: 'frame'; readonly now: number; readonly frame: Uint8Array }
  | { readonly kind: 'tick'; readonly now: number }
  | { readonly kind: 'command'; readonly now: number; readonly command: Command }
  | { readonly kind: 'link-closed'; readonly now: number };

/** What the node layer must do or show after a step. */
export type Effect =
  /** Call `step` with a tick at or after `at` (replaces any earlier timer). */
  | { readonly kind: 'set-timer'; readonly at: number | null }
  /** Close the link after sending this step's frames; `error` null for a clean end. */
  | { readonly kind: 'close'; readonly error: CertsyncError | null }
  /** The hellos are exchanged: the negotiated version and the peer's hello (its summary). */
  | { readonly kind: 'ready'; readonly version: number; readonly peer: MessageOf<'hello'> }
  /** The answer to this side's `list` command. */
  | { readonly kind: 'list-page'; readonly page: MessageOf<'list-page'> }
  /** Ask the user: which of `candidates` the peer should evict, or abort. */
  | { readonly kind: 'overflow-alert'; readonly alert: MessageOf<'overflow-alert'> }
  /**
   * Results of items this side sent: as the peer acknowledged them, or `refused` locally
   * (`frame-too-large`, `private-key-refused`) for items it left out.
   */
  | {
      readonly kind: 'items-acked';
      readonly transfer: number;
      readonly results: readonly ItemResult[];
    }
  /** What this side's store did with one batch it received. */
  | {
      readonly kind: 'items-received';
      readonly transfer: number;
      readonly results: readonly ItemResult[];
    }
  /** A transfer ended, in either direction (`done.aborted` after an overflow abort). */
  | {
      readonly kind: 'transfer-done';
      readonly direction: 'sent' | 'received';
      readonly done: MessageOf<'transfer-done'>;
    }
  /** The answer to this side's `delete` command. */
  | { readonly kind: 'delete-result'; readonly result: MessageOf<'delete-result'> }
  /** The peer checked items of this side's store: record the time, show the results. */
  | { readonly kind: 'validity-report'; readonly report: MessageOf<'validity-report'> }
  /** The reconciliation finished; `report` is the reconciler's own. */
  | { readonly kind: 'reconciled'; readonly report: object }
  /** The peer sent an error: fatal (a `close` effect follows) or refusing one request. */
  | { readonly kind: 'peer-error'; readonly error: MessageOf<'error'> };

/** The result of one {@link step}. */
export interface StepResult {
  readonly state: SessionState;
  /** Frames to send, in order. */
  readonly frames: readonly Uint8Array[];
  readonly effects: readonly Effect[];
}
