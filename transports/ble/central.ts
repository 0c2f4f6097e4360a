/**
 * The central role of the certsync BLE link, on noble. The only module that imports
 * noble: its types and errors stop here.
 *
 * The central scans for the certsync service UUID, connects to the first peripheral that
 * advertises it, lets noble negotiate the ATT MTU, finds the two characteristics, and
 * subscribes to notifications before it says anything, so no chunk of the peripheral's is
 * missed. The controller is reached through noble's UART HCI driver (see peripheral.ts).
 */
import { withBindings, type Characteristic, type Noble, type Peripheral } from '@stoprocent/noble';
import { LinkError, silentLogger, type Logger } from '../link.ts';
import { CreditLink, type ChunkPort, type CreditLinkOptions } from './credit-link.ts';
import {
  MIN_ATT_MTU,
  SERVICE_UUID,
  TO_CENTRAL_UUID,
  TO_PERIPHERAL_UUID,
  chunkSizeForMtu,
} from './gatt-service.ts';

/** How to reach the controller. */
export interface CentralOptions {
  /** Path of the tty that speaks HCI H4 to the controller. */
  hciPort: string;
  /** UART speed in bit/s (default 1000000; a pty ignores it). */
  baudRate?: number;
  /** Milliseconds to wait for the controller to power on (default 10000). */
  powerOnTimeoutMs?: number;
  /** Options of every link this central opens. */
  link?: CreditLinkOptions;
  logger?: Logger;
}

/** A noble central that opens links to certsync peripherals. */
export class BleCentral {
  readonly #noble: Noble;
  readonly #options: CentralOptions;
  readonly #log: Logger;
  readonly #links = new Set<CreditLink>();
  #stopped = false;

  private constructor(noble: Noble, options: CentralOptions) {
    this.#noble = noble;
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
  }

  /**
   * Powers the controller on.
   *
   * @throws LinkError `timeout` when the controller does not come up
   */
  static async open(options: CentralOptions): Promise<BleCentral> {
    const noble = withBindings('hci', {
      hciDriver: 'uart',
      bindParams: { uart: { port: options.hciPort, baudRate: options.baudRate ?? 1_000_000 } },
    });
    try {
      await noble.waitForPoweredOnAsync(options.powerOnTimeoutMs ?? 10_000);
    } catch (cause) {
      noble.stop();
      throw new LinkError('timeout', `BLE controller on ${options.hciPort} did not power on`, {
        cause,
      });
    }
    return new BleCentral(noble, options);
  }

  /**
   * Finds a certsync peripheral, connects and returns the link once both sides said HELLO.
   *
   * @param options.timeoutMs bound on the scan and on each step of the connection
   *   (default 15000)
   * @param options.address connect only to the peripheral with this address
   *   (`aa:bb:cc:dd:ee:ff`, any case); by default the first certsync peripheral heard
   * @throws LinkError `timeout` when no peripheral answers in time, `link-error` when the
   *   connection or the service discovery fails, `link-closed` after `stop()`
   */
  async connect(options: { timeoutMs?: number; address?: string } = {}): Promise<CreditLink> {
    if (this.#stopped) throw new LinkError('link-closed', 'the BLE central is stopped');
    const timeoutMs = options.timeoutMs ?? 15_000;
    const peripheral = await this.#scan(timeoutMs, options.address?.toLowerCase());

    const step = <T>(what: string, promise: Promise<T>): Promise<T> =>
      withTimeout(promise, timeoutMs, what).catch((cause: unknown) => {
        peripheral.disconnect();
        if (cause instanceof LinkError) throw cause;
        throw new LinkError('link-error', `BLE ${what} failed`, { cause });
      });

    await step('connect', peripheral.connectAsync());
    const found = await step(
      'service discovery',
      peripheral.discoverSomeServicesAndCharacteristicsAsync(
        [SERVICE_UUID],
        [TO_PERIPHERAL_UUID, TO_CENTRAL_UUID],
      ),
    );
    const toPeripheral = found.characteristics.find((c) => c.uuid === TO_PERIPHERAL_UUID);
    const toCentral = found.characteristics.find((c) => c.uuid === TO_CENTRAL_UUID);
    if (!toPeripheral || !toCentral) {
      peripheral.disconnect();
      throw new LinkError('link-error', 'the peripheral lacks the certsync characteristics');
    }

    // Chunks that arrive before the link exists wait here (the peripheral says HELLO as
    // soon as it sees the subscription, which may be before subscribeAsync resolves).
    const inbound: { link?: CreditLink; early: Uint8Array[] } = { early: [] };
    toCentral.on('data', (data: Buffer) => {
      const chunk = new Uint8Array(data);
      if (inbound.link) inbound.link.onChunk(chunk);
      else if (inbound.early.length < 64) inbound.early.push(chunk);
    });
    await step('subscribe', toCentral.subscribeAsync());

    const mtu = peripheral.mtu ?? MIN_ATT_MTU;
    const opened = new CreditLink(this.#port(peripheral, toPeripheral, chunkSizeForMtu(mtu)), {
      logger: this.#log,
      ...this.#options.link,
    });
    inbound.link = opened;
    this.#links.add(opened);
    peripheral.once('disconnect', (reason: number | string) => {
      this.#links.delete(opened);
      opened.onDisconnect(`the peripheral disconnected (HCI status ${reason})`);
    });
    for (const chunk of inbound.early.splice(0)) opened.onChunk(chunk);
    this.#log.info(`ble central: link up to ${peripheral.address}, ATT MTU ${mtu}`);
    await opened.ready;
    return opened;
  }

  /**
   * Drops every link and releases the controller. The process may still need to exit by
   * itself: noble keeps listeners on `process`.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const link of this.#links) link.abort();
    this.#links.clear();
    this.#noble.stop();
  }

  async #scan(timeoutMs: number, address: string | undefined): Promise<Peripheral> {
    const noble = this.#noble;
    let onDiscover: (p: Peripheral) => void = () => {};
    // Listen before scanning: noble may report the first advertisement in the same tick
    // that the scan starts.
    const discovered = new Promise<Peripheral>((resolve) => {
      onDiscover = (p) => {
        if (p.connectable === false) return;
        if (address === undefined || p.address.toLowerCase() === address) resolve(p);
      };
      noble.on('discover', onDiscover);
    });
    try {
      await noble.startScanningAsync([SERVICE_UUID], false);
      return await withTimeout(discovered, timeoutMs, 'scan for a certsync peripheral');
    } finally {
      noble.removeListener('discover', onDiscover);
      // noble answers a stop only while a scan runs; do not wait on it forever.
      await withTimeout(noble.stopScanningAsync(), 2000, 'scan stop').catch(() => {});
    }
  }

  #port(peripheral: Peripheral, toPeripheral: Characteristic, chunkSize: number): ChunkPort {
    return {
      chunkSize,
      async write(chunk) {
        if (peripheral.state !== 'connected') {
          throw new LinkError('link-error', 'the peripheral is not connected');
        }
        await toPeripheral.writeAsync(
          Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length),
          true,
        );
      },
      async end() {
        if (peripheral.state === 'connected') await peripheral.disconnectAsync();
      },
      abort() {
        if (peripheral.state === 'connected') peripheral.disconnect();
      },
    };
  }
}

/** `promise`, or a LinkError `timeout` after `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new LinkError('timeout', `BLE ${what} took longer than ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
