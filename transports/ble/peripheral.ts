/**
 * The peripheral role of the certsync BLE link, on bleno. The only module that imports
 * bleno: its types and errors stop here.
 *
 * The peripheral serves the certsync GATT service (gatt-service.ts) and advertises its
 * UUID. A central that connects and subscribes to the notify characteristic gets one
 * {@link CreditLink}: its chunks arrive as Write Commands on one characteristic and leave
 * as notifications on the other. One central at a time; advertising resumes for the next
 * `accept()`.
 *
 * The controller is reached through bleno's UART HCI driver (an H4 byte stream on a tty),
 * which works with a serial HCI dongle and with a pty bridged to an emulated controller.
 * Shortcoming: link-layer pairing and encryption are not used; certsync's own session
 * layer authenticates and encrypts end to end.
 */
import { withBindings, type Bleno } from '@stoprocent/bleno';
import { LinkError, silentLogger, type Logger } from '../link.ts';
import { CreditLink, type ChunkPort, type CreditLinkOptions } from './credit-link.ts';
import { SERVICE_UUID, TO_CENTRAL_UUID, TO_PERIPHERAL_UUID } from './gatt-service.ts';

/** How to reach the controller and what to advertise. */
export interface PeripheralOptions {
  /** Path of the tty that speaks HCI H4 to the controller. */
  hciPort: string;
  /** UART speed in bit/s (default 1000000; a pty ignores it). */
  baudRate?: number;
  /** Advertised local name (default `certsync`). */
  name?: string;
  /** Milliseconds to wait for the controller to power on (default 10000). */
  powerOnTimeoutMs?: number;
  /** Options of every link this peripheral accepts. */
  link?: CreditLinkOptions;
  logger?: Logger;
}

interface Session {
  handle: unknown;
  link?: CreditLink;
  /** Chunks written before the central subscribed, kept for the link. */
  early: Uint8Array[];
}

/** A bleno peripheral serving the certsync service. */
export class BlePeripheral {
  readonly #bleno: Bleno;
  readonly #options: PeripheralOptions;
  readonly #log: Logger;
  #session: Session | undefined;
  #waiting: { resolve(link: CreditLink): void; reject(error: LinkError): void } | undefined;
  #stopped = false;

  private constructor(bleno: Bleno, options: PeripheralOptions) {
    this.#bleno = bleno;
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
  }

  /**
   * Powers the controller on and publishes the certsync service (not yet advertised).
   *
   * @throws LinkError `timeout` when the controller does not come up, `link-error` when
   *   bleno refuses the service
   */
  static async open(options: PeripheralOptions): Promise<BlePeripheral> {
    const bleno = withBindings('hci', {
      hciDriver: 'uart',
      bindParams: { uart: { port: options.hciPort, baudRate: options.baudRate ?? 1_000_000 } },
    });
    const peripheral = new BlePeripheral(bleno, options);
    await peripheral.#start();
    return peripheral;
  }

  async #start(): Promise<void> {
    const bleno = this.#bleno;
    const timeoutMs = this.#options.powerOnTimeoutMs ?? 10_000;
    try {
      await bleno.waitForPoweredOnAsync(timeoutMs);
    } catch (cause) {
      bleno.stop();
      throw new LinkError(
        'timeout',
        `BLE controller on ${this.#options.hciPort} did not power on`,
        {
          cause,
        },
      );
    }

    const toPeripheral = new bleno.Characteristic({
      uuid: TO_PERIPHERAL_UUID,
      properties: ['writeWithoutResponse'],
      onWriteRequest: (handle, data, _offset, _withoutResponse, callback) => {
        this.#chunkIn(handle, data);
        // A Write Command needs no answer; bleno still hands a callback for Write Requests.
        callback?.(0);
      },
    });
    const toCentral = new bleno.Characteristic({
      uuid: TO_CENTRAL_UUID,
      properties: ['notify'],
      onSubscribe: (handle, maxValueSize, notify) => this.#subscribed(handle, maxValueSize, notify),
      onUnsubscribe: (handle) => this.#gone(handle, 'the central unsubscribed'),
    });
    bleno.on('accept', (address, handle) => {
      this.#log.info(`ble peripheral: central ${address} connected`);
      this.#session = { handle, early: [] };
    });
    bleno.on('disconnect', (address, handle) => {
      this.#log.info(`ble peripheral: central ${address} disconnected`);
      this.#gone(handle, 'the central disconnected');
    });

    try {
      await bleno.setServicesAsync([
        new bleno.PrimaryService({
          uuid: SERVICE_UUID,
          characteristics: [toPeripheral, toCentral],
        }),
      ]);
    } catch (cause) {
      bleno.stop();
      throw new LinkError('link-error', 'bleno refused the certsync service', { cause });
    }
  }

  /**
   * Advertises and resolves with the link of the next central that connects, subscribes
   * and says HELLO. Only one `accept` may wait at a time; call it again for the next
   * central once this one is served.
   *
   * @throws LinkError `link-closed` if the peripheral is stopped first, `link-error` if
   *   advertising fails or the central breaks the chunk format, `timeout` if the central
   *   subscribes but never says HELLO
   * @throws Error for a second `accept` while one waits (a caller mistake)
   */
  async accept(): Promise<CreditLink> {
    if (this.#stopped) throw new LinkError('link-closed', 'the BLE peripheral is stopped');
    if (this.#waiting) throw new Error('expected one accept() at a time, got a second');
    const linked = new Promise<CreditLink>((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
    try {
      await this.#bleno.startAdvertisingAsync(this.#options.name ?? 'certsync', [SERVICE_UUID]);
    } catch (cause) {
      this.#waiting = undefined;
      throw new LinkError('link-error', 'advertising failed', { cause });
    }
    const link = await linked;
    await link.ready;
    return link;
  }

  /** The controller's Bluetooth address (`aa:bb:cc:dd:ee:ff`), for a central to look for. */
  get address(): string {
    return this.#bleno.address;
  }

  /**
   * Drops the current connection at once, without the close handshake: the central's link
   * fails as if the peripheral had walked out of range. For tests of that failure.
   */
  disconnect(): void {
    if (this.#session) this.#bleno.disconnect();
  }

  /**
   * Stops advertising, drops any connection and releases the controller. Within a second
   * bleno holds nothing that keeps the process alive.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#waiting?.reject(new LinkError('link-closed', 'the BLE peripheral stopped'));
    this.#waiting = undefined;
    this.#session?.link?.abort();
    this.#bleno.stop();
    endDevicePolling(this.#bleno);
  }

  #subscribed(handle: unknown, maxValueSize: number, notify: (data?: Buffer) => void): void {
    const session = this.#session;
    if (!session || session.handle !== handle || session.link) return;
    const bleno = this.#bleno;
    let connected = true;
    const port: ChunkPort = {
      chunkSize: maxValueSize,
      async write(chunk) {
        if (!connected) throw new LinkError('link-error', 'the central is gone');
        notify(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      },
      end: () =>
        new Promise<void>((resolve) => {
          if (!connected) return resolve();
          bleno.once('disconnect', () => resolve());
          bleno.disconnect();
        }),
      abort() {
        if (connected) bleno.disconnect();
      },
    };
    const link = new CreditLink(port, { logger: this.#log, ...this.#options.link });
    session.link = link;
    const markGone = () => (connected = false);
    bleno.once('disconnect', markGone);
    for (const chunk of session.early.splice(0)) link.onChunk(chunk);
    this.#log.info(`ble peripheral: link up, ${maxValueSize} bytes per chunk`);
    const waiting = this.#waiting;
    this.#waiting = undefined;
    void this.#bleno.stopAdvertisingAsync().catch(() => {});
    if (waiting) waiting.resolve(link);
    else link.abort();
  }

  #chunkIn(handle: unknown, data: Buffer): void {
    const session = this.#session;
    if (!session || session.handle !== handle) return;
    const chunk = new Uint8Array(data);
    if (session.link) session.link.onChunk(chunk);
    else if (session.early.length < 64) session.early.push(chunk);
  }

  #gone(handle: unknown, reason: string): void {
    const session = this.#session;
    if (!session || session.handle !== handle) return;
    this.#session = undefined;
    session.link?.onDisconnect(reason);
  }
}

/**
 * bleno 0.12's HCI layer re-arms a one-second timer that polls the device state, forever,
 * even after `stop()`, so a process that used bleno never exits by itself. This replaces
 * the poll on the stopped instance with one that does not re-arm; the timer already armed
 * runs out within a second. It reaches into bleno's internals (`_bindings._hci`) and does
 * nothing if their shape changed.
 */
function endDevicePolling(bleno: Bleno): void {
  const bindings: unknown = Reflect.get(bleno, '_bindings');
  const hci: unknown = typeof bindings === 'object' && bindings ? Reflect.get(bindings, '_hci') : 0;
  if (typeof hci === 'object' && hci && typeof Reflect.get(hci, 'pollIsDevUp') === 'function') {
    Reflect.set(hci, 'pollIsDevUp', () => {});
  }
}
