/**
 * Name constraints (RFC 5280 4.2.1.10 and 6.1.3 (b)-(c)): the names of each certificate
 * below a constraining CA, the trust anchor included, must fall inside every permitted
 * subtree of their form and outside every excluded one.
 *
 * Permitted subtrees are kept as a stack (one set per constraining CA) rather than
 * intersected, which gives the same answer with less code. The legacy emailAddress in the
 * subject is checked as an rfc822Name whether or not a subject alternative name exists,
 * which is stricter than RFC 5280 asks. A constraint on a name form certsync does not
 * interpret (otherName, x400Address, ...) refuses any certificate carrying that form.
 */
import type { CertificateFacts, DistinguishedName, GeneralNames } from '../pki/extensions.ts';

/** The constraints in force at one point of the path. */
export interface NameConstraintState {
  readonly permitted: GeneralNames[];
  readonly excluded: GeneralNames[];
}

/** Adds a CA certificate's constraints to the state (RFC 5280 6.1.4 (g)). */
export function addConstraints(state: NameConstraintState, cert: CertificateFacts): void {
  if (cert.nameConstraints?.permitted) state.permitted.push(cert.nameConstraints.permitted);
  if (cert.nameConstraints?.excluded) state.excluded.push(cert.nameConstraints.excluded);
}

function splitMailbox(address: string): [string, string] | null {
  const at = address.lastIndexOf('@');
  return at <= 0 ? null : [address.slice(0, at), address.slice(at + 1).toLowerCase()];
}

function domainWithin(host: string, constraint: string): boolean {
  const h = host.toLowerCase();
  const c = constraint.toLowerCase();
  if (c === '') return true;
  if (c.startsWith('.')) return h.endsWith(c);
  return h === c || h.endsWith(`.${c}`);
}

/** rfc822Name constraint forms: a mailbox, a host, or `.domain` for any host below it. */
function mailWithin(address: string, constraint: string): boolean {
  const mailbox = splitMailbox(address);
  if (!mailbox) return false;
  const cbox = splitMailbox(constraint);
  if (cbox) return mailbox[0] === cbox[0] && mailbox[1] === cbox[1];
  if (constraint.startsWith('.')) return mailbox[1].endsWith(constraint.toLowerCase());
  return mailbox[1] === constraint.toLowerCase();
}

function dirWithin(name: DistinguishedName, base: DistinguishedName): boolean {
  if (base.rdns.length > name.rdns.length) return false;
  return base.rdns.every((rdn, i) => JSON.stringify(rdn) === JSON.stringify(name.rdns[i]));
}

function uriHost(uri: string): string | null {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i.exec(uri);
  return m?.[1] ? m[1] : null;
}

function ipWithin(ip: Uint8Array, constraint: Uint8Array): boolean {
  if (constraint.length !== ip.length * 2) return false;
  for (let i = 0; i < ip.length; i++) {
    const mask = constraint[ip.length + i] as number;
    if (((ip[i] as number) & mask) !== ((constraint[i] as number) & mask)) return false;
  }
  return true;
}

type Form = 'rfc822' | 'dns' | 'uri' | 'directory' | 'ip';

function within(form: Form, name: unknown, constraint: unknown): boolean {
  switch (form) {
    case 'rfc822':
      return mailWithin(name as string, constraint as string);
    case 'dns':
      return domainWithin(name as string, constraint as string);
    case 'uri': {
      // A URI constraint names one host, or with a leading period any host below a domain.
      const host = uriHost(name as string)?.toLowerCase();
      const c = (constraint as string).toLowerCase();
      if (!host) return false;
      return c.startsWith('.') ? host.endsWith(c) : host === c;
    }
    case 'directory':
      return dirWithin(name as DistinguishedName, constraint as DistinguishedName);
    case 'ip':
      return ipWithin(name as Uint8Array, constraint as Uint8Array);
  }
}

function describe(form: Form, name: unknown): string {
  if (form === 'directory') return `directory name "${(name as DistinguishedName).text}"`;
  if (form === 'ip') return `IP address ${Buffer.from(name as Uint8Array).toString('hex')}`;
  const kind = form === 'rfc822' ? 'e-mail address' : form === 'dns' ? 'DNS name' : 'URI';
  return `${kind} "${String(name)}"`;
}

/**
 * The first name of `cert` that the constraints in `state` forbid, as a sentence, or null.
 * Names checked: the subject (unless empty), the subject's emailAddress values and every
 * subject alternative name.
 */
export function nameConstraintViolation(
  cert: CertificateFacts,
  state: NameConstraintState,
): string | null {
  if (state.permitted.length === 0 && state.excluded.length === 0) return null;
  const san = cert.subjectAltName;
  const names: Record<Form, readonly unknown[]> = {
    rfc822: [...(san?.rfc822 ?? []), ...cert.subject.emails],
    dns: san?.dns ?? [],
    uri: san?.uri ?? [],
    directory: [...(cert.subject.rdns.length ? [cert.subject] : []), ...(san?.directory ?? [])],
    ip: san?.ip ?? [],
  };
  const others = san?.other ?? [];
  for (const set of [...state.permitted, ...state.excluded]) {
    const form = set.other.find((o) => others.includes(o));
    if (form) return `it carries a ${form} name, which certsync cannot check against constraints`;
  }
  for (const form of Object.keys(names) as Form[]) {
    for (const name of names[form]) {
      for (const permitted of state.permitted) {
        const bases = permitted[form] as readonly unknown[];
        if (bases.length > 0 && !bases.some((b) => within(form, name, b))) {
          return `${describe(form, name)} is outside the permitted subtrees`;
        }
      }
      for (const excluded of state.excluded) {
        const bases = excluded[form] as readonly unknown[];
        if (bases.some((b) => within(form, name, b))) {
          return `${describe(form, name)} is in an excluded subtree`;
        }
      }
    }
  }
  return null;
}
