/**
 * Coverage by spec section: which sections of spec/*.md the passing and failing cases
 * touch, through the requirement ids they name (conformance/requirements.json).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One requirement: where it is and what it says. */
export interface Requirement {
  /** The spec file, e.g. `protocol.md`. */
  readonly spec: string;
  /** The section number, e.g. `8.5`. */
  readonly section: string;
  /** The sentence of the spec it stands for, quoted. */
  readonly text: string;
}

/** How many cases name a requirement of one section (or of its subsections). */
export interface SectionCoverage {
  /** `protocol.md 8.5 Transfers`. */
  readonly section: string;
  readonly requirements: number;
  readonly cases: number;
  /** Why no case covers it, for a section that states no rule on the wire. */
  readonly withoutCases?: string;
}

/** The spec files whose sections are counted. */
export const SPEC_FILES = ['protocol.md', 'session.md', 'reconcile.md'] as const;

/**
 * Reads the requirement index.
 *
 * @throws Error when the file is missing or not an object of requirements
 */
export function loadRequirements(root: string): Record<string, Requirement> {
  const raw: unknown = JSON.parse(
    readFileSync(join(root, 'conformance/requirements.json'), 'utf8'),
  );
  if (typeof raw !== 'object' || raw === null) throw new Error('requirements.json: not an object');
  return (raw as { requirements: Record<string, Requirement> }).requirements;
}

/**
 * The sections that need no case, `protocol.md 1` -> why (prose, figures, a rule not on the
 * wire), from conformance/requirements.json.
 */
export function sectionsWithoutCases(root: string): Record<string, string> {
  const raw = JSON.parse(readFileSync(join(root, 'conformance/requirements.json'), 'utf8')) as {
    withoutCases?: Record<string, string>;
  };
  return raw.withoutCases ?? {};
}

/** The numbered headings of one spec file: `[number, title]`. */
export function specSections(root: string, file: string): [string, string][] {
  const text = readFileSync(join(root, 'spec', file), 'utf8');
  const out: [string, string][] = [];
  for (const m of text.matchAll(/^#{2,3} (\d+(?:\.\d+)?)\.? (.+)$/gm)) {
    out.push([m[1] as string, (m[2] as string).trim()]);
  }
  return out;
}

/** Coverage of every numbered section of every spec file by `cases`. */
export function coverage(
  cases: readonly { covers: readonly string[] }[],
  root: string,
): SectionCoverage[] {
  const reqs = loadRequirements(root);
  const exempt = sectionsWithoutCases(root);
  const out: SectionCoverage[] = [];
  for (const file of SPEC_FILES) {
    for (const [num, title] of specSections(root, file)) {
      const inSection = (id: string): boolean => {
        const r = reqs[id];
        return !!r && r.spec === file && (r.section === num || r.section.startsWith(`${num}.`));
      };
      const why = exempt[`${file} ${num}`];
      out.push({
        section: `${file} ${num} ${title}`,
        requirements: Object.keys(reqs).filter(inSection).length,
        cases: cases.filter((c) => c.covers.some(inSection)).length,
        ...(why ? { withoutCases: why } : {}),
      });
    }
  }
  return out;
}
