import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePem, encodePem, looksLikePem } from './pem.ts';

const a = Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x07);
const b = new Uint8Array(100).map((_, i) => i);

describe('PEM', () => {
  it('round-trips several blocks, ignoring text around them and CRLF line ends', () => {
    const text = `header text\r\n${encodePem('CERTIFICATE', a)}between\n${encodePem('X509 CRL', b).replace(/\n/g, '\r\n')}trailer`;
    const blocks = decodePem(text);
    assert.deepEqual(
      blocks.map((x) => [x.index, x.label, x.line]),
      [
        [1, 'CERTIFICATE', 2],
        [2, 'X509 CRL', 6],
      ],
    );
    assert.deepEqual(blocks[0]?.der, a);
    assert.deepEqual(blocks[1]?.der, b);
    assert.ok(looksLikePem(new TextEncoder().encode(text)));
  });

  it('wraps at 64 characters', () => {
    const lines = encodePem('CERTIFICATE', b).split('\n');
    assert.equal(lines[1]?.length, 64);
    assert.equal(lines.at(-1), '');
  });

  it('skips RFC 1421 header lines inside a block', () => {
    const pem = encodePem('CERTIFICATE', a).replace('-----\n', '-----\nProc-Type: 4,ENCRYPTED\n\n');
    assert.deepEqual(decodePem(pem)[0]?.der, a);
  });

  it('reports each broken block and still decodes the good ones', () => {
    const good = encodePem('CERTIFICATE', a);
    const text = [
      good,
      '-----BEGIN CERTIFICATE-----\nMIIB!!!notbase64\n-----END CERTIFICATE-----\n',
      '-----BEGIN CERTIFICATE-----\nMAMCAQc=\n-----END X509 CRL-----\n',
      '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n',
      '-----BEGIN CERTIFICATE-----\nMAMCAQc=\n',
      good,
      '-----BEGIN CERTIFICATE-----\nMAMCAQc=',
    ].join('');
    const blocks = decodePem(text);
    assert.deepEqual(
      blocks.map((x) => x.problem ?? 'ok'),
      [
        'ok',
        'the block is not valid base64',
        'ends with END X509 CRL instead of CERTIFICATE',
        'the block is empty',
        'a new BEGIN line before its END line',
        'ok',
        'no END line before the end of the file',
      ],
    );
    assert.deepEqual(blocks[5]?.der, a);
  });

  it('refuses a label that PEM cannot carry', () => {
    assert.throws(() => encodePem('bad-label', a), TypeError);
  });
});
