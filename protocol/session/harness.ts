/**
 * Drives two session engines against each other without a link, for tests, recorded
 * session vectors and benchmarks: each side's frames are handed to the other in order, and
 * every frame is logged with its direction. Time is whatever the caller passes.
 */

import { SUPPORTED_VERSIONS } from '../wire/version.ts';
import { DEFAULT_LIMITS } from '../wire/limits.ts';
import { createSession, step } from './engine.ts';
import type { SessionEnv } from './turn.ts';
import {
  DEFAULT_TIMEOUTS,
  type Command,
  type Effect,
  type SessionConfig,
  type SessionEvent,
  type SessionState,
} from './types.ts';

/** A sensible configuration for tests; override what a test is about. */
export function testConfig(over: Partial<SessionConfig> = {}): SessionConfig {
  return {
    versions: SUPPORTED_VERSIONS,
    capabilities: [],
    limits: DEFAULT_LIMITS,
    sync: 'on-request',
    timeouts: DEFAULT_TIMEOUTS,
    standing: 'paired',
    exportPrivateKeys: false,
    ...over,
  };
}

/** One side: its state, what it lends the engine, and everything it produced. */
export class Side {
  state: SessionState;
  readonly outbox: Uint8Array[] = [];
  readonly effects: Effect[] = [];

  constructor(
    readonly name: string,
    config: SessionConfig,
    readonly env: SessionEnv,
  ) {
    this.state = createSession(config);
  }

  /** Feeds one event and keeps its frames and effects. */
  feed(event: SessionEvent): void {
    const r = step(this.state, event, this.env);
    this.state = r.state;
    this.outbox.push(...r.frames);
    this.effects.push(...r.effects);
  }

  command(now: number, command: Command): void {
    this.feed({ kind: 'command', now, command });
  }

  /** Effects of one kind seen so far. */
  seen<K extends Effect['kind']>(kind: K): Extract<Effect, { kind: K }>[] {
    return this.effects.filter((e): e is Extract<Effect, { kind: K }> => e.kind === kind);
  }
}

/** A frame as it crossed, for recorded sessions. */
export interface LoggedFrame {
  readonly from: string;
  readonly frame: Uint8Array;
}

/**
 * Hands frames across until both outboxes are empty, at most `maxRounds` exchanges
 * (a capped loop: a session that keeps talking is a bug the caller sees as a throw).
 *
 * @throws RangeError when the sides are still talking after `maxRounds`
 */
export function exchange(a: Side, b: Side, now: number, log?: LoggedFrame[], maxRounds = 1000) {
  for (let round = 0; round < maxRounds; round++) {
    if (a.outbox.length === 0 && b.outbox.length === 0) return;
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      const frames = from.outbox.splice(0);
      for (const frame of frames) {
        log?.push({ from: from.name, frame });
        to.feed({ kind: 'frame', now, frame });
      }
    }
  }
  throw new RangeError(`expected the sides to go quiet within ${maxRounds} rounds, got more`);
}
