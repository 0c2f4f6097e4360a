/**
 * Answers a person gives on standard input, a terminal or a pipe, one line per question:
 * the code of a pairing, the certificate a full peer should drop, what to do with an invalid
 * certificate on the peer.
 *
 * Input arrives in chunks, and one chunk may hold several lines: answers typed ahead, before
 * their question showed, or piped in together by a script. A reader that takes the first
 * line and goes away drops the rest, and the next question then waits for an answer that
 * was already given. Here the lines left over wait, in order, for the next questions. A
 * question answered by a line that was there before it (left over, or arriving sooner than
 * a person could read the question and type) shows that line after its prompt and says so,
 * so the person sees which answer was used: a terminal echoed it when it was typed, above
 * the question. Between questions the input is paused, so that a command that asks nothing
 * more can end.
 */
import { StringDecoder } from 'node:string_decoder';

/** What the answers are read from: standard input, or a stream in tests. */
export interface AnswerInput {
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  on(event: 'end' | 'error', listener: () => void): unknown;
  off(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  off(event: 'end' | 'error', listener: () => void): unknown;
  resume(): unknown;
  pause(): unknown;
  readonly readableEnded?: boolean;
  readonly destroyed?: boolean;
}

/** Where the questions are written: standard error. */
export interface AnswerOutput {
  write(text: string): unknown;
}

/** Longest answer kept, in characters; the rest of a longer line is dropped. */
const MAX_LINE = 4096;
/**
 * An answer that arrives this soon after its question was typed before it: no one reads a
 * question and types an answer in a tenth of a second. A terminal hands over a line typed
 * ahead only when it is read, so this is how such a line is told from one typed after.
 */
const TYPED_AHEAD_MS = 100;

/** One reader of answers for the whole life of a command; see the module comment. */
export class TypedAnswers {
  private readonly input: AnswerInput;
  private readonly output: AnswerOutput;
  private readonly decoder = new StringDecoder('utf8');
  /** Text read but not yet taken: whole lines, then perhaps the start of the next. */
  private buffer = '';
  /** The last line taken ended with a CR at the end of the buffer: a LF next belongs to it. */
  private afterCr = false;
  private ended = false;
  private asking = false;
  private readonly now: () => number;

  constructor(input: AnswerInput, output: AnswerOutput, now: () => number = Date.now) {
    this.input = input;
    this.output = output;
    this.now = now;
  }

  /**
   * Writes `question` and resolves with the next line of input (without its line end): one
   * that already arrived, else the next one typed. Null when input ends first; the last line
   * counts even without a line end.
   *
   * @throws RangeError when called while another question waits for its answer
   */
  async ask(question: string): Promise<string | null> {
    if (this.asking) throw new RangeError('expected one question at a time, got a second');
    this.output.write(question);
    const early = this.takeLine();
    if (early !== null) return this.typedAhead(early);
    if (this.ended || this.input.readableEnded === true || this.input.destroyed === true) {
      this.ended = true;
      return this.takeRest();
    }
    this.asking = true;
    const askedAt = this.now();
    try {
      const answer = await this.nextLine();
      return answer !== null && this.now() - askedAt < TYPED_AHEAD_MS
        ? this.typedAhead(answer)
        : answer;
    } finally {
      this.asking = false;
    }
  }

  private typedAhead(answer: string): string {
    this.output.write(`${answer}  (typed before the question)\n`);
    return answer;
  }

  private nextLine(): Promise<string | null> {
    return new Promise((resolve) => {
      const onData = (chunk: Buffer | string): void => {
        this.add(typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
        const line = this.takeLine();
        if (line !== null) done(line);
      };
      const onEnd = (): void => {
        this.ended = true;
        this.add(this.decoder.end());
        done(this.takeLine() ?? this.takeRest());
      };
      const done = (answer: string | null): void => {
        this.input.off('data', onData);
        this.input.off('end', onEnd);
        this.input.off('error', onEnd);
        this.input.pause();
        resolve(answer);
      };
      this.input.on('data', onData);
      this.input.on('end', onEnd);
      this.input.on('error', onEnd);
      this.input.resume();
    });
  }

  private add(text: string): void {
    if (this.afterCr && text.length > 0) {
      if (text.startsWith('\n')) text = text.slice(1);
      this.afterCr = false;
    }
    this.buffer += text;
  }

  /** The first whole line of the buffer (LF, CR LF or a lone CR ends it), or null. */
  private takeLine(): string | null {
    const end = /\r\n|\r|\n/.exec(this.buffer);
    if (end === null) {
      // A line longer than any answer: keep its start only.
      if (this.buffer.length > MAX_LINE) this.buffer = this.buffer.slice(0, MAX_LINE);
      return null;
    }
    const line = this.buffer.slice(0, end.index).slice(0, MAX_LINE);
    this.buffer = this.buffer.slice(end.index + end[0].length);
    this.afterCr = end[0] === '\r' && this.buffer.length === 0;
    return line;
  }

  /** At the end of input: what is left, when anything is, as the last line. */
  private takeRest(): string | null {
    const rest = this.buffer;
    this.buffer = '';
    return rest.length > 0 ? rest.slice(0, MAX_LINE) : null;
  }
}
