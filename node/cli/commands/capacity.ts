/** `certsync capacity`: shows or sets the capacity limit and overflow policy. */
import { CertsyncError } from '../../../protocol/errors.ts';
import { OVERFLOW_POLICIES, type CapacityState, type OverflowPolicy } from '../../store/index.ts';
import { oneOf, stringOption } from '../arguments.ts';
import { UsageError, type Command } from '../command.ts';

/**
 * `none` -> null, else a whole number >= 0, given as option `--option`.
 *
 * @throws UsageError naming the option otherwise
 */
export function parseCapacity(text: string, option: string): number | null {
  if (text === 'none') return null;
  if (!/^\d{1,9}$/.test(text)) {
    throw new UsageError(`--${option} must be a whole number or "none", got ${text}`);
  }
  return Number(text);
}

/** `12 certificates, capacity 20 (8 free), policy lru, 1 pinned`. */
export function describeCapacity(s: CapacityState): string {
  const limit =
    s.capacity === null ? 'no capacity limit' : `capacity ${s.capacity} (${s.free} free)`;
  return `${s.count} certificate${s.count === 1 ? '' : 's'}, ${limit}, policy ${s.policy}, ${s.pinned} pinned`;
}

const capacity: Command = {
  name: 'capacity',
  summary: 'show the store size against its limit, or set the limit and overflow policy',
  args: '',
  positionals: { min: 0, max: 0 },
  options: {
    set: { type: 'string', help: 'N  new limit, or "none"; refused below the count held' },
    policy: { type: 'string', help: 'POLICY  lru, alert or refuse' },
  },
  run(ctx) {
    const setArg = stringOption(ctx, 'set');
    const policyArg = stringOption(ctx, 'policy');
    const limit = setArg === undefined ? undefined : parseCapacity(setArg, 'set');
    const policy =
      policyArg === undefined
        ? undefined
        : oneOf<OverflowPolicy>('policy', policyArg, OVERFLOW_POLICIES);
    const store = ctx.openStore();
    let state: CapacityState;
    try {
      state =
        limit !== undefined || policy !== undefined
          ? store.capacity.set({ capacity: limit, policy })
          : store.capacity.state();
    } catch (error) {
      // The limit below the count held is the one mistake the store reports about --set.
      if (error instanceof CertsyncError && error.code === 'bad-input') {
        throw new CertsyncError(error.code, `--set: ${error.message}`, { cause: error });
      }
      throw error;
    }
    return { text: describeCapacity(state), json: state };
  },
};

export default capacity;
