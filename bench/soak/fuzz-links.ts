/**
 * Fuzz part `fuzz-links`: the transports' decoders of line bytes. Serial framing (COBS,
 * CRC-32, frame kinds) fed as a stream in random pieces, IrDA SIR framing and IrLAP frame
 * parsing, and BLE chunks fed to a whole credit link (HELLO, credits, START/MORE
 * reassembly). Line decoders never throw: damage is reported as `'bad'`. The credit link
 * turns a broken chunk stream into its own failure; nothing may escape `onChunk`. Memory:
 * decoders must hold no more than one frame, so every returned frame is checked against
 * the format's limit.
 */
import { LinkError } from '../../transports/link.ts';
import { CreditLink, type ChunkPort } from '../../transports/ble/credit-link.ts';
import {
  CHUNK_VERSION,
  ChunkFormatError,
  decodeChunk,
  encodeChunk,
  fragmentFrame,
} from '../../transports/ble/gatt-service.ts';
import { iFrame, parseIrlapFrame } from '../../transports/irda/irlap-frame.ts';
import { encodeSirFrame, SirDecoder } from '../../transports/irda/sir-framing.ts';
import { VirtualClock } from '../../transports/model/virtual-clock.ts';
import { cobsDecode, cobsEncode } from '../../transports/serial/cobs.ts';
import {
  encodeSerialFrame,
  MAX_SEGMENT_BYTES,
  SerialFrameDecoder,
} from '../../transports/serial/serial-frame.ts';
import { runFuzz, type FuzzTarget } from './fuzz-harness.ts';
import type { PartContext, PartResult } from './part.ts';

const IRDA_MAX = 2048 + 2;
const CHUNK = 244;

/** Marks a decoder that broke its own contract (never accepted as a rejection). */
class DecoderFault extends Error {
  override name = 'DecoderFault';
}

function body(n: number, salt: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + salt) & 0xff);
}

/** Chunks as one input: each chunk preceded by its length byte. */
function packChunks(chunks: readonly Uint8Array[]): Uint8Array {
  const out: number[] = [];
  for (const c of chunks) out.push(c.length, ...c);
  return Uint8Array.from(out);
}

function unpackChunks(input: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < input.length;) {
    const n = input[at]!;
    out.push(input.subarray(at + 1, at + 1 + n));
    at += 1 + n;
  }
  return out;
}

const sinkPort: ChunkPort = {
  chunkSize: CHUNK,
  write: () => Promise.resolve(),
  end: () => Promise.resolve(),
  abort: () => {},
};

/** The targets of this part. */
export function linkTargets(): FuzzTarget[] {
  const serialSeeds = [
    encodeSerialFrame({
      kind: 'data',
      seq: 1,
      ack: 0,
      window: 16,
      end: true,
      fin: false,
      payload: body(1200, 1),
    }),
    encodeSerialFrame({ kind: 'ack', ack: 3, window: 16, sack: 0b101 }),
  ];
  const serialStream = Uint8Array.from([...serialSeeds[0]!, ...serialSeeds[1]!]);
  const sirSeeds = [
    encodeSirFrame(iFrame(0x12, true, 0, 0, true, body(1500, 2))),
    encodeSirFrame(Uint8Array.of(0x25, 0x93), 10),
  ];
  const hello = encodeChunk({ kind: 'hello', seq: 0, version: CHUNK_VERSION, credits: 64 });
  const frame = fragmentFrame(body(1800, 3), CHUNK, 1).map(encodeChunk);
  const bleSeeds = [packChunks([hello, ...frame]), packChunks([hello, ...frame.slice(0, 3)])];
  return [
    {
      name: 'serial-stream',
      seeds: [serialStream, ...serialSeeds],
      run: (input) => {
        const decoder = new SerialFrameDecoder();
        // Random-sized pieces, as a UART read hands them over.
        for (let at = 0; at < input.length;) {
          const n = 1 + ((input[at]! * 7) % 97);
          for (const f of decoder.push(input.subarray(at, at + n))) {
            if (f !== 'bad' && f.kind === 'data' && f.payload.length > MAX_SEGMENT_BYTES) {
              throw new DecoderFault(`a segment of ${f.payload.length} bytes came through`);
            }
          }
          at += n;
        }
      },
      accepts: () => false,
    },
    {
      name: 'cobs',
      seeds: [cobsEncode(body(300, 4)), cobsEncode(new Uint8Array(600))],
      weight: 0.5,
      run: (input) => {
        const out = cobsDecode(input.filter((b) => b !== 0));
        if (out && out.length > input.length) throw new DecoderFault('COBS output grew');
      },
      accepts: () => false,
    },
    {
      name: 'irda-sir',
      seeds: sirSeeds,
      run: (input) => {
        const decoder = new SirDecoder(IRDA_MAX);
        for (const f of decoder.push(input)) {
          if (f === 'bad') continue;
          if (f.length > IRDA_MAX) throw new DecoderFault(`a frame of ${f.length} bytes`);
          parseIrlapFrame(f, 0x12);
        }
      },
      accepts: () => false,
    },
    {
      name: 'ble-chunks',
      seeds: bleSeeds,
      run: (input) => {
        const link = new CreditLink(sinkPort, {
          clock: new VirtualClock(),
          maxFrameSize: 4096,
        });
        link.ready.catch(() => undefined);
        for (const chunk of unpackChunks(input)) link.onChunk(chunk);
        link.onDisconnect('soak input ended');
        void link.close().catch(() => undefined);
      },
      accepts: () => false,
    },
    {
      name: 'ble-chunk',
      seeds: [hello, ...frame.slice(0, 2)],
      weight: 0.3,
      run: (input) => void decodeChunk(input),
      accepts: (err) => err instanceof ChunkFormatError || err instanceof LinkError,
    },
  ];
}

/** Runs the part with its share of the fuzz budget. */
export function fuzzLinks(ctx: PartContext, inputs: number, seconds: number): Promise<PartResult> {
  return runFuzz('fuzz-links', linkTargets(), ctx, inputs, seconds);
}
