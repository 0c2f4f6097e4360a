import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCertsyncError } from '../../protocol/errors.ts';
import { parseVCards } from './vcard.ts';

describe('parseVCards', () => {
  it('reads FN and every EMAIL of version 3.0 and 4.0 cards, unfolding long lines', () => {
    const text = [
      'BEGIN:VCARD',
      'VERSION:4.0',
      'FN:Alice',
      '  Example',
      'EMAIL;TYPE=work:Alice@Example.org',
      'item1.EMAIL;TYPE="home,pref":alice@home.example',
      'END:VCARD',
      'BEGIN:VCARD',
      'VERSION:3.0',
      'N:Example;Bob;;;',
      'EMAIL:bob@example.org',
      'END:VCARD',
      '',
    ].join('\r\n');
    const { contacts, skipped } = parseVCards(text);
    assert.deepEqual(contacts, [
      { name: 'Alice Example', emails: ['alice@example.org', 'alice@home.example'] },
      { name: 'Bob Example', emails: ['bob@example.org'] },
    ]);
    assert.deepEqual(skipped, []);
  });

  it('decodes vCard 2.1 quoted-printable names and escaped characters', () => {
    const text = [
      'BEGIN:VCARD',
      'VERSION:2.1',
      'FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:J=C3=BCrgen M=C3=BC=',
      'ller',
      'EMAIL;INTERNET:jm@example.de',
      'END:VCARD',
      'BEGIN:VCARD',
      'FN:Smith\\, Jane',
      'EMAIL:jane@example.com',
      'END:VCARD',
    ].join('\n');
    assert.deepEqual(
      parseVCards(text).contacts.map((c) => c.name),
      ['Jürgen Müller', 'Smith, Jane'],
    );
  });

  it('skips cards without a name or an address, saying why', () => {
    const text =
      'BEGIN:VCARD\nEMAIL:x@example.org\nEND:VCARD\nBEGIN:VCARD\nFN:No Mail\nEND:VCARD\n';
    const { contacts, skipped } = parseVCards(text);
    assert.deepEqual(contacts, []);
    assert.deepEqual(skipped, ['card at line 1: no name', 'card at line 4 (No Mail): no e-mail']);
  });

  it('reads a line of many semicolons and a stray quote in one pass, and quoted parameters', () => {
    // A backtracking pattern for the parameters needs longer than a test run for this line.
    const hostile = `NOTE${';a'.repeat(5000)}"`;
    const text = [
      'BEGIN:VCARD',
      hostile,
      'FN;LANGUAGE="x;y:z":Quoted Params',
      'EMAIL;TYPE="work;pref":q@example.org',
      'END:VCARD',
    ].join('\n');
    assert.deepEqual(parseVCards(text).contacts, [
      { name: 'Quoted Params', emails: ['q@example.org'] },
    ]);
  });

  it('refuses text without cards and unclosed cards, naming the file', () => {
    const bad = (fragment: string) => (e: unknown) =>
      isCertsyncError(e) && e.code === 'bad-input' && e.message.includes(fragment);
    assert.throws(() => parseVCards('hello', 'a.vcf'), bad('a.vcf: no vCard'));
    assert.throws(
      () => parseVCards('BEGIN:VCARD\nFN:A\n', 'b.vcf'),
      bad('b.vcf: card at line 1 is not closed'),
    );
    assert.throws(() => parseVCards('BEGIN:VCARD\nBEGIN:VCARD\n', 'c.vcf'), bad('not closed'));
    assert.throws(() => parseVCards('END:VCARD\n', 'd.vcf'), bad('END without BEGIN'));
  });
});
