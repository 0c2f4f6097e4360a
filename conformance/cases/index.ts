/** Every case of the suite, in the order the runner runs them. */
import type { Case } from '../harness/context.ts';
import { MESSAGE_CASES } from './messages.ts';
import { RECONCILE_CASES } from './reconcile.ts';
import { SECURE_CASES } from './secure.ts';
import { TRANSFER_CASES } from './transfers.ts';
import { vectorCases } from './vectors.ts';
import { WIRE_CASES } from './wire.ts';

/** The whole suite. */
export function allCases(): Case[] {
  return [
    ...WIRE_CASES,
    ...MESSAGE_CASES,
    ...TRANSFER_CASES,
    ...SECURE_CASES,
    ...RECONCILE_CASES,
    ...vectorCases(),
  ];
}
