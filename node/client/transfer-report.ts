/**
 * What a transfer did, for people and for scripts, and the transfer mode a command line
 * names. Shared by `push`, `pull` and `peer check`.
 */
import type { TransferMode } from '../../protocol/messages/catalog.ts';
import type { ItemResult } from '../../protocol/messages/records.ts';
import { hexOf } from '../../protocol/wire/hex.ts';
import { UsageError, type CommandContext } from '../cli/command.ts';
import type { TransferSummary } from './peer-session.ts';

/** `--mode`: add, update or replace-all (default add). */
export function modeFrom(ctx: CommandContext): TransferMode {
  const v = ctx.options.mode ?? 'add';
  if (v !== 'add' && v !== 'update' && v !== 'replace-all') {
    throw new UsageError(`--mode must be one of add, update, replace-all, got ${String(v)}`);
  }
  return v;
}

/** Counts of the outcomes of one transfer. */
export function outcomeCounts(results: readonly ItemResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
  return counts;
}

/** One line saying what a transfer did. */
export function transferText(direction: 'sent' | 'received', s: TransferSummary, peer: string) {
  const counts = outcomeCounts(s.results);
  const parts = Object.entries(counts).map(([k, n]) => `${n} ${k}`);
  const where = direction === 'sent' ? `to ${peer}` : `from ${peer}`;
  const lines = [`${s.results.length} ${direction} ${where}: ${parts.join(', ') || 'nothing'}`];
  for (const r of s.results) {
    if (r.outcome === 'refused' || r.outcome === 'invalid') {
      lines.push(`  ${hexOf(r.id).slice(0, 16)} ${r.outcome}${r.code ? ` (${r.code})` : ''}`);
    }
  }
  if (s.removed) lines.push(`${s.removed} removed for replace-all`);
  if (s.aborted) lines.push('the transfer was aborted');
  return lines.join('\n');
}

/** The JSON form of a transfer summary. */
export function transferJson(s: TransferSummary): Record<string, unknown> {
  return {
    counts: outcomeCounts(s.results),
    results: s.results.map((r) => ({
      id: hexOf(r.id),
      outcome: r.outcome,
      ...(r.replaced ? { replaced: hexOf(r.replaced) } : {}),
      ...(r.code ? { code: r.code } : {}),
    })),
    removed: s.removed,
    aborted: s.aborted,
  };
}
