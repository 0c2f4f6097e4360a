/**
 * Test and benchmark helper: two clients joined through a relay that sees every frame and
 * may drop, repeat, reorder or alter it, as a man in the middle on a radio link could. Each
 * hop is a framed link model (transports/model) on its own virtual clock.
 */
import type { Link } from '../../transports/link.ts';
import { createModelLinkPair } from '../../transports/model/link-model.ts';
import type { LinkParams } from '../../transports/model/link-params.ts';
import { VirtualClock } from '../../transports/model/virtual-clock.ts';

/** A fast, lossless line: the relay, not the line, decides what arrives. */
export const TEST_LINE: LinkParams = {
  name: 'test-fast-line',
  bitRate: 1_000_000_000,
  bitsPerByte: 8,
  maxFrameSize: 8192,
  frameOverheadBytes: 0,
  latencyMs: 0,
  duplex: 'full',
  turnaroundMs: 0,
};

/** Decides what the relay forwards for frame `index` (counted per direction, from 0). */
export type Tamper = (frame: Uint8Array, index: number) => Uint8Array[];

/** Two ends of a model link; `cleanup` closes both. */
export function modelPair(params: LinkParams = TEST_LINE): {
  a: Link;
  b: Link;
  cleanup: () => Promise<void>;
} {
  const pair = createModelLinkPair(params, { clock: new VirtualClock() });
  return {
    a: pair.a,
    b: pair.b,
    cleanup: async () => void (await Promise.allSettled([pair.a.close(), pair.b.close()])),
  };
}

/** Forwards frames from `from` to `to` through `tamper` until either end stops. */
async function pump(from: Link, to: Link, tamper: Tamper | undefined): Promise<void> {
  try {
    for (let index = 0; ; index++) {
      const frame = await from.receive();
      if (frame === null) break;
      for (const out of tamper ? tamper(frame, index) : [frame]) await to.send(out);
    }
  } catch {
    // A failed hop ends the relay; both far ends see their link close.
  }
  await Promise.allSettled([to.close(), from.close()]);
}

/**
 * A client end and a server end joined through a relay; `toServer` and `toClient` alter
 * the frames going each way.
 */
export function relayedPair(
  tap: { toServer?: Tamper; toClient?: Tamper } = {},
  params: LinkParams = TEST_LINE,
): { client: Link; server: Link; cleanup: () => Promise<void> } {
  const near = modelPair(params);
  const far = modelPair(params);
  const running = [pump(near.b, far.a, tap.toServer), pump(far.a, near.b, tap.toClient)];
  return {
    client: near.a,
    server: far.b,
    cleanup: async () => {
      await Promise.allSettled([near.cleanup(), far.cleanup()]);
      await Promise.allSettled(running);
    },
  };
}
