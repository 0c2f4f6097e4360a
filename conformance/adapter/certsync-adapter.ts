/**
 * certsync's conformance adapter: the control protocol of conformance/README.md on
 * stdin/stdout, one JSON object a line, over a real SQLite store in a temporary folder and
 * real TCP links on 127.0.0.1 speaking spec/protocol.md inside spec/session.md.
 *
 *   node --import tsx conformance/adapter/certsync-adapter.ts [--mutant NAME]
 *
 * `--mutant NAME` runs one deliberately broken variant (conformance/mutants.ts), so the
 * suite can show it catches that fault.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CertsyncError, isCertsyncError } from '../../protocol/errors.ts';
import type { TransferMode, ValidityStatus } from '../../protocol/messages/catalog.ts';
import type { ItemResult } from '../../protocol/messages/records.ts';
import { bytesOf, hexOf } from '../../protocol/wire/hex.ts';
import { connectTcpLink, listenTcpLink } from '../../transports/tcp.ts';
import { storeIdentity } from '../../node/keys/store-peer-book.ts';
import type { InitiatorIntent, ResponderPairing } from '../../node/keys/secure-link.ts';
import { identityFingerprint } from '../../protocol/secure/fingerprint.ts';
import { pskFromPairingSecret } from '../../protocol/secure/pairing.ts';
import type { RekeyBound } from '../../protocol/secure/transport.ts';
import { parseCertificate } from '../../node/pki/index.ts';
import { Store } from '../../node/store/index.ts';
import { mutantNamed, type Mutant } from '../mutants.ts';
import { SessionDriver } from './session-driver.ts';

/**
 * Largest frame the TCP link itself takes. It is above a record's 65,535 bytes so that an
 * oversized record reaches the secure channel, which refuses it as spec/session.md 8 says
 * (`frame-too-large`), instead of the link refusing it first.
 */
const LINK_FRAME = 1 << 20;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Args = { [key: string]: Json };

/** The adapter's one store and at most one session at a time. */
class Adapter {
  readonly dir = mkdtempSync(join(tmpdir(), 'certsync-conformance-'));
  store: Store;
  stores = 0;
  readonly mutant: Mutant;
  capacity: number | null = null;
  session: Promise<SessionDriver> | null = null;
  listener: { close(): Promise<void> } | null = null;
  /** The open session, once its handshake completed. */
  driver: SessionDriver | null = null;
  /** A pairing code shown to the user, waiting for `confirm`. */
  private shown: { code: string; fingerprint: string; answer: (yes: boolean) => void } | null =
    null;
  private onShown: (() => void)[] = [];

  constructor(mutant: Mutant) {
    this.mutant = mutant;
    this.store = this.openStore();
  }

  openStore(): Store {
    this.stores += 1;
    return Store.open(join(this.dir, `store-${this.stores}.db`), { create: true });
  }

  /** Ends the session, if any, at once; the store stays. */
  async endSession(): Promise<void> {
    void this.listener?.close().catch(() => undefined);
    this.listener = null;
    await this.driver?.abort();
    this.driver = null;
    this.session = null;
  }

  /** Ends any session and starts over with a new, empty store (and a new identity). */
  async reset(): Promise<void> {
    await this.endSession();
    this.capacity = null;
    this.store.close();
    this.store = this.openStore();
  }

  async run(op: string, a: Args): Promise<Json> {
    switch (op) {
      case 'info': {
        const key = storeIdentity(this.store).x25519PublicKey;
        return {
          implementation: 'certsync',
          versions: [1, 1],
          identityKey: hexOf(key),
          fingerprint: identityFingerprint(key),
        };
      }
      case 'pairing-code':
        return this.pairingCode(Number(a.timeoutMs ?? 10_000));
      case 'confirm': {
        const shown = this.shown;
        if (!shown) throw new CertsyncError('bad-input', 'no pairing code is shown');
        this.shown = null;
        shown.answer(a.accept === true);
        return {};
      }
      case 'load':
        return this.load(a);
      case 'store':
        return this.report();
      case 'listen':
        return this.listen(a);
      case 'connect':
        await this.connect(a);
        return {};
      case 'act':
        return this.act(a);
      case 'reset':
        await this.reset();
        return {};
      case 'wait':
        return this.wait(Number(a.timeoutMs ?? 10_000));
      default:
        throw new CertsyncError('bad-input', `unknown op ${op}`);
    }
  }

  load(a: Args): Json {
    const s = this.store;
    if ('capacity' in a || 'policy' in a) {
      this.capacity = typeof a.capacity === 'number' ? a.capacity : null;
      const capacity = this.mutant.ignoresCapacity ? null : this.capacity;
      const policy = (a.policy ?? 'refuse') as 'lru' | 'alert' | 'refuse';
      s.capacity.set({ capacity, policy });
    }
    const certs = (a.certificates ?? []) as {
      der: string;
      label?: string;
      pinned?: boolean;
      uses?: number;
    }[];
    s.transaction(() => {
      const parsed = certs.map((c) => parseCertificate(new Uint8Array(Buffer.from(c.der, 'hex'))));
      s.certificates.add(parsed, { source: 'conformance' });
      for (const [i, c] of certs.entries()) {
        const fp = (parsed[i] as (typeof parsed)[number]).fingerprint;
        for (let n = 0; n < (c.uses ?? 0); n++) s.certificates.recordUse(fp);
        if (c.label === undefined && !c.pinned) continue;
        s.certificates.setMeta(fp, { label: c.label ?? null, pinned: c.pinned === true });
      }
      const gone = ((a.delete ?? []) as string[]).map((h) => bytesOf(h));
      if (gone.length > 0) s.certificates.delete(gone);
      for (const p of (a.peers ?? []) as { name: string; key: string }[]) {
        s.peers.add(p.name, bytesOf(p.key));
      }
    });
    return this.report();
  }

  report(): Json {
    const s = this.store;
    const certificates: Json[] = s.certificates.list('store').map((r) => ({
      id: hexOf(r.fingerprint),
      label: r.label ?? null,
      pinned: r.pinned,
    }));
    const tombstones = s.sync
      .entries()
      .filter((e) => e.deleted)
      .map((e) => hexOf(e.fingerprint));
    return {
      capacity: this.capacity,
      policy: s.capacity.state().policy,
      certificates,
      tombstones,
      peers: s.peers.list().map((p) => p.name),
    };
  }

  async listen(a: Args): Promise<Json> {
    await this.endSession();
    const pairing = this.pairing(a);
    const listener = await listenTcpLink({ port: 0, maxFrameSize: LINK_FRAME });
    this.listener = listener;
    this.session = (async () => {
      try {
        const link = await listener.accept();
        return await SessionDriver.open(link, {
          ...this.settings(a),
          role: 'responder',
          ...(pairing ? { pairing } : {}),
        });
      } finally {
        // Stops taking connections; the server's close waits for this one to end.
        void listener.close();
      }
    })();
    this.session.then((d) => (this.driver = d)).catch(() => undefined);
    return { port: listener.port };
  }

  async connect(a: Args): Promise<void> {
    await this.endSession();
    const pairing = this.pairing(a);
    const link = await connectTcpLink(Number(a.port), { maxFrameSize: LINK_FRAME });
    const peer = typeof a.peer === 'string' ? { peer: a.peer } : {};
    const intent: InitiatorIntent = pairing ?? { kind: 'session', ...peer };
    this.session = SessionDriver.open(link, { ...this.settings(a), role: 'initiator', intent });
    this.driver = await this.session;
  }

  /**
   * The pairing a `listen` or `connect` asks for: a one-time secret (checked now, as a
   * user's input is), or a code the user compares (shown through `pairing-code`).
   *
   * @throws CertsyncError `bad-input` for a secret that is not one (spec/session.md 7.2)
   */
  pairing(a: Args): ResponderPairing | undefined {
    const p = a.pairing as { kind?: string; secret?: string; name: string } | undefined;
    if (!p) return undefined;
    if (p.kind === 'code') {
      return { kind: 'pair', name: p.name, confirm: (code, fp) => this.show(code, fp) };
    }
    const secret = String(p.secret);
    pskFromPairingSecret(secret);
    return { kind: 'pair-secret', name: p.name, secret };
  }

  /** Shows a pairing code; resolves with the user's answer (the `confirm` request). */
  show(code: string, fingerprint: string): Promise<boolean> {
    return new Promise<boolean>((answer) => {
      this.shown = { code, fingerprint, answer };
      for (const f of this.onShown.splice(0)) f();
    }).then((yes) => (this.mutant.confirms ? this.mutant.confirms(yes) : yes));
  }

  async pairingCode(timeoutMs: number): Promise<Json> {
    if (!this.shown) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(
          () => reject(new CertsyncError('timeout', 'no pairing code was shown')),
          timeoutMs,
        );
        this.onShown.push(resolve);
      }).finally(() => clearTimeout(timer));
    }
    const shown = this.shown as { code: string; fingerprint: string };
    return { code: shown.code, fingerprint: shown.fingerprint };
  }

  settings(a: Args) {
    return {
      store: this.store,
      autoSync: a.autoSync === true,
      overflow: a.overflow === 'first' ? ('first' as const) : ('abort' as const),
      hooks: this.mutant.hooks,
      ...(a.timeouts ? { timeouts: a.timeouts as { [key: string]: number } } : {}),
      ...(a.rekey ? { rekey: a.rekey as unknown as RekeyBound } : {}),
    };
  }

  async act(a: Args): Promise<Json> {
    if (!this.session) throw new CertsyncError('bad-input', 'no session: listen or connect');
    const d = await this.session;
    const ids = ((a.ids ?? []) as string[]).map((h) => bytesOf(h));
    const id = d.state.nextId;
    switch (a.action) {
      case 'list': {
        const page = d.waitFor((e) => e.kind === 'list-page' && e.page.id === id);
        d.command({ op: 'list', order: 'store', filter: 'all', limit: 512 });
        const e = await page;
        return e.kind === 'list-page' ? e.page.entries.map((x) => hexOf(x.id)) : [];
      }
      case 'push':
      case 'pull': {
        const push = a.action === 'push';
        const mode = (a.mode ?? 'add') as TransferMode;
        const results: ItemResult[] = [];
        const kind = push ? 'items-acked' : 'items-received';
        const done = d.waitFor((e) => {
          if (e.kind === kind && e.transfer === id) results.push(...e.results);
          return e.kind === 'transfer-done' && e.done.id === id;
        });
        if (push) d.command({ op: 'push', mode, ids: (a.ids ?? []) as string[] });
        else d.command({ op: 'pull', mode, filter: 'all', ...(ids.length ? { ids } : {}) });
        const e = await done;
        await d.drain();
        return {
          aborted: e.kind === 'transfer-done' && e.done.aborted,
          results: results.map((r) => ({
            id: hexOf(r.id),
            outcome: r.outcome,
            ...(r.code ? { code: r.code } : {}),
            ...(r.replaced ? { replaced: hexOf(r.replaced) } : {}),
          })),
        };
      }
      case 'sync': {
        const done = d.waitFor((e) => e.kind === 'reconciled');
        if (d.state.reconcile === 'idle') d.command({ op: 'reconcile' });
        if (d.state.reconcile !== 'finished') await done;
        await d.drain();
        return {};
      }
      case 'delete': {
        const result = d.waitFor((e) => e.kind === 'delete-result' && e.result.id === id);
        d.command({ op: 'delete', ids });
        const e = await result;
        const rs = e.kind === 'delete-result' ? e.result.results : [];
        return rs.map((r) => ({ id: hexOf(r.id), outcome: r.outcome }));
      }
      case 'check': {
        const statuses = (a.status ?? 'valid') as ValidityStatus;
        const results = ids.map((x) => ({ id: x, status: statuses }));
        d.command({ op: 'report-validity', checkedAt: Date.now(), results });
        await d.drain();
        return {};
      }
      case 'goodbye':
        d.command({ op: 'goodbye' });
        await d.ended;
        return {};
      default:
        throw new CertsyncError('bad-input', `unknown action ${String(a.action)}`);
    }
  }

  async wait(timeoutMs: number): Promise<Json> {
    if (!this.session) return { ended: true, error: null };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), timeoutMs)));
    const ended = this.session.then(
      (d) => d.ended,
      (error: unknown) => (isCertsyncError(error) ? error : null),
    );
    const outcome = await Promise.race([ended, late]);
    clearTimeout(timer);
    if (outcome === 'late') return { ended: false };
    return { ended: true, error: outcome === null ? null : outcome.code };
  }

  async close(): Promise<void> {
    await this.reset();
    this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--mutant');
  const adapter = new Adapter(mutantNamed(at >= 0 ? process.argv[at + 1] : undefined));
  const lines = createInterface({ input: process.stdin });
  const answer = (o: Json): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
  // Requests run concurrently: an `act` waits on the wire while the runner asks for more.
  for await (const line of lines) {
    const req = JSON.parse(line) as { id: number; op: string; args?: Args };
    if (req.op === 'quit') break;
    adapter.run(req.op, req.args ?? {}).then(
      (result) => answer({ id: req.id, ok: true, result }),
      (error: unknown) => {
        const code = isCertsyncError(error) ? error.code : 'internal';
        const message = error instanceof Error ? error.message : String(error);
        answer({ id: req.id, ok: false, error: { code, message } });
      },
    );
  }
  await adapter.close();
  process.exit(0);
}

void main();
