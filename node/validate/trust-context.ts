/**
 * The parsed inputs of validation (anchors, intermediates, CRLs, OCSP responses) with the
 * caches that make a store-wide check cheap: every certificate and CRL is parsed once,
 * every issuer key imported once, and every (signed object, issuer) signature verified once.
 * A malformed input item is set aside with its reason; it never spoils the others.
 */
import { createHash, type KeyObject } from 'node:crypto';
import type { CertificateFacts } from '../pki/extensions.ts';
import { readCertificate } from '../pki/extensions.ts';
import { readCrl, type CrlFacts } from '../pki/crl-facts.ts';
import { readOcspResponse, type OcspResponseFacts } from '../pki/ocsp.ts';
import { importPublicKey, verifySignature, type AlgorithmId } from '../pki/signature.ts';
import type { ValidateOptions, ValidationLimits } from './options.ts';
import type { WorkDone } from './result.ts';

/** Thrown inside a validation when a bound in {@link ValidationLimits} is reached. */
export class LimitReached extends Error {
  constructor(readonly what: string) {
    super(what);
    this.name = 'LimitReached';
  }
}

/** Counts the work of one validation against its limits. */
export class WorkBudget {
  readonly done: WorkDone = { signatureChecks: 0, candidates: 0, paths: 0, fetches: 0 };
  constructor(readonly limits: ValidationLimits) {}

  /** @throws LimitReached past `maxSignatureChecks` */
  signature(): void {
    if (++this.done.signatureChecks > this.limits.maxSignatureChecks) {
      throw new LimitReached(`more than ${this.limits.maxSignatureChecks} signature checks`);
    }
  }

  /** @throws LimitReached past `maxCandidates` */
  candidate(): void {
    if (++this.done.candidates > this.limits.maxCandidates) {
      throw new LimitReached(`more than ${this.limits.maxCandidates} issuer candidates`);
    }
  }

  /** @throws LimitReached past `maxPaths` */
  path(): void {
    if (++this.done.paths > this.limits.maxPaths) {
      throw new LimitReached(`more than ${this.limits.maxPaths} complete paths`);
    }
  }

  /** False once `maxFetches` fetches were made (fetching then stops; it is not an error). */
  fetch(): boolean {
    if (this.done.fetches >= this.limits.maxFetches) return false;
    this.done.fetches++;
    return true;
  }
}

/** Something signed: a certificate, a CRL or an OCSP response. */
export interface SignedThing {
  /** A stable identity for the cache (fingerprint of the DER). */
  readonly id: string;
  readonly tbs: Uint8Array;
  readonly signature: Uint8Array;
  readonly signatureAlgorithm: AlgorithmId;
}

/** Parsed inputs and caches shared by every validation made with them. */
export class TrustContext {
  readonly anchors: CertificateFacts[] = [];
  readonly intermediates: CertificateFacts[] = [];
  readonly crls: CrlFacts[] = [];
  readonly ocspResponses: OcspResponseFacts[] = [];
  /** One sentence per input item that was set aside, naming it and why. */
  readonly inputProblems: string[] = [];
  /** CRLs fetched from distribution points, by URL (failures too, so they are not retried). */
  readonly fetchedCrls = new Map<string, CrlFacts | string>();
  /** Hosts that timed out during this check, and how; they are not asked again. */
  readonly stalledHosts = new Map<string, string>();
  private readonly anchorIds = new Set<string>();
  private readonly bySubject = new Map<string, CertificateFacts[]>();
  private readonly crlsByIssuer = new Map<string, CrlFacts[]>();
  private readonly keys = new Map<string, KeyObject | null>();
  private readonly verified = new Map<string, boolean>();
  private readonly spkiHashes = new Map<string, string>();
  private readonly ids = new WeakMap<object, string>();

  constructor(options: ValidateOptions, limits: ValidationLimits) {
    options.anchors.forEach((der, i) => {
      const c = this.parseItem(der, `trust anchor ${i + 1}`, limits);
      if (c && !this.anchorIds.has(c.fingerprint)) {
        this.anchorIds.add(c.fingerprint);
        this.anchors.push(c);
        this.index(c);
      }
    });
    options.intermediates?.forEach((der, i) => {
      const c = this.parseItem(der, `intermediate ${i + 1}`, limits);
      if (c && !this.anchorIds.has(c.fingerprint)) {
        this.intermediates.push(c);
        this.index(c);
      }
    });
    options.crls?.forEach((der, i) => {
      const crl = this.parseCrl(der, `CRL ${i + 1}`, limits);
      if (crl) this.addCrl(crl);
    });
    options.ocspResponses?.forEach((der, i) => {
      try {
        if (der.length > limits.maxOcspBytes) throw new Error(`over ${limits.maxOcspBytes} bytes`);
        this.ocspResponses.push(readOcspResponse(der));
      } catch (e) {
        this.inputProblems.push(`OCSP response ${i + 1} set aside: ${(e as Error).message}`);
      }
    });
  }

  private parseItem(
    der: Uint8Array,
    what: string,
    limits: ValidationLimits,
  ): CertificateFacts | null {
    try {
      if (der.length > limits.maxCertificateBytes) {
        throw new Error(`over ${limits.maxCertificateBytes} bytes`);
      }
      return readCertificate(der);
    } catch (e) {
      this.inputProblems.push(`${what} set aside: ${(e as Error).message}`);
      return null;
    }
  }

  /** Parses a CRL within the size limit, or records why not and returns null. */
  parseCrl(der: Uint8Array, what: string, limits: ValidationLimits): CrlFacts | null {
    try {
      if (der.length > limits.maxCrlBytes) throw new Error(`over ${limits.maxCrlBytes} bytes`);
      return readCrl(der);
    } catch (e) {
      this.inputProblems.push(`${what} set aside: ${(e as Error).message}`);
      return null;
    }
  }

  /** Adds a CRL (supplied or fetched) to the index by issuer name. */
  addCrl(crl: CrlFacts): void {
    this.crls.push(crl);
    const list = this.crlsByIssuer.get(crl.issuer.key) ?? [];
    list.push(crl);
    this.crlsByIssuer.set(crl.issuer.key, list);
  }

  private index(c: CertificateFacts): void {
    const list = this.bySubject.get(c.subject.key) ?? [];
    list.push(c);
    this.bySubject.set(c.subject.key, list);
  }

  /** True for a certificate given as a trust anchor. */
  isAnchor(c: CertificateFacts): boolean {
    return this.anchorIds.has(c.fingerprint);
  }

  /**
   * Certificates whose subject is `c`'s issuer, best first: anchors, then those whose
   * subject key identifier equals `c`'s authority key identifier, then those valid at `at`.
   */
  issuersOf(c: CertificateFacts, at: number): CertificateFacts[] {
    const list = this.bySubject.get(c.issuer.key) ?? [];
    const rank = (x: CertificateFacts): number =>
      (this.isAnchor(x) ? 0 : 4) +
      (c.authorityKeyId !== undefined && x.subjectKeyId === c.authorityKeyId ? 0 : 2) +
      (x.notBefore.getTime() <= at && at <= x.notAfter.getTime() ? 0 : 1);
    return [...list].sort((a, b) => rank(a) - rank(b));
  }

  /** CRLs whose issuer name is `issuerKey`, supplied and fetched. */
  crlsFor(issuerKey: string): readonly CrlFacts[] {
    return this.crlsByIssuer.get(issuerKey) ?? [];
  }

  /** A cache identity for a parsed object: SHA-256 of `bytes`, computed once per object. */
  idOf(owner: object, ...bytes: Uint8Array[]): string {
    let id = this.ids.get(owner);
    if (id === undefined) {
      const h = createHash('sha256');
      for (const b of bytes) h.update(b);
      id = h.digest('hex');
      this.ids.set(owner, id);
    }
    return id;
  }

  /** SHA-256 of a certificate's SubjectPublicKeyInfo, hex (cached). */
  spkiHash(c: CertificateFacts): string {
    let h = this.spkiHashes.get(c.fingerprint);
    if (h === undefined) {
      h = createHash('sha256').update(c.spki).digest('hex');
      this.spkiHashes.set(c.fingerprint, h);
    }
    return h;
  }

  /**
   * Whether `signer`'s key verifies `thing`'s signature. Each pair is verified once; a cached
   * answer costs no budget, a new verification costs one signature check.
   * @throws LimitReached when the budget is spent
   */
  verify(thing: SignedThing, signer: CertificateFacts, budget: WorkBudget): boolean {
    const cacheKey = `${thing.id}/${this.spkiHash(signer)}`;
    const known = this.verified.get(cacheKey);
    if (known !== undefined) return known;
    budget.signature();
    const key = this.keyOf(signer);
    const ok =
      key !== null && verifySignature(thing.signatureAlgorithm, thing.tbs, thing.signature, key);
    this.verified.set(cacheKey, ok);
    return ok;
  }

  private keyOf(c: CertificateFacts): KeyObject | null {
    const h = this.spkiHash(c);
    let key = this.keys.get(h);
    if (key === undefined) {
      try {
        key = importPublicKey(c.spki);
      } catch {
        key = null;
      }
      this.keys.set(h, key);
    }
    return key;
  }
}

/** A certificate as a {@link SignedThing}. */
export function certificateAsSigned(c: CertificateFacts): SignedThing {
  return {
    id: c.fingerprint,
    tbs: c.tbs,
    signature: c.signature,
    signatureAlgorithm: c.signatureAlgorithm,
  };
}
