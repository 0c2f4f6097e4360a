/**
 * Opening the links a client runs on, by the name a user types: `tcp` (127.0.0.1, for
 * tests), `serial` (a serial device or pty, at `--device`), `irda` (IrDA SIR framing, half
 * duplex, on a serial device at `--device`) and `ble` (a bleno peripheral that advertises
 * the certsync service, or a noble central that scans for it, on the controller at
 * `--hci`). A listener hands out one link per peer, one after another, so a long-lived
 * `serve` can take the next peer when the last has left.
 *
 * TCP carries length-prefixed frames (transports/tcp.ts); a serial line carries the serial
 * link's framing (COBS, CRC-32, acknowledgements).
 */
import { SerialPort } from 'serialport';
import { CertsyncError } from '../../protocol/errors.ts';
import type { Link, Logger } from '../../transports/link.ts';
import { BleCentral } from '../../transports/ble/central.ts';
import { openIrdaPortLink } from '../../transports/irda/irda-port.ts';
import { BlePeripheral } from '../../transports/ble/peripheral.ts';
import { SerialLink, type SerialLinkOptions } from '../../transports/serial/serial-link.ts';
import {
  connectTcpLink,
  listenTcpLink,
  type TcpLink,
  type TcpLinkListener,
} from '../../transports/tcp.ts';

/** The links a client can use. */
export const LINK_KINDS = ['tcp', 'serial', 'irda', 'ble'] as const;
/** A link kind's name. */
export type LinkKind = (typeof LINK_KINDS)[number];

/** Where a link goes. */
export interface LinkSpec {
  readonly kind: LinkKind;
  /** serial: the device path (e.g. /dev/ttyUSB0, or a pty from socat). */
  readonly device?: string;
  /** serial: line speed (default 115200; a pty ignores it). */
  readonly baud?: number;
  /** tcp: the port on 127.0.0.1 (0 when listening: any free one). */
  readonly port?: number;
  /** ble: the tty that speaks HCI H4 to the Bluetooth controller. */
  readonly hci?: string;
  readonly logger?: Logger;
}

/** An open link and how to give it back. */
export interface OpenLink {
  readonly link: Link;
  /** Closes the link and whatever was opened for it alone. */
  release(): Promise<void>;
}

/** Hands out one link per arriving peer. */
export interface LinkListener {
  /** Where peers reach it, for the user: `tcp 127.0.0.1:40123`, `serial /dev/pts/3`. */
  readonly address: string;
  /**
   * True when `next` hands out a link only once a peer has connected (tcp, ble). On serial
   * and IrDA lines a link stands for no one until the peer's first frame arrives.
   */
  readonly connects: boolean;
  /** The next peer's link. */
  next(): Promise<OpenLink>;
  close(): Promise<void>;
}

/** Serial-link settings: a session's own timeouts govern, so the line may idle longer. */
function serialOptions(spec: LinkSpec, deadPeerMs: number): SerialLinkOptions {
  return { deadPeerMs, ...(spec.logger ? { logger: spec.logger } : {}) };
}

/**
 * Reaches a peer that listens.
 *
 * @throws CertsyncError `link-error` when the device or port cannot be opened,
 *   `bad-input` when the spec lacks what its kind needs
 */
export async function dialLink(spec: LinkSpec): Promise<OpenLink> {
  switch (spec.kind) {
    case 'tcp': {
      const port = needPort(spec);
      let link: TcpLink;
      try {
        link = await connectTcpLink(port, logOf(spec));
      } catch (cause) {
        throw new CertsyncError('link-error', `cannot reach 127.0.0.1:${port}`, { cause });
      }
      return { link, release: () => link.close().catch(() => undefined) };
    }
    case 'ble': {
      const central = await BleCentral.open({ hciPort: needHci(spec), ...logOf(spec) }).catch(
        (cause: unknown) => {
          throw new CertsyncError('link-error', `no Bluetooth controller: ${String(cause)}`, {
            cause,
          });
        },
      );
      try {
        const link = await central.connect({ timeoutMs: 20_000 });
        return {
          link,
          release: async () => {
            await link.close().catch(() => undefined);
            await central.stop();
          },
        };
      } catch (cause) {
        await central.stop();
        throw new CertsyncError('link-error', `no certsync peer found: ${String(cause)}`, {
          cause,
        });
      }
    }
    case 'irda': {
      // The side that connects is the IrLAP primary: it opens the connection and polls.
      const link = await openIrdaPortLink(needDevice(spec), {
        role: 'primary',
        baudRate: spec.baud ?? 115_200,
        ...logOf(spec),
      }).catch((cause: unknown) => {
        throw new CertsyncError('link-error', `cannot open ${spec.device}: ${String(cause)}`, {
          cause,
        });
      });
      return { link, release: () => link.close().catch(() => undefined) };
    }
    case 'serial': {
      const port = await openSerial(spec);
      const link = new SerialLink(port, serialOptions(spec, 15_000));
      return {
        link,
        release: async () => {
          await link.close().catch(() => undefined);
          await closeSerial(port);
        },
      };
    }
  }
}

/**
 * Waits for peers.
 *
 * @throws CertsyncError `link-error` when the device or port cannot be opened
 */
export async function listenLink(spec: LinkSpec): Promise<LinkListener> {
  switch (spec.kind) {
    case 'tcp':
      return listenTcp(spec);
    case 'serial':
      return listenSerial(spec);
    case 'irda':
      return listenIrda(spec);
    case 'ble':
      return listenBle(spec);
  }
}

async function listenBle(spec: LinkSpec): Promise<LinkListener> {
  let peripheral: BlePeripheral;
  try {
    peripheral = await BlePeripheral.open({ hciPort: needHci(spec), ...logOf(spec) });
  } catch (cause) {
    throw new CertsyncError('link-error', `no Bluetooth controller: ${String(cause)}`, { cause });
  }
  return {
    address: `ble ${spec.hci} (advertising certsync)`,
    connects: true,
    next: async () => {
      const link = await peripheral.accept();
      return {
        link,
        release: async () => {
          await link.close().catch(() => undefined);
          peripheral.disconnect();
        },
      };
    },
    close: () => peripheral.stop(),
  };
}

/**
 * IrDA: one secondary station per peer, each on the device opened anew; IrLAP's own
 * connection setup (SNRM / UA) tells one peer's frames from the next one's.
 */
function listenIrda(spec: LinkSpec): LinkListener {
  const device = needDevice(spec);
  return {
    address: `irda ${device}`,
    connects: false,
    next: async () => {
      const link = await openIrdaPortLink(device, {
        role: 'secondary',
        baudRate: spec.baud ?? 115_200,
        connectTimeoutMs: 3_600_000,
        ...logOf(spec),
      }).catch((cause: unknown) => {
        throw new CertsyncError('link-error', `cannot open ${device}: ${String(cause)}`, {
          cause,
        });
      });
      return { link, release: () => link.close().catch(() => undefined) };
    },
    close: async () => undefined,
  };
}

function needDevice(spec: LinkSpec): string {
  if (!spec.device) throw new CertsyncError('bad-input', 'this link needs --device PATH');
  return spec.device;
}

function needHci(spec: LinkSpec): string {
  if (!spec.hci) throw new CertsyncError('bad-input', 'a ble link needs --hci TTY');
  return spec.hci;
}

function needPort(spec: LinkSpec): number {
  const port = spec.port;
  if (port === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CertsyncError('bad-input', `a tcp link needs --port 0..65535, got ${String(port)}`);
  }
  return port;
}

async function listenTcp(spec: LinkSpec): Promise<LinkListener> {
  let listener: TcpLinkListener;
  try {
    listener = await listenTcpLink({ port: spec.port ?? 0, ...logOf(spec) });
  } catch (cause) {
    throw new CertsyncError('link-error', `cannot listen on 127.0.0.1: ${String(cause)}`, {
      cause,
    });
  }
  return {
    address: `tcp 127.0.0.1:${listener.port}`,
    connects: true,
    next: async () => {
      const link = await listener.accept();
      return { link, release: () => link.close().catch(() => undefined) };
    },
    close: () => listener.close(),
  };
}

function logOf(spec: LinkSpec): { logger?: Logger } {
  return spec.logger ? { logger: spec.logger } : {};
}

async function listenSerial(spec: LinkSpec): Promise<LinkListener> {
  const port = await openSerial(spec);
  return {
    address: `serial ${spec.device}`,
    connects: false,
    // One link per peer on the same open port. The serial link has no connection handshake
    // (transports/serial/serial-link.ts), so a new one starts only after the last has ended,
    // and what the last peer still had on the line is discarded first. Shortcoming: bytes
    // of the last peer that are still in flight after the discard reach the new link.
    next: async () => {
      await flushInput(port);
      const link = new SerialLink(port, serialOptions(spec, 15_000));
      return { link, release: () => link.close().catch(() => undefined) };
    },
    close: () => closeSerial(port),
  };
}

async function openSerial(spec: LinkSpec): Promise<SerialPort> {
  const path = spec.device;
  if (!path) throw new CertsyncError('bad-input', 'a serial link needs --device PATH');
  const port = new SerialPort({ path, baudRate: spec.baud ?? 115_200, autoOpen: false });
  try {
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  } catch (cause) {
    throw new CertsyncError('link-error', `cannot open ${path}: ${String(cause)}`, { cause });
  }
  port.on('error', () => undefined);
  return port;
}

/** Discards what the port received and has not been read (tcflush). */
export async function flushInput(port: SerialPort): Promise<void> {
  if (!port.isOpen) return;
  await new Promise<void>((resolve) => port.flush(() => resolve()));
}

async function closeSerial(port: SerialPort): Promise<void> {
  if (!port.isOpen) return;
  await new Promise<void>((resolve) => port.close(() => resolve()));
}
