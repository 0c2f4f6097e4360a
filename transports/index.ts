/**
 * certsync's transports: links that move framed bytes between two clients.
 *
 * Every link implements {@link Link} (link.ts) and passes the compliance suite
 * (compliance.ts, imported directly by test files, not from here). Link models run on a
 * {@link VirtualClock}, for tests and benchmarks.
 */
export { LinkError, isLinkError, silentLogger } from './link.ts';
export type { Link, LinkErrorCode, Logger } from './link.ts';
export { realClock } from './clock.ts';
export type { Clock, Timer } from './clock.ts';

export { VirtualClock } from './model/virtual-clock.ts';
export { createModelLinkPair } from './model/link-model.ts';
export type { ModelLinkPair, ModelOptions, ModelStats } from './model/link-model.ts';
export { createModelLinePair } from './model/byte-line.ts';
export type { LineOptions, LineStats, ModelLinePair } from './model/byte-line.ts';
export { rawCapacity } from './model/link-params.ts';
export type { LinkParams, SlotSchedule } from './model/link-params.ts';
export {
  BLE_1M,
  BLE_2M,
  bleParams,
  IRDA_SIR_115200,
  IRDA_SIR_9600,
  PRESETS,
  SERIAL_115200,
} from './model/presets.ts';
export type { BleConnection } from './model/presets.ts';
export { seededRandom } from './model/seeded-random.ts';

export { SerialLink } from './serial/serial-link.ts';
export type { SerialLinkOptions, SerialLinkStats } from './serial/serial-link.ts';
export { openSerialLine, openSerialPortLink } from './serial/serialport-adapter.ts';
export type { SerialLine, SerialLineOptions, SerialPortLink } from './serial/serialport-adapter.ts';

export { IrdaLink } from './irda/irda-link.ts';
export type { IrdaLinkOptions, IrdaLinkStats } from './irda/irda-link.ts';
export { openIrdaPortLink } from './irda/irda-port.ts';
export type { IrdaPortLink } from './irda/irda-port.ts';

export { TcpLink, connectTcpLink, listenTcpLink } from './tcp.ts';
export type { TcpLinkListener, TcpLinkOptions } from './tcp.ts';
