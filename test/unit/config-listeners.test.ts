import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { applyOverrides, isTcpListener, loadConfigFile, parseTcpAddress } from '../../src/config/config.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dgg-config-'));
function load(yaml: string) {
  const file = path.join(dir, 'dockgate.yaml');
  writeFileSync(file, yaml);
  return loadConfigFile(file, {});
}

const TLS = `
listeners:
  - name: remote
    tcp: { address: "127.0.0.1:2376", cert: tls/server.pem, key: tls/server-key.pem, clientCA: /etc/dockgate/ca.pem }
    maxConnections: 50
    headersTimeoutSeconds: 5
    profile: baseline
    identityFrom:
      - match: { commonName: alice, ou: team-a }
        identity: { username: team-a, groups: [dev] }
      - match: { san: "DNS:ci.example" }
        identity: { username: ci }
        profile: ci
`;

describe('listeners in the config file', () => {
  test('the minimal unix listener of the issue, with defaults', () => {
    const c = load(`
upstream: unix:///var/run/docker.sock
listeners:
  - name: team-a
    unix: { path: /run/dockgate/team-a.sock, mode: "0660" }
    identity: { username: team-a, groups: [dev] }
    profile: baseline
`);
    expect(c.listeners).toEqual([
      { name: 'team-a', unix: { path: '/run/dockgate/team-a.sock', mode: 0o660 }, identity: { username: 'team-a', groups: ['dev'] }, profile: 'baseline', headersTimeoutSeconds: 60 },
    ]);
  });

  test('a TCP listener with mutual TLS: paths relative to the config file, ordered rules', () => {
    const [l] = load(TLS).listeners;
    expect(isTcpListener(l!)).toBe(true);
    expect(l).toEqual({
      name: 'remote',
      tcp: { host: '127.0.0.1', port: 2376, cert: path.join(dir, 'tls/server.pem'), key: path.join(dir, 'tls/server-key.pem'), clientCA: '/etc/dockgate/ca.pem' },
      maxConnections: 50,
      headersTimeoutSeconds: 5,
      profile: 'baseline',
      identityFrom: [
        { match: { commonName: 'alice', ou: 'team-a' }, identity: { username: 'team-a', groups: ['dev'] } },
        { match: { san: 'DNS:ci.example' }, identity: { username: 'ci', groups: [] }, profile: 'ci' },
      ],
    });
  });

  test.each([
    ['a TCP listener without a client CA', TLS.replace(', clientCA: /etc/dockgate/ca.pem', ''), /tcp\.clientCA: required/],
    ['a TCP listener without identityFrom', TLS.slice(0, TLS.indexOf('    identityFrom')), /identityFrom: required/],
    ['a rule that matches everything', TLS.replace('{ commonName: alice, ou: team-a }', '{}'), /give at least one of/],
    ['an unknown match field', TLS.replace('commonName: alice', 'cn: alice'), /match\.cn: unknown setting/],
    ['an identity on a TCP listener', TLS.replace('    profile: baseline', '    identity: { username: x }'), /unknown setting "identity"/],
    ['both unix and tcp', TLS.replace('    profile: baseline', '    unix: { path: /tmp/x.sock }'), /either unix or tcp/],
    ['a bad address', TLS.replace('127.0.0.1:2376', '127.0.0.1'), /expected host:port/],
    ['a zero connection limit', TLS.replace('maxConnections: 50', 'maxConnections: 0'), /maxConnections: must be >= 1/],
    ['a negative headers timeout', TLS.replace('headersTimeoutSeconds: 5', 'headersTimeoutSeconds: -1'), /headersTimeoutSeconds/],
  ])('refuses %s', (_what, yaml, error) => {
    expect(() => load(yaml)).toThrow(error);
  });

  test('IPv6 addresses in brackets', () => {
    expect(parseTcpAddress('[::1]:2376', 'x')).toEqual({ host: '::1', port: 2376 });
    expect(() => parseTcpAddress('::1:2376', 'x')).toThrow();
  });

  test('--socket-mode leaves TCP listeners alone; --listen replaces all listeners', () => {
    const c = load(TLS);
    expect(applyOverrides(c, { socketMode: '0600' }, (u) => u).listeners[0]).toEqual(c.listeners[0]);
    const replaced = applyOverrides(c, { listen: 'unix:///tmp/d.sock' }, (u) => u.slice(7)).listeners;
    expect(replaced).toEqual([{ name: 'default', unix: { path: '/tmp/d.sock', mode: 0o660 }, identity: { username: 'default', groups: [] }, headersTimeoutSeconds: 60 }]);
  });
});
