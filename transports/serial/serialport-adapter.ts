/**
 * The one module that touches the `serialport` package: it opens a port as a plain Node
 * Duplex byte stream and translates serialport's errors into {@link LinkError}s, so its
 * types go no further than this file.
 */
import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import { LinkError, type Link } from '../link.ts';
import { SerialLink, type SerialLinkOptions, type SerialLinkStats } from './serial-link.ts';

/** An open serial port as a byte stream, and the way to let it go. */
export interface SerialLine {
  readonly path: string;
  readonly stream: Duplex;
  /** Closes the port; resolves when the operating system has let it go. Never rejects. */
  close(): Promise<void>;
}

/** How to open a port. */
export interface SerialLineOptions {
  /** Line speed in bit/s (default 115200). Pseudo-terminals accept and ignore it. */
  baudRate?: number;
  /** Ask for RTS/CTS hardware flow control (default false). */
  rtscts?: boolean;
}

/**
 * Opens the serial device at `path` (a `/dev/tty*` device or a pty) in raw mode, 8N1.
 *
 * @throws LinkError `link-error` naming the path when the port cannot be opened
 */
export async function openSerialLine(
  path: string,
  options: SerialLineOptions = {},
): Promise<SerialLine> {
  const port = new SerialPort({
    path,
    baudRate: options.baudRate ?? 115_200,
    dataBits: 8,
    parity: 'none',
    stopBits: 1,
    rtscts: options.rtscts ?? false,
    autoOpen: false,
  });
  await new Promise<void>((resolve, reject) => {
    port.open((error) => {
      if (!error) return resolve();
      reject(
        new LinkError('link-error', `cannot open serial port ${path}: ${error.message}`, {
          cause: error,
        }),
      );
    });
  });
  return {
    path,
    stream: port,
    close: () =>
      new Promise((resolve) => {
        if (!port.isOpen) return resolve();
        port.close(() => resolve());
      }),
  };
}

/** A {@link SerialLink} on a port it opened itself; closing the link closes the port. */
export interface SerialPortLink extends Link {
  stats(): SerialLinkStats;
}

/**
 * Opens `path` and runs a {@link SerialLink} on it.
 *
 * @throws LinkError `link-error` when the port cannot be opened
 */
export async function openSerialPortLink(
  path: string,
  options: SerialLineOptions & SerialLinkOptions = {},
): Promise<SerialPortLink> {
  const line = await openSerialLine(path, options);
  const link = new SerialLink(line.stream, options);
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
