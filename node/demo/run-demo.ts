/**
 * `certsync demo`: two clients on embedded stores in a temporary folder, a PC with a few
 * hundred certificates and a phone with a small capacity, meet over a real link on this
 * machine. The demo pairs them, shows both stores, sends certificates with a progress bar,
 * runs into the phone's capacity (its policy asks the PC which certificate to replace),
 * checks the phone's certificates from the PC (the revoked one is replaced, the expired one
 * deleted) and ends with a two-way reconcile. Everything is removed afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ListEntry } from '../../protocol/messages/records.ts';
import type { ReconcileReport } from '../../protocol/reconcile/reconciler.ts';
import { formatPairingSecret, PAIRING_SECRET_LENGTH } from '../../protocol/secure/pairing.ts';
import { hexOf } from '../../protocol/wire/hex.ts';
import { compareStores } from '../client/auto-mode.ts';
import { displayName } from '../client/list-entry.ts';
import { checkPeer, type PeerCheckReport } from '../client/peer-check.ts';
import { acceptSession, connectSession } from '../client/peer-session.ts';
import { parseCertificate, parseCrl, sha256 } from '../pki/index.ts';
import { CountingLink } from '../progress/counting-link.ts';
import { formatBytes, ProgressBar, type ProgressOutput } from '../progress/progress-bar.ts';
import { Store } from '../store/index.ts';
import { openDemoLink } from './demo-link.ts';
import { buildDemoPki } from './demo-pki.ts';

/** Settings of a demo run. */
export interface DemoOptions {
  /** Contacts in the PC's store (default 300). */
  readonly contacts?: number;
  /** Certificates the phone holds at most (default 12). */
  readonly phoneCapacity?: number;
  /** Where the narrative goes, one line at a time. */
  readonly say: (line: string) => void;
  /** Where the progress bar is drawn; null for none. */
  readonly progress: ProgressOutput | null;
}

/** The figures of a demo run, for `--json` and the tests. */
export interface DemoReport {
  readonly link: string;
  readonly pc: { readonly before: number; readonly after: number };
  readonly phone: { readonly before: number; readonly after: number; readonly capacity: number };
  readonly pushed: number;
  readonly overflowReplaced: string | null;
  readonly check: readonly {
    readonly subject: string;
    readonly status: string;
    readonly action?: string;
  }[];
  readonly synced: { readonly received: number; readonly sent: number };
  readonly seconds: number;
}

function commonName(subject: string): string {
  return /CN=([^,]+)/.exec(subject)?.[1] ?? subject;
}

function row(e: ListEntry): string {
  return `    ${hexOf(e.id).slice(0, 12)}  ${displayName(e).padEnd(24)}  ${e.emails[0] ?? ''}`;
}

/**
 * Runs the demo; see the module comment.
 *
 * @throws CertsyncError when a step fails (the folder is still removed)
 */
export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const started = Date.now();
  const say = options.say;
  const contacts = options.contacts ?? 300;
  const capacity = options.phoneCapacity ?? 12;
  const dir = await mkdtemp(join(tmpdir(), 'certsync-demo-'));
  const stores: Store[] = [];
  try {
    say(`certsync demo, in ${dir}`);
    say('');
    say(`1. A PKI made with openssl: root, mail CA, CRL, ${contacts} contacts, one revoked`);
    say('   certificate (Dana, with a valid successor) and one expired (Eve).');
    const pki = await buildDemoPki(contacts + 3);
    const pc = Store.open(join(dir, 'pc.sqlite'), { create: true });
    const phone = Store.open(join(dir, 'phone.sqlite'), {
      create: true,
      capacity,
      policy: 'alert',
    });
    stores.push(pc, phone);
    const parse = (der: Uint8Array) => parseCertificate(der);
    const cas = [pki.root.der, pki.intermediate.der].map(parse);
    pc.certificates.add(
      [...cas, ...pki.contacts.slice(0, contacts).map(parse), parse(pki.successor.der)],
      { source: 'demo' },
    );
    pc.crls.add([parseCrl(pki.crl.bytes)], 'demo');
    phone.certificates.add(
      [
        ...cas,
        parse(pki.revoked.der),
        parse(pki.expired.der),
        ...pki.contacts.slice(contacts).map(parse),
      ],
      { source: 'demo' },
    );
    // The phone's user wrote to Dana and Eve lately: their certificates are not the least
    // recently used, so the overflow below offers a contact first.
    for (const c of [pki.revoked, pki.expired]) phone.certificates.recordUse(sha256(c.der));
    await pki.cleanup();
    const pcBefore = pc.capacity.state().count;
    const phoneBefore = phone.capacity.state().count;
    say(`   PC store: ${pcBefore} certificates, 1 CRL, no limit.`);
    say(`   Phone store: ${phoneBefore} certificates, capacity ${capacity}, policy alert.`);

    say('');
    const link = await openDemoLink(dir);
    say(`2. The two clients meet over a ${link.description}`);
    say('   and pair with a one-time secret; the session is encrypted from here on.');
    const secret = formatPairingSecret(new Uint8Array(randomBytes(PAIRING_SECRET_LENGTH)));
    let bar: ProgressBar | null = null;
    let items = 0;
    let total = 0;
    const ends = await link.open();
    const counting = new CountingLink(ends.pc, () =>
      bar?.update({ items, total, bytes: counting.counts.sent + counting.counts.received }),
    );
    let replaced: string | null = null;
    const [pcSession, phoneSession] = await Promise.all([
      connectSession(counting, {
        store: pc,
        autoSync: false,
        name: 'pc',
        intent: { kind: 'pair-secret', name: 'phone', secret },
        onProgress: (p) => (items = p.items),
        chooseVictim: async (incoming, candidates) => {
          const victim = candidates[0] as ListEntry;
          say(`   The phone is full and asks which certificate ${hexOf(incoming).slice(0, 12)}`);
          say(`   should replace; ${candidates.length} candidates, least recently used first.`);
          say(`   The PC's user picks ${displayName(victim)} (${hexOf(victim.id).slice(0, 12)}).`);
          replaced = displayName(victim);
          return victim.id;
        },
      }),
      acceptSession(ends.phone, {
        store: phone,
        autoSync: false,
        name: 'phone',
        pairing: { kind: 'pair-secret', name: 'pc', secret },
      }),
    ]);
    let report: ReconcileReport;
    let stored = 0;
    let check: PeerCheckReport = { ran: false, lastCheckAt: null, results: [] };
    try {
      say(
        `   Paired: the PC knows "${pcSession.peer.name}", the phone knows "${phoneSession.peer.name}".`,
      );

      say('');
      say('3. Both stores side by side (peer list):');
      const c = await compareStores(pcSession, pc);
      say(
        `   mine ${c.mine}, theirs ${c.theirs} (free ${pcSession.peer.free} of ${pcSession.peer.capacity}), both ${c.both}`,
      );
      say(`   only on the phone (${c.onlyTheirs.length}):`);
      for (const e of c.onlyTheirs) say(row(e));

      say('');
      const free = pcSession.peer.free ?? 0;
      const chosen = c.onlyMine.filter((h) => !pc.certificates.get(Buffer.from(h, 'hex'))?.isCA);
      const first = chosen.slice(0, free);
      say(`4. The PC pushes ${first.length} contacts to the phone (mode add):`);
      total = first.length;
      items = 0;
      bar = options.progress
        ? new ProgressBar({ output: options.progress, enabled: true, label: 'push', delayMs: 0 })
        : null;
      const t0 = Date.now();
      const bytes0 = counting.counts.sent + counting.counts.received;
      const pushed = await pcSession.push(first, 'add');
      bar?.finish();
      bar = null;
      const moved = counting.counts.sent + counting.counts.received - bytes0;
      stored = pushed.results.filter((r) => r.outcome === 'stored').length;
      say(
        `   ${stored} stored on the phone, ${formatBytes(moved)} in ${((Date.now() - t0) / 1000).toFixed(1)} s.`,
      );

      say('');
      const next = chosen.slice(free, free + 1);
      say('5. One more contact does not fit: the overflow policy of the phone applies.');
      const over = await pcSession.push(next, 'add');
      for (const r of over.results) {
        say(
          `   ${hexOf(r.id).slice(0, 12)}: ${r.outcome}${r.replaced ? `, replacing ${hexOf(r.replaced).slice(0, 12)}` : ''}`,
        );
      }

      say('');
      say(
        "6. The PC checks the phone's certificates (chain to the root, validity period, the CRL)",
      );
      say('   and replaces what is invalid with a valid certificate from its own store:');
      check = await checkPeer(pcSession, pc, {
        fix: 'replace-or-delete',
        force: true,
        check: { offline: true },
        warn: (line) => say(`   ${line}`),
      });
      for (const r of check.results.filter((x) => x.status !== 'valid')) {
        say(
          `   ${commonName(r.subject).padEnd(16)} ${r.status.padEnd(8)} -> ${r.action ?? 'kept'}`,
        );
      }
      say(`   ${check.results.filter((x) => x.status === 'valid').length} others are valid.`);

      await pcSession.goodbye();
      await phoneSession.whenEnded();
    } catch (error) {
      await pcSession.abort();
      await phoneSession.abort();
      await link.close();
      throw error;
    }

    say('');
    say('7. They meet again (paired: no secret now) for a two-way reconcile. The PC gets what');
    say('   only the phone had; the full phone refuses the rest, as its policy is alert and a');
    say('   reconcile does not ask.');
    try {
      const again = await link.open();
      const [pcSync, phoneSync] = await Promise.all([
        connectSession(again.pc, {
          store: pc,
          autoSync: false,
          intent: { kind: 'session', peer: 'phone' },
        }),
        acceptSession(again.phone, { store: phone, autoSync: false }),
      ]);
      report = await pcSync.reconcile();
      say(
        `   ${report.mode}: the PC received ${report.stored} and sent ${report.sentFull};` +
          ` ${report.sentDeleted} deletions went along.`,
      );
      await pcSync.goodbye();
      await phoneSync.whenEnded();
    } finally {
      await link.close();
    }
    const pcAfter = pc.capacity.state().count;
    const phoneAfter = phone.capacity.state().count;
    say('');
    say(
      `Done in ${((Date.now() - started) / 1000).toFixed(1)} s: PC ${pcBefore} -> ${pcAfter} certificates, phone ${phoneBefore} -> ${phoneAfter} of ${capacity}.`,
    );
    return {
      link: link.description,
      pc: { before: pcBefore, after: pcAfter },
      phone: { before: phoneBefore, after: phoneAfter, capacity },
      pushed: stored,
      overflowReplaced: replaced,
      check: check.results
        .filter((r) => r.status !== 'valid')
        .map((r) => ({
          subject: r.subject,
          status: r.status,
          ...(r.action ? { action: r.action } : {}),
        })),
      synced: { received: report.stored, sent: report.sentFull },
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    for (const s of stores) s.close();
    await rm(dir, { recursive: true, force: true });
  }
}
