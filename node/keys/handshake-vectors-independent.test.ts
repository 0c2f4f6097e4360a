/**
 * A second implementation of spec/session.md, written from the document alone with Node's
 * own crypto (OpenSSL) and none of protocol/secure: it replays every vector of
 * spec/vectors/handshake.json and must produce the same bytes. It shows that the document
 * and the vectors agree, independently of the @noble code the client runs.
 */
import assert from 'node:assert/strict';
import {
  createCipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

type Hex = string;
interface Vector {
  name: string;
  inputs: {
    mode: 'pair' | 'pair-secret' | 'session-ik' | 'session-xx';
    initiatorStatic: Hex;
    responderStatic: Hex;
    initiatorEphemeral: Hex;
    responderEphemeral: Hex;
    initiatorHello: Hex;
    responderHello: Hex;
    agreement: Hex;
    initiatorNonce?: Hex;
    responderNonce?: Hex;
    pairingSecret?: string;
    rekey: { records: number; bytes: number };
  };
  expected: {
    prologue: Hex;
    handshakeFrames: { from: string; hex: Hex }[];
    handshakeHash: Hex;
    pairingCode?: string;
    records: { from: string; type: number; body: Hex; hex: Hex }[];
  };
}

const hex = (b: Buffer) => b.toString('hex');
const buf = (h: Hex) => Buffer.from(h, 'hex');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();
const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();

// X25519 through OpenSSL: raw keys wrapped in their fixed DER prefixes (RFC 8410).
const PKCS8 = buf('302e020100300506032b656e04220420');
const SPKI = buf('302a300506032b656e032100');
const privateKey = (raw: Buffer) =>
  createPrivateKey({ key: Buffer.concat([PKCS8, raw]), format: 'der', type: 'pkcs8' });
const publicOf = (raw: Buffer) =>
  (createPublicKey(privateKey(raw)).export({ format: 'der', type: 'spki' }) as Buffer).subarray(12);
const dh = (secret: Buffer, peer: Buffer) =>
  diffieHellman({
    privateKey: privateKey(secret),
    publicKey: createPublicKey({ key: Buffer.concat([SPKI, peer]), format: 'der', type: 'spki' }),
  });

/** ChaCha20-Poly1305 with the Noise nonce: 4 zero bytes, then the counter little-endian. */
function seal(key: Buffer, n: bigint, ad: Buffer, plaintext: Buffer): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64LE(n, 4);
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  c.setAAD(ad, { plaintextLength: plaintext.length });
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

/** Noise section 4.3: HKDF with the chaining key. */
function noiseHkdf(ck: Buffer, ikm: Buffer, n: number): Buffer[] {
  const temp = hmac(ck, ikm);
  const out: Buffer[] = [];
  let prev: Buffer = Buffer.alloc(0);
  for (let i = 1; i <= n; i++) {
    prev = hmac(temp, Buffer.concat([prev, Buffer.from([i])]));
    out.push(prev);
  }
  return out;
}

/** Noise section 5.2, one side's symmetric state. */
class Symmetric {
  h: Buffer;
  ck: Buffer;
  k: Buffer | null = null;
  n = 0n;
  constructor(name: string) {
    const bytes = Buffer.from(name, 'ascii');
    this.h =
      bytes.length <= 32 ? Buffer.concat([bytes, Buffer.alloc(32 - bytes.length)]) : sha256(bytes);
    this.ck = this.h;
  }
  mixHash(data: Buffer) {
    this.h = sha256(Buffer.concat([this.h, data]));
  }
  mixKey(ikm: Buffer) {
    [this.ck, this.k] = noiseHkdf(this.ck, ikm, 2) as [Buffer, Buffer];
    this.n = 0n;
  }
  mixKeyAndHash(ikm: Buffer) {
    const [ck, h, k] = noiseHkdf(this.ck, ikm, 3) as [Buffer, Buffer, Buffer];
    this.ck = ck;
    this.mixHash(h);
    this.k = k;
    this.n = 0n;
  }
  encryptAndHash(plaintext: Buffer): Buffer {
    const out = this.k ? seal(this.k, this.n++, this.h, plaintext) : plaintext;
    this.mixHash(out);
    return out;
  }
}

const PATTERNS = {
  pair: ['XX', [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']]],
  'session-xx': ['XX', [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']]],
  'pair-secret': ['XXpsk3', [['e'], ['e', 'ee', 's', 'es'], ['s', 'se', 'psk']]],
  'session-ik': [
    'IK',
    [
      ['e', 'es', 's', 'ss'],
      ['e', 'ee', 'se'],
    ],
  ],
} as const;
const MODE_BYTE = { pair: 1, 'pair-secret': 2, 'session-ik': 3, 'session-xx': 4 } as const;

/** Spec 7.2: base32 letters to 16 bytes, then HKDF-SHA-256 with the label as salt. */
function pskOf(secret: string): Buffer {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = '';
  for (const ch of secret.replace(/-/g, ''))
    bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const bytes = Buffer.from(
    bits
      .slice(0, 128)
      .match(/.{8}/g)!
      .map((b) => parseInt(b, 2)),
  );
  const salt = Buffer.from('certsync pairing secret v1');
  return Buffer.from(hkdfSync('sha256', bytes, salt, Buffer.alloc(0), 32));
}

/** Spec section 4. */
function prologueOf(v: Vector['inputs']): Buffer {
  const parts = [v.initiatorHello, v.responderHello, v.agreement].map(buf);
  const framed = parts.flatMap((p) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(p.length);
    return [len, p];
  });
  return Buffer.concat([Buffer.from('certsync session v1'), ...framed]);
}

function replay(v: Vector): Vector['expected'] {
  const i = v.inputs;
  const [pattern, messages] = PATTERNS[i.mode];
  const prologue = prologueOf(i);
  const keys = {
    initiator: { s: buf(i.initiatorStatic), e: buf(i.initiatorEphemeral) },
    responder: { s: buf(i.responderStatic), e: buf(i.responderEphemeral) },
  };
  const pub = {
    initiator: { s: publicOf(keys.initiator.s), e: publicOf(keys.initiator.e) },
    responder: { s: publicOf(keys.responder.s), e: publicOf(keys.responder.e) },
  };
  const psk = i.pairingSecret ? pskOf(i.pairingSecret) : null;
  // One transcript suffices: both sides compute the same one when nothing is altered.
  const sym = new Symmetric(`Noise_${pattern}_25519_ChaChaPoly_SHA256`);
  sym.mixHash(prologue);
  if (pattern === 'IK') sym.mixHash(pub.responder.s);

  const empty = Buffer.alloc(0);
  const payloads =
    i.mode === 'pair'
      ? [
          empty,
          sha256(
            Buffer.concat([Buffer.from('certsync pairing commitment v1'), buf(i.responderNonce!)]),
          ),
          buf(i.initiatorNonce!),
        ]
      : [empty, empty, empty];
  const handshakeFrames: Vector['expected']['handshakeFrames'] = [];
  messages.forEach((tokens, index) => {
    const writer = index % 2 === 0 ? 'initiator' : 'responder';
    const parts: Buffer[] = [];
    for (const token of tokens) {
      if (token === 'e') {
        parts.push(pub[writer].e);
        sym.mixHash(pub[writer].e);
        if (psk) sym.mixKey(pub[writer].e);
      } else if (token === 's') {
        parts.push(sym.encryptAndHash(pub[writer].s));
      } else if (token === 'psk') {
        sym.mixKeyAndHash(psk as Buffer);
      } else {
        // First letter: the initiator's key; second: the responder's.
        const a = token[0] as 'e' | 's';
        const b = token[1] as 'e' | 's';
        sym.mixKey(dh(keys.initiator[a], pub.responder[b]));
      }
    }
    parts.push(sym.encryptAndHash(payloads[index] as Buffer));
    const frame = Buffer.concat([Buffer.from([1, MODE_BYTE[i.mode]]), ...parts]);
    handshakeFrames.push({ from: writer, hex: hex(frame) });
  });

  // Split, then records: type || body, nonce = count, REKEY at the bound (spec 8, 9).
  const [k1, k2] = noiseHkdf(sym.ck, empty, 2) as [Buffer, Buffer];
  const dirs = {
    initiator: { k: k1, n: 0n, records: 0, bytes: 0 },
    responder: { k: k2, n: 0n, records: 0, bytes: 0 },
  };
  const records: Vector['expected']['records'] = [];
  for (const r of v.expected.records) {
    const d = dirs[r.from as 'initiator' | 'responder'];
    const frame = seal(d.k, d.n++, empty, Buffer.concat([Buffer.from([r.type]), buf(r.body)]));
    records.push({ from: r.from, type: r.type, body: r.body, hex: hex(frame) });
    d.records++;
    d.bytes += frame.length;
    if (d.records >= i.rekey.records || d.bytes >= i.rekey.bytes) {
      d.k = seal(d.k, 0xffff_ffff_ffff_ffffn, empty, Buffer.alloc(32)).subarray(0, 32);
      d.records = 0;
      d.bytes = 0;
    }
  }

  let pairingCode: string | undefined;
  if (i.mode === 'pair') {
    // Spec 7.1: the responder reveals its nonce first, then both send verdict 0x01.
    const [reveal, ...verdicts] = v.expected.records;
    assert.deepEqual(
      [reveal?.from, reveal?.type, reveal?.body],
      ['responder', 2, i.responderNonce],
    );
    assert.deepEqual(
      verdicts.slice(0, 2).map((r) => [r.type, r.body]),
      [
        [3, '01'],
        [3, '01'],
      ],
    );
    const label = Buffer.from('certsync pairing code v1');
    const mac = hmac(sym.h, Buffer.concat([label, buf(i.initiatorNonce!), buf(i.responderNonce!)]));
    pairingCode = (mac.readBigUInt64BE(0) % 1_000_000n).toString().padStart(6, '0');
  }
  return {
    prologue: hex(prologue),
    handshakeFrames,
    handshakeHash: hex(sym.h),
    ...(pairingCode ? { pairingCode } : {}),
    records,
  };
}

test('an implementation written from spec/session.md with OpenSSL reproduces every vector', () => {
  const file = new URL('../../spec/vectors/handshake.json', import.meta.url);
  const { vectors } = JSON.parse(readFileSync(file, 'utf8')) as { vectors: Vector[] };
  assert.ok(vectors.length >= 4);
  for (const vector of vectors) assert.deepEqual(replay(vector), vector.expected, vector.name);
});
