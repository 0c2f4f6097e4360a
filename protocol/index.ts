/**
 * certsync's protocol, the public entry point (`certsync/protocol`): pure code, no I/O.
 *
 * Layers, bottom up: the secure channel (handshake, pairing, sealed records) carries frames;
 * each frame is one CBOR envelope (wire codec, message catalog); the session engine decides
 * what each frame means and what to answer, reaching the store through {@link StoreView}
 * and the reconciliation engine through {@link SessionReconciler}.
 *
 * How the node layer drives a session: `createSession(config)`, then
 * `step(state, { kind: 'start', now }, env)`, then one `step` per received frame, user
 * command, timer tick or link close. Each step returns the next state, the frames to send
 * in order, and effects (set a timer, close the link, show a page, ask the user about an
 * overflow, ...). See spec/protocol.md, "Session".
 */

// Errors: one type, a closed set of codes.
export {
  CertsyncError,
  ERROR_CODES,
  exitStatusFor,
  isCertsyncError,
  isErrorCode,
  type ErrorCode,
} from './errors.ts';

// Wire: limits, versions, hex.
export { DEFAULT_LIMITS, MIN_FRAME_BYTES, withFrameLimit, type WireLimits } from './wire/limits.ts';
export { SUPPORTED_VERSIONS, negotiateVersion, type VersionRange } from './wire/version.ts';
export { FIRST_IGNORABLE_TYPE, isIgnorableType } from './wire/envelope.ts';
export { bytesOf, hexOf } from './wire/hex.ts';
export type { CborKey, CborValue } from './wire/cbor.ts';

// Messages.
export {
  MESSAGES,
  RECONCILE_TYPES,
  type ListOrder,
  type Message,
  type MessageName,
  type MessageOf,
  type SelectionFilter,
  type TransferMode,
  type ValidityResult,
  type ValidityStatus,
} from './messages/catalog.ts';
export { decodeFrame, encodeMessage, encodeReconcile, type Incoming } from './messages/codec.ts';
export type {
  Item,
  ItemKind,
  ItemOutcome,
  ItemResult,
  ListEntry,
  StoreSummary,
  Tombstone,
} from './messages/records.ts';
export { MAX_EMAILS, MAX_NAME_BYTES } from './messages/records.ts';
export { fromJsonForm, toJsonForm, type Json } from './messages/json-form.ts';

// Session engine.
export { canStart, createSession, RECONCILE_CAPABILITY, step } from './session/engine.ts';
export { WINDOW, type SessionEnv } from './session/turn.ts';
export {
  DEFAULT_TIMEOUTS,
  type Command,
  type Effect,
  type Phase,
  type SessionConfig,
  type SessionEvent,
  type SessionState,
  type SessionTimeouts,
  type StepResult,
} from './session/types.ts';
export type {
  ListQuery,
  ListResult,
  ReceiveContext,
  ReceiveOutcome,
  SessionReconciler,
  StoreView,
} from './session/store-view.ts';

// Reconciliation and merge (spec/reconcile.md).
export { Reconciler, type ReconcileReport } from './reconcile/reconciler.ts';
export {
  decodeStoreDigest,
  encodeStoreDigest,
  RECONCILE_CODES,
  type StoreDigest,
} from './reconcile/messages.ts';
export { itemHash, sketchKey } from './reconcile/item-hash.ts';
export { decideMerge, type MergeDecision } from './merge/merge-rule.ts';
export {
  planTransfer,
  type EntryFacts,
  type ReceiverView,
  type RefusalCode,
  type TransferPlan,
} from './merge/transfer-plan.ts';
export {
  compareVersions,
  type Entry,
  type EntryHead,
  type EntryKind,
  type SyncedMeta,
} from './merge/entry.ts';
export type {
  ApplyContext,
  ApplyOutcome,
  CapacityInfo,
  OverflowPolicy,
  RoomCheck,
  StoredItem,
  SyncStore,
} from './merge/store.ts';

// Secure channel (spec/session.md).
export { HandshakeState, type HandshakeOptions, type PatternName } from './secure/handshake.ts';
export {
  decodeHandshakeFrame,
  encodeAbortFrame,
  encodeHandshakeFrame,
  type HandshakeFrame,
  type HandshakeMode,
} from './secure/frames.ts';
export { TransportCipher, RECORD, type SessionRecord } from './secure/transport.ts';
export { buildPrologue, type PrologueInput } from './secure/prologue.ts';
export { formatPairingSecret, pairingCode, pskFromPairingSecret } from './secure/pairing.ts';
export { identityFingerprint } from './secure/fingerprint.ts';
export {
  checkPeerMayRequest,
  checkPrivateKeyAcceptance,
  checkPrivateKeyRelease,
  type PeerStanding,
} from './secure/policy.ts';
