/**
 * `node --import tsx bench/session.bench.ts [--quick]`: what the encrypted session costs.
 *
 * 1. Handshake time per mode: the pure handshake (both sides' cryptography, no link), and
 *    the whole SecureLink open over an in-memory link (hellos, frames, peer look-ups).
 * 2. A 1 MiB transfer, plain versus encrypted, over the same in-memory link: the CPU time
 *    encryption adds as a share of the encrypted transfer, and the bytes it adds on the wire,
 *    for large frames and for frames the size of one BLE ATT write (244 bytes).
 *
 * The in-memory link is a link model on a virtual clock with a 1 Gbit/s line, so wall time
 * is CPU time. The same added CPU time is also given as a share of a transfer on BLE 2M and
 * on a 115,200 bit/s serial line, whose rates set the pace there. Writes a table to stdout
 * and bench/out/session.json. Figures from a busy shared machine vary by a factor of two.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { patternOf } from '../protocol/secure/frames.ts';
import type { HandshakeMode } from '../protocol/secure/frames.ts';
import { HandshakeState } from '../protocol/secure/handshake.ts';
import { formatPairingSecret, pskFromPairingSecret } from '../protocol/secure/pairing.ts';
import { buildPrologue } from '../protocol/secure/prologue.ts';
import type { Link } from '../transports/link.ts';
import { createIdentity, systemRandom } from '../node/keys/identity.ts';
import type { Identity } from '../node/keys/identity.ts';
import { MemoryPeerBook } from '../node/keys/peer-book.ts';
import { acceptSecure, connectSecure } from '../node/keys/secure-link.ts';
import type { InitiatorIntent, ResponderPairing } from '../node/keys/secure-link.ts';
import { TEST_LINE, modelPair } from '../node/keys/test-relay.ts';

const quick = process.argv.includes('--quick');
const HANDSHAKES = quick ? 20 : 200;
const TRANSFERS = quick ? 3 : 10;
const MIB = 1024 * 1024;
/** Payload rates of the modelled links (transports/model presets), in bytes per second. */
const LINK_RATES = { ble2m: 162_700, serial115200: 11_520 };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)] ?? 0;

const hellos = {
  initiatorHello: new TextEncoder().encode('hello from the initiator'),
  responderHello: new TextEncoder().encode('hello from the responder'),
};

/** Both sides of one handshake in this process, nothing else. */
function pureHandshake(mode: HandshakeMode, a: Identity, b: Identity, secret: string): void {
  const pattern = patternOf(mode);
  const prologue = buildPrologue(hellos);
  const psk = pattern === 'XXpsk3' ? { psk: pskFromPairingSecret(secret) } : {};
  const initiator = new HandshakeState({
    pattern,
    initiator: true,
    prologue,
    staticSecret: a.x25519SecretKey,
    staticPublic: a.x25519PublicKey,
    ephemeralSecret: systemRandom(32),
    ...(pattern === 'IK' ? { remoteStatic: b.x25519PublicKey } : {}),
    ...psk,
  });
  const responder = new HandshakeState({
    pattern,
    initiator: false,
    prologue,
    staticSecret: b.x25519SecretKey,
    staticPublic: b.x25519PublicKey,
    ephemeralSecret: systemRandom(32),
    ...psk,
  });
  const payload = new Uint8Array(mode === 'pair' ? 32 : 0);
  let writer = initiator;
  let reader = responder;
  while (!writer.isComplete) {
    reader.readMessage(writer.writeMessage(payload));
    [writer, reader] = [reader, writer];
  }
  initiator.split();
  responder.split();
}

interface Party {
  identity: Identity;
  peers: MemoryPeerBook;
}

/** One SecureLink open between `pc` and `phone`, over a fresh in-memory link. */
async function linkHandshake(mode: HandshakeMode, pc: Party, phone: Party, secret: string) {
  const { a, b, cleanup } = modelPair();
  const yes = async () => true;
  const intent: InitiatorIntent =
    mode === 'session-ik'
      ? { kind: 'session', peer: 'phone' }
      : mode === 'session-xx'
        ? { kind: 'session' }
        : mode === 'pair'
          ? { kind: 'pair', name: 'phone', confirm: yes }
          : { kind: 'pair-secret', name: 'phone', secret };
  const pairing: ResponderPairing | undefined =
    mode === 'pair'
      ? { kind: 'pair', name: 'pc', confirm: yes }
      : mode === 'pair-secret'
        ? { kind: 'pair-secret', name: 'pc', secret }
        : undefined;
  const start = performance.now();
  const [x, y] = await Promise.all([
    connectSecure({ link: a, ...pc, hellos, intent }),
    acceptSecure({ link: b, ...phone, hellos, ...(pairing ? { pairing } : {}) }),
  ]);
  const ms = performance.now() - start;
  await Promise.all([x.close(), y.close()]);
  await cleanup();
  return ms;
}

/** Sends `total` bytes in frames of `size` from `from` to `to`; returns wall ms. */
async function transfer(from: Link, to: Link, total: number, size: number): Promise<number> {
  const frame = new Uint8Array(size).fill(0x5a);
  const start = performance.now();
  const writer = (async () => {
    for (let sent = 0; sent < total; sent += size) await from.send(frame);
  })();
  for (let got = 0; got < total;) {
    const f = await to.receive();
    if (f === null) throw new Error('the transfer ended early');
    got += f.length;
  }
  await writer;
  return performance.now() - start;
}

async function transferCost(linkFrame: number) {
  const params = { ...TEST_LINE, maxFrameSize: linkFrame };
  const pc: Party = { identity: createIdentity(), peers: new MemoryPeerBook() };
  const phone: Party = { identity: createIdentity(), peers: new MemoryPeerBook() };
  pc.peers.add({ name: 'phone', publicKey: phone.identity.x25519PublicKey, pairedAt: 0 });
  phone.peers.add({ name: 'pc', publicKey: pc.identity.x25519PublicKey, pairedAt: 0 });
  const plain: number[] = [];
  const secure: number[] = [];
  let body = 0;
  for (let i = 0; i < TRANSFERS; i++) {
    const raw = modelPair(params);
    plain.push(await transfer(raw.a, raw.b, MIB, linkFrame - 17));
    await raw.cleanup();

    const wire = modelPair(params);
    const [x, y] = await Promise.all([
      connectSecure({ link: wire.a, ...pc, hellos, intent: { kind: 'session', peer: 'phone' } }),
      acceptSecure({ link: wire.b, ...phone, hellos }),
    ]);
    body = x.maxFrameSize;
    secure.push(await transfer(x, y, MIB, body));
    await Promise.all([x.close(), y.close()]);
    await wire.cleanup();
  }
  const frames = Math.ceil(MIB / body);
  const plainMs = median(plain);
  const secureMs = median(secure);
  // On a real link the line, not the CPU, sets the pace: the added CPU time as a share of the
  // whole transfer (line time of the encrypted bytes plus that CPU time, not overlapped).
  const extraMs = secureMs - plainMs;
  const onLink = (rate: number) => {
    const lineMs = ((MIB + frames * 17) / rate) * 1000;
    return round(extraMs / (lineMs + extraMs), 4);
  };
  return {
    linkFrameBytes: linkFrame,
    bodyBytes: body,
    plainMs: round(plainMs),
    encryptedMs: round(secureMs),
    encryptionShareOfTime: round((secureMs - plainMs) / secureMs, 3),
    wireOverheadShare: round((frames * 17) / (frames * 17 + MIB), 4),
    encryptedMBps: round(MIB / 1e6 / (secureMs / 1000)),
    cpuShareOnBle2M: onLink(LINK_RATES.ble2m),
    cpuShareOnSerial: onLink(LINK_RATES.serial115200),
  };
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

async function main(): Promise<void> {
  const a = createIdentity();
  const b = createIdentity();
  const secret = formatPairingSecret(systemRandom(16));
  const modes: HandshakeMode[] = ['session-ik', 'session-xx', 'pair-secret', 'pair'];
  const handshakes = [];
  // Warm the JIT on every mode first, so the first mode measured is not the slow one.
  for (const mode of modes) for (let i = 0; i < 5; i++) pureHandshake(mode, a, b, secret);
  for (const mode of modes) {
    const pure: number[] = [];
    for (let i = 0; i < HANDSHAKES; i++) {
      const start = performance.now();
      pureHandshake(mode, a, b, secret);
      pure.push(performance.now() - start);
    }
    const overLink: number[] = [];
    for (let i = 0; i < HANDSHAKES; i++) {
      const pc: Party = { identity: a, peers: new MemoryPeerBook() };
      const phone: Party = { identity: b, peers: new MemoryPeerBook() };
      if (mode.startsWith('session')) {
        pc.peers.add({ name: 'phone', publicKey: b.x25519PublicKey, pairedAt: 0 });
        phone.peers.add({ name: 'pc', publicKey: a.x25519PublicKey, pairedAt: 0 });
      }
      overLink.push(await linkHandshake(mode, pc, phone, secret));
    }
    handshakes.push({
      mode,
      pattern: patternOf(mode),
      pureMedianMs: round(median(pure)),
      pureP95Ms: round(p95(pure)),
      linkMedianMs: round(median(overLink)),
      linkP95Ms: round(p95(overLink)),
    });
  }
  const transfers = [await transferCost(8192), await transferCost(244)];

  console.log(`handshakes (${HANDSHAKES} each; both sides' CPU on one core)`);
  console.table(handshakes);
  console.log(`1 MiB transfer, plain vs encrypted (median of ${TRANSFERS})`);
  console.table(transfers);

  const out = join(dirname(fileURLToPath(import.meta.url)), 'out', 'session.json');
  mkdirSync(dirname(out), { recursive: true });
  const result = { quick, node: process.version, handshakes, transfers };
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

await main();
