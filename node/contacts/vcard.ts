/**
 * Reading contacts from vCard files (RFC 6350 version 4.0, RFC 2426 version 3.0, and the
 * older 2.1 with quoted-printable values): for each card, the name shown (FN, else N) and
 * its e-mail addresses. Everything else on a card is ignored.
 */
import { CertsyncError } from '../../protocol/errors.ts';

/** Files larger than this are refused. */
export const MAX_VCARD_BYTES = 16 << 20;
/** At most this many cards per file. */
export const MAX_VCARDS = 100_000;

/** One card's name and addresses. */
export interface VCardContact {
  readonly name: string;
  /** Lowercased, without duplicates. */
  readonly emails: readonly string[];
}

/** The cards of one file, and the cards left out (no name or no address) with why. */
export interface VCardFile {
  readonly contacts: readonly VCardContact[];
  readonly skipped: readonly string[];
}

interface Property {
  readonly name: string;
  readonly params: ReadonlyMap<string, string>;
  readonly value: string;
}

const NAME = /^(?:[A-Za-z0-9-]+\.)?([A-Za-z0-9-]+)/;

/** `text` cut at every `;` that is not inside double quotes. */
function splitParams(text: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (text[i] === ';' && !quoted) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/**
 * NAME;PARAM=x;PARAM2:value, where a quoted parameter value may hold ':' and ';' (RFC 6350
 * 3.3). Read in one pass: a regular expression with nested repetition for the parameters
 * takes exponential time on a line of many semicolons and a stray quote.
 */
function parseLine(line: string): Property | undefined {
  const head = NAME.exec(line);
  if (!head) return undefined;
  const from = head[0].length;
  if (line[from] !== ':' && line[from] !== ';') return undefined;
  let quoted = false;
  let colon = -1;
  for (let i = from; i < line.length && colon < 0; i++) {
    if (line[i] === '"') quoted = !quoted;
    else if (line[i] === ':' && !quoted) colon = i;
  }
  if (colon < 0) return undefined;
  const params = new Map<string, string>();
  for (const p of splitParams(line.slice(from, colon)).slice(1)) {
    const eq = p.indexOf('=');
    // vCard 2.1 allows bare parameters such as ";QUOTED-PRINTABLE" or ";INTERNET".
    if (eq < 0) params.set(p.toUpperCase() === 'QUOTED-PRINTABLE' ? 'ENCODING' : 'TYPE', p);
    else params.set(p.slice(0, eq).toUpperCase(), p.slice(eq + 1).replace(/^"|"$/g, ''));
  }
  return { name: (head[1] ?? '').toUpperCase(), params, value: line.slice(colon + 1) };
}

function decodeValue(prop: Property): string {
  let value = prop.value;
  if (prop.params.get('ENCODING')?.toUpperCase() === 'QUOTED-PRINTABLE') {
    const bytes = Buffer.from(
      value.replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    );
    const charset = (prop.params.get('CHARSET') ?? 'utf-8').toLowerCase();
    value = bytes.toString(charset === 'utf-8' || charset === 'utf8' ? 'utf8' : 'latin1');
  }
  return value.replace(/\\([\\,;nN])/g, (_, c: string) => (c === 'n' || c === 'N' ? ' ' : c));
}

function nameFromN(value: string): string {
  // N: Family;Given;Additional;Prefixes;Suffixes (RFC 6350 6.2.2)
  const [family = '', given = '', middle = ''] = value.split(/(?<!\\);/);
  return [given, middle, family]
    .map((s) => s.trim())
    .filter(Boolean)
    .join(' ');
}

/**
 * The contacts in a vCard file's text.
 *
 * @param what names the file in errors
 * @throws CertsyncError `bad-input` naming the file (and card and line) when the text holds
 *   no vCard, a card is not closed, or a limit is exceeded
 */
export function parseVCards(text: string, what = 'vCard file'): VCardFile {
  if (text.length > MAX_VCARD_BYTES) {
    throw new CertsyncError('bad-input', `${what}: over the ${MAX_VCARD_BYTES}-byte limit`);
  }
  // Unfold (RFC 6350 3.2), and join vCard 2.1 quoted-printable soft line breaks.
  const raw = text.replace(/\r\n|\r/g, '\n');
  const lines: { text: string; line: number }[] = [];
  let lineNo = 0;
  for (const l of raw.split('\n')) {
    lineNo++;
    const last = lines[lines.length - 1];
    if (last && /^[ \t]/.test(l)) last.text += l.slice(1);
    else if (last && /=$/.test(last.text) && /QUOTED-PRINTABLE/i.test(last.text)) {
      last.text = last.text.slice(0, -1) + l;
    } else lines.push({ text: l, line: lineNo });
  }
  const contacts: VCardContact[] = [];
  const skipped: string[] = [];
  let card: { start: number; props: Property[] } | undefined;
  let cards = 0;
  for (const { text: l, line } of lines) {
    if (l.trim() === '') continue;
    const prop = parseLine(l);
    if (prop?.name === 'BEGIN' && prop.value.trim().toUpperCase() === 'VCARD') {
      if (card) {
        throw new CertsyncError('bad-input', `${what}: card at line ${card.start} is not closed`);
      }
      if (++cards > MAX_VCARDS) {
        throw new CertsyncError('bad-input', `${what}: more than ${MAX_VCARDS} cards`);
      }
      card = { start: line, props: [] };
    } else if (prop?.name === 'END' && prop.value.trim().toUpperCase() === 'VCARD') {
      if (!card) throw new CertsyncError('bad-input', `${what} line ${line}: END without BEGIN`);
      const fn = card.props.find((p) => p.name === 'FN');
      const n = card.props.find((p) => p.name === 'N');
      const name = (fn ? decodeValue(fn) : n ? nameFromN(decodeValue(n)) : '').trim();
      const emails = [
        ...new Set(
          card.props
            .filter((p) => p.name === 'EMAIL')
            .map((p) =>
              decodeValue(p)
                .trim()
                .replace(/^mailto:/i, '')
                .toLowerCase(),
            )
            .filter((e) => /^[^@\s]+@[^@\s]+$/.test(e)),
        ),
      ];
      if (!name) skipped.push(`card at line ${card.start}: no name`);
      else if (emails.length === 0) skipped.push(`card at line ${card.start} (${name}): no e-mail`);
      else contacts.push({ name, emails });
      card = undefined;
    } else if (card && prop) {
      card.props.push(prop);
    }
  }
  if (card)
    throw new CertsyncError('bad-input', `${what}: card at line ${card.start} is not closed`);
  if (cards === 0) throw new CertsyncError('bad-input', `${what}: no vCard (BEGIN:VCARD) in it`);
  return { contacts, skipped };
}
