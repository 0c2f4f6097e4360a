/**
 * Fetching revocation data without letting a server stall or flood the validator: every
 * fetch has one deadline from start to last byte (so a server trickling bytes gains
 * nothing) and a size cap checked while reading. {@link boundedFetch} enforces both around
 * any injected {@link RevocationFetcher}, so a fetcher that ignores them still cannot hang
 * a validation.
 */
import { request } from 'node:http';
import type { FetchLimits, RevocationFetcher } from './options.ts';

/** A fetch that did not complete before its deadline. */
export class FetchTimeout extends Error {
  constructor(timeoutMs: number) {
    super(`no complete answer within ${timeoutMs} ms`);
    this.name = 'FetchTimeout';
  }
}

/**
 * Runs `fetch` with an abort signal that fires after `timeoutMs`, and rejects when the
 * deadline passes (even if the fetcher ignores the signal) or the body exceeds `maxBytes`.
 */
export async function boundedFetch(
  fetch: (limits: FetchLimits) => Promise<Uint8Array>,
  maxBytes: number,
  timeoutMs: number,
): Promise<Uint8Array> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new FetchTimeout(timeoutMs));
    }, timeoutMs);
  });
  try {
    const body = await Promise.race([fetch({ maxBytes, signal: controller.signal }), deadline]);
    if (!(body instanceof Uint8Array)) throw new Error('the fetcher returned no bytes');
    if (body.length > maxBytes) throw new Error(`the answer is over ${maxBytes} bytes`);
    return body;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

/** Options of {@link httpRevocationFetcher}. */
export interface HttpFetcherOptions {
  /**
   * Hosts that may be contacted (exact match). Default: any. A test pins this to
   * `127.0.0.1` so a certificate's URL cannot send the validator elsewhere.
   */
  readonly allowedHosts?: readonly string[];
}

function fail(url: string, why: string): Error {
  return new Error(`${url}: ${why}`);
}

function exchange(
  url: string,
  limits: FetchLimits,
  options: HttpFetcherOptions,
  body?: Uint8Array,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      reject(fail(url, 'not a URL'));
      return;
    }
    // RFC 5280 4.2.1.13 and RFC 6960 A.1 use plain HTTP; the data is signed, not the transport.
    if (parsed.protocol !== 'http:') return reject(fail(url, 'only http: URLs are fetched'));
    if (options.allowedHosts && !options.allowedHosts.includes(parsed.hostname)) {
      return reject(fail(url, `host ${parsed.hostname} is not allowed`));
    }
    const req = request(
      parsed,
      {
        method: body ? 'POST' : 'GET',
        signal: limits.signal,
        headers: body
          ? { 'content-type': 'application/ocsp-request', 'content-length': body.length }
          : {},
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(fail(url, `HTTP status ${res.statusCode}`));
          return;
        }
        const declared = Number(res.headers['content-length'] ?? 0);
        if (declared > limits.maxBytes) {
          res.destroy();
          reject(fail(url, `answer of ${declared} bytes is over ${limits.maxBytes}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limits.maxBytes) {
            res.destroy();
            reject(fail(url, `answer is over ${limits.maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
        res.on('error', (e) => reject(fail(url, e.message)));
      },
    );
    req.on('error', (e) => reject(fail(url, e.message)));
    if (body) req.write(body);
    req.end();
  });
}

/**
 * A {@link RevocationFetcher} over plain HTTP (node:http). It follows no redirects, honours
 * the signal and byte cap it is given, and refuses hosts outside `allowedHosts` when set.
 */
export function httpRevocationFetcher(options: HttpFetcherOptions = {}): RevocationFetcher {
  return {
    get: (url, limits) => exchange(url, limits, options),
    postOcsp: (url, body, limits) => exchange(url, limits, options, body),
  };
}
