/**
 * An emulated IrDA link on a serial device: what an IrDA SIR dongle that shows up as a
 * UART (or one end of a pty pair) needs.
 */
import type { Link } from '../link.ts';
import { openSerialLine, type SerialLineOptions } from '../serial/serialport-adapter.ts';
import { IrdaLink, type IrdaLinkOptions, type IrdaLinkStats } from './irda-link.ts';

/** An {@link IrdaLink} on a port it opened itself; closing the link closes the port. */
export interface IrdaPortLink extends Link {
  stats(): IrdaLinkStats;
}

/**
 * Opens `path` at `baudRate` (default 115200) and runs an IrDA station on it; the station's
 * per-turn budget follows the same rate unless `bitRate` is given.
 *
 * @throws LinkError `link-error` when the port cannot be opened
 */
export async function openIrdaPortLink(
  path: string,
  options: SerialLineOptions & IrdaLinkOptions,
): Promise<IrdaPortLink> {
  const line = await openSerialLine(path, options);
  const link = new IrdaLink(line.stream, { bitRate: options.baudRate, ...options });
  return {
    maxFrameSize: link.maxFrameSize,
    send: (frame) => link.send(frame),
    receive: () => link.receive(),
    stats: () => link.stats(),
    async close() {
      await link.close();
      await line.close();
    },
  };
}
