/** Every case of the suite, in the order the runner runs them. */
import type { Case } from '../harness/context.ts';
import { WIRE_CASES } from './wire.ts';

export const ALL_CASES: readonly Case[] = [...WIRE_CASES];
