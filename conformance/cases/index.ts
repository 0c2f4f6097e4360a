/** Every case of the suite, in the order the runner runs them. */
import type { Case } from '../harness/context.ts';
import { CHANNEL_CASES } from './channel.ts';
import { MESSAGE_CASES } from './messages.ts';
import { MODE_CASES } from './modes.ts';
import { RECONCILE_CASES } from './reconcile.ts';
import { RECONCILE_RUN_CASES } from './reconcile-runs.ts';
import { RECONCILE_WIRE_CASES } from './reconcile-wire.ts';
import { SECURE_CASES } from './secure.ts';
import { SESSION_RULE_CASES } from './session-rules.ts';
import { TRANSFER_CASES } from './transfers.ts';
import { vectorCases } from './vectors.ts';
import { WIRE_CASES } from './wire.ts';

/** The whole suite. */
export function allCases(): Case[] {
  return [
    ...WIRE_CASES,
    ...MESSAGE_CASES,
    ...SESSION_RULE_CASES,
    ...TRANSFER_CASES,
    ...MODE_CASES,
    ...SECURE_CASES,
    ...CHANNEL_CASES,
    ...RECONCILE_CASES,
    ...RECONCILE_WIRE_CASES,
    ...RECONCILE_RUN_CASES,
    ...vectorCases(),
  ];
}
