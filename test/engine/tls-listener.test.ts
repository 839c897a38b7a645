import { readFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { engineContext } from '../support/context.js';
import { describeResult, runCommand, runDocker } from '../support/docker-cli.js';
import { startDockgateWithConfig, type ConfiguredDockgate } from '../support/dockgate.js';
import { scrape, sumOf } from '../support/prometheus.js';
import { REPO_ROOT } from '../support/repo.js';
import { createPki, type ClientCert } from '../support/tls-pki.js';

// A TCP listener with mutual TLS: the caller's identity is its client certificate, mapped by the
// listener's identityFrom rules. The test-whoami policy denies every request with a message
// naming input.userInfo, so each client's error output says who dockgate thought it was.

const WHOAMI_BUNDLE = path.join(REPO_ROOT, 'policy', 'dist', 'test-whoami.tar.gz');
const PYTHON = process.env.DOCKGATE_TEST_PYTHON ?? '/usr/bin/python3';

let dockgate: ConfiguredDockgate;
let pkiRoot: string;
const certs: Record<'alice' | 'ci' | 'carol' | 'mallory', ClientCert> = {} as never;
let tcpHost: string;

beforeAll(async () => {
  const ctx = engineContext();
  pkiRoot = await fs.mkdtemp('/tmp/dgg-pki-');
  const tenants = await createPki(pkiRoot, 'tenant-ca');
  const rogue = await createPki(pkiRoot, 'rogue-ca');
  const server = await tenants.server();
  certs.alice = await tenants.client('alice', '/CN=alice/OU=team-a');
  certs.ci = await tenants.client('ci', '/CN=runner-7/OU=builds', { san: 'DNS:ci-runner.example,email:ci@example.com' });
  certs.carol = await tenants.client('carol', '/CN=carol/OU=team-b');
  // Same subject as alice, signed by a CA the listener does not trust; trusts the real server.
  certs.mallory = await rogue.client('mallory', '/CN=alice/OU=team-a', { serverCA: tenants.ca.cert });

  dockgate = await startDockgateWithConfig({
    policy: WHOAMI_BUNDLE,
    config: (dir) => ({
      upstream: ctx.dockerHost,
      admin: `unix://${path.join(dir, 'admin.sock')}`,
      listeners: [
        {
          name: 'tls',
          tcp: { address: '127.0.0.1:0', cert: server.cert, key: server.key, clientCA: tenants.ca.cert },
          profile: 'baseline',
          identityFrom: [
            { match: { commonName: 'alice', ou: 'team-a' }, identity: { username: 'team-a', groups: ['dev', 'ops'] } },
            { match: { san: 'DNS:ci-runner.example' }, identity: { username: 'ci', groups: ['ci'] }, profile: 'ci' },
          ],
        },
        { name: 'local', unix: { path: path.join(dir, 'local.sock') }, identity: { username: 'local-admin', groups: ['admin'] } },
      ],
    }),
  });
  const tls = dockgate.listeners.tls!;
  tcpHost = tls.dockerHost;
});

afterEach((t) => {
  if (t.task.result?.state === 'fail') console.log(`--- dockgate log after "${t.task.name}":\n${dockgate?.logs().slice(-6000)}`);
});

afterAll(async () => {
  await dockgate?.stop();
  if (pkiRoot) await fs.rm(pkiRoot, { recursive: true, force: true });
});

/** The docker CLI against the TLS listener with DOCKER_CERT_PATH (the usual way). */
function dockerWithCertPath(cert: ClientCert, args: string[]) {
  return runDocker(tcpHost, args, { env: { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: cert.dir } });
}

const whoami = (fields: string) => new RegExp(`whoami: ${fields}`);

describe('mutual-TLS listener', () => {
  test('the docker CLI (DOCKER_CERT_PATH) is identified by its client certificate', async () => {
    const r = await dockerWithCertPath(certs.alice, ['ps']);
    expect(r.code, describeResult(r)).not.toBe(0);
    expect(r.stderr).toMatch(whoami('username=team-a groups=dev,ops listener=tls authenticatedBy=tls profile=baseline'));
  });

  test('the docker CLI with --tlsverify flags; a SAN rule with its own profile', async () => {
    const c = certs.ci;
    const r = await runDocker('unix:///nonexistent', ['-H', tcpHost, '--tlsverify', '--tlscacert', c.ca, '--tlscert', c.cert, '--tlskey', c.key, 'volume', 'ls']);
    expect(r.code, describeResult(r)).not.toBe(0);
    expect(r.stderr).toMatch(whoami('username=ci groups=ci listener=tls authenticatedBy=tls profile=ci'));
  });

  test('dockerode with client certificates; identity headers from the client change nothing', async () => {
    const { host, port } = dockgate.listeners.tls!;
    const docker = new Docker({
      protocol: 'https',
      host: host!,
      port: port!,
      ca: readFileSync(certs.alice.ca),
      cert: readFileSync(certs.alice.cert),
      key: readFileSync(certs.alice.key),
      headers: { 'X-Remote-User': 'ci', 'X-Forwarded-User': 'ci', Authorization: 'Basic Y2k6Y2k=' },
    } as Docker.DockerOptions);
    await expect(docker.ping()).resolves.toBeTruthy();
    await expect(docker.listContainers()).rejects.toThrow(whoami('username=team-a groups=dev,ops '));
  });

  test('the Python SDK with client certificates', async () => {
    const c = certs.ci;
    const script = [
      'import sys, docker',
      'tls = docker.tls.TLSConfig(client_cert=(sys.argv[2], sys.argv[3]), ca_cert=sys.argv[1], verify=True)',
      `client = docker.DockerClient(base_url=sys.argv[4].replace("tcp://", "https://"), tls=tls, version="auto")`,
      'try:',
      '    client.containers.list()',
      '    print("allowed")',
      'except docker.errors.APIError as e:',
      '    print(e.explanation)',
    ].join('\n');
    const r = await runCommand(PYTHON, ['-c', script, c.ca, c.cert, c.key, tcpHost], {
      // requests lets these override the CA the SDK sets (its session.verify).
      env: { PYTHONDONTWRITEBYTECODE: '1', REQUESTS_CA_BUNDLE: undefined, CURL_CA_BUNDLE: undefined },
    });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toMatch(whoami('username=ci groups=ci listener=tls authenticatedBy=tls profile=ci'));
  });

  test('a resumed TLS session (a new connection on a cached session) keeps its identity', async () => {
    const { host, port } = dockgate.listeners.tls!;
    // Node's https.Agent caches TLS sessions: without keep-alive, the second request resumes the first one's.
    const agent = new https.Agent({ keepAlive: false, ca: readFileSync(certs.ci.ca), cert: readFileSync(certs.ci.cert), key: readFileSync(certs.ci.key) });
    const get = () =>
      new Promise<{ reused: boolean; status: number; body: string }>((resolve, reject) => {
        const req = https.get({ host, port, path: '/v1.41/containers/json', agent }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString('utf8')));
          res.on('end', () => resolve({ reused: (req.socket as TLSSocket).isSessionReused(), status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
      });
    try {
      const first = await get();
      const second = await get();
      expect(second.reused).toBe(true);
      for (const r of [first, second]) {
        expect(r.status).toBe(403);
        expect(r.body).toMatch(whoami('username=ci groups=ci listener=tls authenticatedBy=tls profile=ci'));
      }
    } finally {
      agent.destroy();
    }
  });

  test('no client certificate: the handshake is refused, nothing is judged', async () => {
    const r = await runDocker(tcpHost, ['--tlsverify', '--tlscacert', certs.alice.ca, 'ps']);
    expect(r.code, describeResult(r)).not.toBe(0);
    expect(r.stderr).toMatch(/remote error: tls|certificate required|bad certificate|connection reset|EOF/);
    expect(r.stderr).not.toMatch(/whoami/);
    await dockgate.waitForLog(/"msg":"TLS handshake refused"/);
  });

  test('a certificate from another CA (same subject as a mapped one) is refused in the handshake', async () => {
    const judged = () => (dockgate.logs().match(/"username":"team-a"/g) ?? []).length;
    const before = judged();
    const r = await dockerWithCertPath(certs.mallory, ['ps']);
    expect(r.code, describeResult(r)).not.toBe(0);
    expect(r.stderr).toMatch(/remote error: tls|unknown certificate authority|bad certificate|EOF/);
    expect(r.stderr).not.toMatch(/whoami/);
    expect(judged()).toBe(before);
  });

  test('a valid certificate that no rule maps is refused with a clear error and log', async () => {
    const r = await dockerWithCertPath(certs.carol, ['ps']);
    expect(r.code, describeResult(r)).not.toBe(0);
    expect(r.stderr).toMatch(/connection refused: the client certificate \(.*CN=carol.*\) maps to no identity on listener tls/);
    expect(r.stderr).not.toMatch(/whoami/);
    await dockgate.waitForLog(/CN=carol.*"msg":"connection refused: the client certificate maps to no identity"/);
    // Counted by reason: carol here, the certificate-less client and mallory in the handshake.
    const metrics = await scrape(path.join(dockgate.dir, 'admin.sock'));
    expect(sumOf(metrics, 'dockgate_connections_refused_total', { listener: 'tls', reason: 'unmapped_certificate' })).toBeGreaterThanOrEqual(1);
    expect(sumOf(metrics, 'dockgate_connections_refused_total', { listener: 'tls', reason: 'tls_handshake' })).toBeGreaterThanOrEqual(2);
  });

  test('a unix listener next to it keeps its own fixed identity', async () => {
    const r = await runDocker(dockgate.listeners.local!.dockerHost, ['ps']);
    expect(r.code, describeResult(r)).not.toBe(0);
    expect(r.stderr).toMatch(whoami('username=local-admin groups=admin listener=local authenticatedBy=unix profile=none'));
  });
});
