/** `certsync init`: creates the store (or reports the existing one). */
import { existsSync } from 'node:fs';
import { CertsyncError } from '../../../protocol/errors.ts';
import { OVERFLOW_POLICIES, type OverflowPolicy } from '../../store/index.ts';
import { toHex } from '../../pki/index.ts';
import { oneOf, stringOption } from '../arguments.ts';
import type { Command } from '../command.ts';
import { parseCapacity } from './capacity.ts';

const init: Command = {
  name: 'init',
  summary: 'create the store (a no-op when it exists), optionally with a capacity and policy',
  args: '',
  positionals: { min: 0, max: 0 },
  options: {
    capacity: { type: 'string', help: 'N  most certificates held, or "none" (default none)' },
    policy: { type: 'string', help: 'POLICY  when full: lru, alert or refuse (default lru)' },
  },
  run(ctx) {
    const existed = existsSync(ctx.storePath);
    const capacityArg = stringOption(ctx, 'capacity');
    const policyArg = stringOption(ctx, 'policy');
    const capacity = capacityArg === undefined ? undefined : parseCapacity(capacityArg, 'capacity');
    const policy =
      policyArg === undefined
        ? undefined
        : oneOf<OverflowPolicy>('policy', policyArg, OVERFLOW_POLICIES);
    const store = ctx.openStore({ create: true });
    if (capacity !== undefined || policy !== undefined) {
      try {
        store.capacity.set({ capacity, policy });
      } catch (error) {
        if (error instanceof CertsyncError && error.code === 'bad-input') {
          throw new CertsyncError(error.code, `--capacity: ${error.message}`, { cause: error });
        }
        throw error;
      }
    }
    const state = store.capacity.state();
    const id = toHex(store.id);
    const limit = state.capacity === null ? 'no capacity limit' : `capacity ${state.capacity}`;
    const text = `${existed ? 'Store already exists' : 'Created store'}: ${ctx.storePath}\nid ${id}, ${limit}, policy ${state.policy}`;
    return {
      text,
      json: {
        path: ctx.storePath,
        created: !existed,
        id,
        capacity: state.capacity,
        policy: state.policy,
      },
    };
  },
};

export default init;
