import type { PeerCertificate } from 'node:tls';
import type { CertificateMatch, Identity, IdentityRule } from '../config/config.js';

// Maps a verified client certificate to an identity by the listener's ordered `identityFrom`
// rules. Only the certificate the TLS layer verified against the client CA counts: nothing the
// client sends later (headers, labels, bodies) can change who it is.

/** What the rules look at, taken from a verified peer certificate. */
export interface CertificateFacts {
  commonNames: string[];
  organizationalUnits: string[];
  /** subjectAltName entries as `TYPE:value` (`DNS:ci.example`, `email:a@b`, `URI:spiffe://…`, `IP Address:10.0.0.1`). */
  sans: string[];
  /** For logs: the subject as the certificate has it, and its SHA-256 fingerprint. */
  subject: string;
  fingerprint256: string;
}

export interface MappedIdentity {
  identity: Identity;
  profile?: string;
  /** Index of the rule that matched, for the log. */
  rule: number;
}

function values(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/**
 * Node prints subjectAltName as `TYPE:value, TYPE:value`; since CVE-2021-44532 a value with a
 * comma, quote or other special character is printed as a JSON string (`DNS:"a, DNS:b"`), so a
 * crafted name cannot pose as two entries. Unquoted values run to the next ", ".
 */
export function parseSubjectAltName(text: string | undefined): string[] {
  const out: string[] = [];
  if (!text) return out;
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) throw new Error(`unreadable subjectAltName: ${JSON.stringify(text)}`);
    const type = text.slice(i, colon);
    let value: string;
    let next: number;
    if (text[colon + 1] === '"') {
      // A JSON string: find its closing quote, skipping escapes.
      let j = colon + 2;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) throw new Error(`unreadable subjectAltName: ${JSON.stringify(text)}`);
      value = JSON.parse(text.slice(colon + 1, j + 1)) as string;
      next = j + 1;
    } else {
      const end = text.indexOf(', ', colon + 1);
      next = end < 0 ? text.length : end;
      value = text.slice(colon + 1, next);
    }
    out.push(`${type}:${value}`);
    if (next < text.length) {
      if (!text.startsWith(', ', next)) throw new Error(`unreadable subjectAltName: ${JSON.stringify(text)}`);
      next += 2;
    }
    i = next;
  }
  return out;
}

export function certificateFacts(cert: PeerCertificate): CertificateFacts {
  const subject = cert.subject ?? ({} as PeerCertificate['subject']);
  return {
    commonNames: values(subject.CN),
    organizationalUnits: values(subject.OU),
    sans: parseSubjectAltName(cert.subjectaltname),
    subject: Object.entries(subject)
      .map(([k, v]) => `${k}=${values(v as string | string[]).join('+')}`)
      .join(', '),
    fingerprint256: cert.fingerprint256,
  };
}

function sanMatches(wanted: string, sans: string[]): boolean {
  // `DNS:x` names the type; a bare value matches an entry of any type with that value.
  return sans.some((s) => s === wanted || s.slice(s.indexOf(':') + 1) === wanted);
}

function ruleMatches(match: CertificateMatch, facts: CertificateFacts): boolean {
  // A subject with two CNs is ambiguous: no commonName rule takes it.
  if (match.commonName !== undefined && !(facts.commonNames.length === 1 && facts.commonNames[0] === match.commonName)) return false;
  if (match.ou !== undefined && !facts.organizationalUnits.includes(match.ou)) return false;
  if (match.san !== undefined && !sanMatches(match.san, facts.sans)) return false;
  return true;
}

/** The first rule that matches, or undefined: the caller refuses the connection. */
export function mapIdentity(rules: readonly IdentityRule[], facts: CertificateFacts): MappedIdentity | undefined {
  for (const [i, rule] of rules.entries()) {
    if (!ruleMatches(rule.match, facts)) continue;
    const mapped: MappedIdentity = { identity: rule.identity, rule: i };
    if (rule.profile !== undefined) mapped.profile = rule.profile;
    return mapped;
  }
  return undefined;
}
