import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { TypedAnswers } from './typed-answers.ts';

function setup() {
  const input = new PassThrough();
  const shown: string[] = [];
  const answers = new TypedAnswers(input, { write: (t: string) => shown.push(t) });
  return { input, shown, answers };
}

test('answers that arrive together, before their questions, are taken one per question in order', async () => {
  const { input, shown, answers } = setup();
  input.write('2\n1\n');
  assert.equal(await answers.ask('first? '), '2');
  assert.ok(input.isPaused(), 'paused between questions');
  assert.equal(await answers.ask('second? '), '1');
  const note = '  (typed before the question)\n';
  assert.equal(shown.join(''), `first? 2${note}second? 1${note}`);
});

test('an answer typed after its question, in pieces, and CR LF split over two chunks is one line end', async () => {
  const { input, shown, answers } = setup();
  const first = answers.ask('? ');
  await new Promise((r) => setTimeout(r, 150));
  input.write('ab');
  input.write('c\r');
  assert.equal(await first, 'abc');
  assert.deepEqual(shown, ['? '], 'typed after the question: the terminal echoed it');
  input.write('\nx\r\n');
  assert.equal(await answers.ask('? '), 'x', 'the LF after the CR ends no empty line');
});

test('at the end of input the last line counts without a line end, and then there is no answer', async () => {
  const { input, answers } = setup();
  input.end('yes\nlast');
  assert.equal(await answers.ask('? '), 'yes');
  assert.equal(await answers.ask('? '), 'last');
  assert.equal(await answers.ask('? '), null);
  assert.equal(await answers.ask('? '), null);
});

test('a second question while the first waits is a caller mistake', async () => {
  const { input, answers } = setup();
  const first = answers.ask('? ');
  await assert.rejects(answers.ask('? '), RangeError);
  input.end('ok\n');
  assert.equal(await first, 'ok');
});
