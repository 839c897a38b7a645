import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { describe, expect, test } from 'vitest';
import type { IdentityRule, TcpListenerConfig } from '../../src/config/config.js';
import { certificateFacts, mapIdentity, parseSubjectAltName, type CertificateFacts } from '../../src/listener/identity-map.js';
import { mutualTlsOptions } from '../../src/listener/tls-listener.js';
import { ListenerError } from '../../src/listener/unix-socket.js';

const facts = (f: Partial<CertificateFacts>): CertificateFacts => ({ commonNames: [], organizationalUnits: [], sans: [], subject: '', fingerprint256: '', ...f });

const RULES: IdentityRule[] = [
  { match: { commonName: 'alice', ou: 'team-a' }, identity: { username: 'team-a', groups: ['dev'] } },
  { match: { san: 'DNS:ci-runner.example' }, identity: { username: 'ci', groups: ['ci'] }, profile: 'ci' },
  { match: { san: 'spiffe://tenants/b' }, identity: { username: 'team-b', groups: [] } },
  { match: { ou: 'ops' }, identity: { username: 'ops', groups: ['ops'] } },
];

describe('subjectAltName as Node prints it', () => {
  test('plain entries of every type', () => {
    expect(parseSubjectAltName('DNS:a.example, email:a@b.c, URI:spiffe://t/ci, IP Address:10.0.0.1')).toEqual([
      'DNS:a.example',
      'email:a@b.c',
      'URI:spiffe://t/ci',
      'IP Address:10.0.0.1',
    ]);
    expect(parseSubjectAltName(undefined)).toEqual([]);
  });

  test('a quoted value with a comma stays one entry (cannot pose as two names)', () => {
    expect(parseSubjectAltName('DNS:"evil.example, DNS:ci-runner.example", DNS:x')).toEqual(['DNS:evil.example, DNS:ci-runner.example', 'DNS:x']);
  });

  test('unreadable text is an error, not a guess', () => {
    expect(() => parseSubjectAltName('DNS:"unterminated')).toThrow(/unreadable/);
    expect(() => parseSubjectAltName('no-colon')).toThrow(/unreadable/);
  });
});

describe('identityFrom rules', () => {
  test('every field of a match must hold; the first matching rule wins', () => {
    expect(mapIdentity(RULES, facts({ commonNames: ['alice'], organizationalUnits: ['team-a', 'ops'] }))).toEqual({ identity: { username: 'team-a', groups: ['dev'] }, rule: 0 });
    expect(mapIdentity(RULES, facts({ commonNames: ['alice'], organizationalUnits: ['team-b'] }))).toBeUndefined();
    expect(mapIdentity(RULES, facts({ commonNames: ['bob'], organizationalUnits: ['ops'] }))?.rule).toBe(3);
  });

  test('a SAN rule matches a typed entry, or a bare value of any type; its profile comes along', () => {
    expect(mapIdentity(RULES, facts({ sans: ['DNS:ci-runner.example'] }))).toEqual({ identity: { username: 'ci', groups: ['ci'] }, profile: 'ci', rule: 1 });
    expect(mapIdentity(RULES, facts({ sans: ['email:ci-runner.example'] }))).toBeUndefined();
    expect(mapIdentity(RULES, facts({ sans: ['URI:spiffe://tenants/b'] }))?.identity.username).toBe('team-b');
    // A quoted SAN holding a comma is one name, not the name after the comma.
    expect(mapIdentity(RULES, facts({ sans: parseSubjectAltName('DNS:"x, DNS:ci-runner.example"') }))).toBeUndefined();
  });

  test('a subject with two common names matches no commonName rule', () => {
    expect(mapIdentity(RULES, facts({ commonNames: ['alice', 'mallory'], organizationalUnits: ['team-a'] }))).toBeUndefined();
  });

  test('facts from a peer certificate: repeated attributes become lists', () => {
    const cert = { subject: { CN: 'alice', OU: ['team-a', 'ops'] }, subjectaltname: 'DNS:a.example', fingerprint256: 'AB:CD' } as unknown as PeerCertificate;
    expect(certificateFacts(cert)).toEqual({ commonNames: ['alice'], organizationalUnits: ['team-a', 'ops'], sans: ['DNS:a.example'], subject: 'CN=alice, OU=team-a+ops', fingerprint256: 'AB:CD' });
  });
});

describe('TLS files of a listener', () => {
  const listener = (dir: string): TcpListenerConfig => ({
    name: 'remote',
    headersTimeoutSeconds: 60,
    tcp: { host: '127.0.0.1', port: 0, cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem'), clientCA: path.join(dir, 'ca.pem') },
    identityFrom: RULES,
  });

  test('a missing or non-PEM file is a start-up error naming the listener and the file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dgg-tls-'));
    expect(() => mutualTlsOptions(listener(dir), 1000)).toThrow(ListenerError);
    expect(() => mutualTlsOptions(listener(dir), 1000)).toThrow(/cannot read the server certificate .*cert\.pem/);
    for (const f of ['cert.pem', 'key.pem', 'ca.pem']) writeFileSync(path.join(dir, f), 'not a PEM\n');
    expect(() => mutualTlsOptions(listener(dir), 1000)).toThrow(/listener remote: unusable TLS files/);
  });
});
