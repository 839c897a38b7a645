import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import http from 'node:http';
import { describeResult, dockerBinary, clientEnv, runCommand, runDocker, shellQuote, spawnDocker, spawnProcess } from '../support/docker-cli.js';
import { startDockgate } from '../support/dockgate.js';
import type { LogRecord } from '../support/dockgate.js';
import { engineRequest } from '../support/engine-api.js';
import { engineContext } from '../support/context.js';
import { LABEL_ARGS, uniqueName, useDockgate } from '../support/fixtures.js';
import { ALLOW_ALL_BUNDLE, ensurePolicyBundle } from '../support/policy-bundle.js';
import { scrape, sumOf } from '../support/prometheus.js';
import { acceptedConnections } from '../support/unix-connections.js';
import { CLI_ENTRY, nodeBinary } from '../support/repo.js';
import { HEAP_FLOOR_MIB } from '../../src/runtime/heap-floor.js';
import { MALLOC_SETTINGS } from '../../src/runtime/malloc-env.js';
import { DENY_PRIVILEGED, DENY_PRIVILEGED_BUNDLE } from '../support/security.js';

// Operating dockgate (issue 6): configuration checks, decision lines, audit mode, metrics and
// health, graceful shutdown — each through the real CLI, the real docker client and the daemon.

let work = '';
beforeAll(async () => {
  await ensurePolicyBundle(DENY_PRIVILEGED);
  work = await fs.mkdtemp('/tmp/dgo-');
});
afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

const cli = (args: string[]) => runCommand(nodeBinary(), [process.env.DOCKGATE_TEST_CLI ?? CLI_ENTRY, ...args], { timeoutMs: 30_000 });

async function configFile(name: string, text: string): Promise<string> {
  const file = path.join(work, name);
  await fs.writeFile(file, text);
  return file;
}

const isDecision = (r: LogRecord) => typeof r.msg === 'string' && r.msg.startsWith('admission decision');

describe('check-config', () => {
  test('a valid file: exit 0 and a summary on stdout', async () => {
    const file = await configFile('valid.yaml', `policy: ${DENY_PRIVILEGED_BUNDLE}\nmode: audit\nadmin: 127.0.0.1:9323\nlisteners:\n  - { name: ci, unix: { path: /run/dockgate/ci.sock } }\n`);
    const r = await cli(['check-config', file]);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${file}: valid \\(mode audit; listeners ci; policy ${DENY_PRIVILEGED_BUNDLE}, entrypoint dockgate/test/decision\\)\\n$`));
  });

  test('an invalid file: exit 2, every problem with its JSON path on stderr', async () => {
    const file = await configFile('invalid.yaml', 'mode: permissive\nlisteners:\n  - name: a\n    unix: { path: /run/a.sock, mod: "0600" }\n');
    const r = await cli(['check-config', file]);
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${file}: invalid configuration:\n`);
    expect(r.stderr).toContain('  $.mode: must be one of "enforce", "audit"\n');
    expect(r.stderr).toContain('  $.listeners[0].unix.mod: unknown setting\n');
  });

  test('a policy bundle that does not load: exit 2 with the reason', async () => {
    const file = await configFile('nopolicy.yaml', 'policy: ./missing.tar.gz\n');
    const r = await cli(['check-config', file]);
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toContain(path.join(work, 'missing.tar.gz'));
  });

  test('serve refuses to start on an invalid file with the same message (exit 2)', async () => {
    const socket = path.join(work, 'never.sock');
    const file = await configFile('serve-invalid.yaml', `listeners:\n  - { name: a, unix: { path: ${socket} }, identity: { user: a } }\n`);
    const r = await cli(['serve', '--config', file]);
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toContain('  $.listeners[0].identity.user: unknown setting\n');
    expect(existsSync(socket)).toBe(false);
  });
});

describe('decision lines (enforce mode)', () => {
  const env = useDockgate({ policy: DENY_PRIVILEGED_BUNDLE, extraArgs: ['--log-level', 'debug'] });

  test('a denied create: one line with who, what, the verdict, each violation and the patch summary', async () => {
    const name = uniqueName('dgo-deny');
    const r = await runDocker(env().dockgate.dockerHost, ['create', '--privileged', '--name', name, env().testImage, 'true']);
    expect(r.code, describeResult(r)).not.toBe(0);
    expect(r.stderr).toContain('no-privileged: privileged containers are not allowed');
    const line = await env().dockgate.waitForRecord((d) => isDecision(d) && d.operation === 'create' && d.allowed === false);
    expect(line).toMatchObject({
      level: 30,
      msg: 'admission decision: denied',
      listener: 'default',
      user: 'default',
      groups: [],
      method: 'POST',
      route: '/containers/create',
      kind: 'container',
      operation: 'create',
      allowed: false,
      result: 'denied',
      mode: 'enforce',
      patch: [{ op: 'add', path: '/Labels/dockgate.test' }], // the CLI sends Labels: {}
      warnings: expect.arrayContaining([expect.stringContaining('is not pinned')]),
    });
    expect(line.decision).toMatch(/^[0-9a-f-]{36}$/);
    expect(line.violations).toEqual(
      expect.arrayContaining([
        { rule: 'no-privileged', action: 'deny', message: 'privileged containers are not allowed: remove --privileged' },
        { rule: 'latest-tag', action: 'warn', message: expect.stringContaining('is not pinned') },
      ]),
    );
    const loaded = env().dockgate.logRecords().find((r) => r.msg === 'policy activated');
    expect(line.revision).toBe(loaded?.revision ?? null);
    expect(line.latencyMs).toBeGreaterThan(0);
    // The daemon never saw it.
    expect((await engineRequest(env().dockerSocket, 'GET', `/containers/${name}/json`)).status).toBe(404);
  });

  test('reads with nothing to report are logged at debug, refusals at info with status and reason', async () => {
    const ps = await runDocker(env().dockgate.dockerHost, ['ps', '-a']);
    expect(ps.code, describeResult(ps)).toBe(0);
    const list = await env().dockgate.waitForRecord((d) => isDecision(d) && d.kind === 'container' && d.operation === 'list');
    expect(list).toMatchObject({ level: 20, method: 'GET', route: '/containers/json', result: 'allowed', allowed: true });

    const bogus = await engineRequest(env().dockgate.socketPath, 'POST', '/v1.41/containers/create?name=x', { body: '{"Image": 1', headers: { 'Content-Type': 'application/json' } });
    expect(bogus.status).toBe(400);
    const refused = await env().dockgate.waitForRecord((d) => isDecision(d) && d.result === 'refused');
    expect(refused).toMatchObject({ level: 30, msg: 'admission decision: refused', route: '/containers/create', allowed: false, status: 400 });
    expect(refused.reason).toMatch(/^dockgate: /);
  });
});

describe('audit mode', () => {
  const env = useDockgate({ policy: DENY_PRIVILEGED_BUNDLE, extraArgs: ['--mode', 'audit'], admin: true });

  test('a privileged create goes through; the would-be denial is logged and the client warned', async () => {
    const name = uniqueName('dgo-audit');
    const r = await runDocker(env().dockgate.dockerHost, ['create', '--privileged', '--name', name, ...LABEL_ARGS, env().testImage, 'true']);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stderr).toContain('dockgate: audit mode, would be denied: no-privileged: privileged containers are not allowed');
    const inspect = await engineRequest(env().dockerSocket, 'GET', `/containers/${name}/json`);
    expect(inspect.status).toBe(200);
    expect(inspect.json<{ HostConfig: { Privileged: boolean } }>().HostConfig.Privileged).toBe(true);
    const line = await env().dockgate.waitForRecord((d) => isDecision(d) && d.operation === 'create' && d.result === 'audited');
    expect(line).toMatchObject({
      msg: 'admission decision: would deny (audit mode: allowed)',
      allowed: true,
      mode: 'audit',
      violations: expect.arrayContaining([expect.objectContaining({ rule: 'no-privileged', action: 'deny' })]),
    });
    const metrics = await scrape(env().dockgate.adminSocket!);
    expect(sumOf(metrics, 'dockgate_decisions_total', { kind: 'container', operation: 'create', result: 'audited' })).toBe(1);
    expect(sumOf(metrics, 'dockgate_decisions_total', { result: 'denied' })).toBe(0);
    expect(sumOf(metrics, 'dockgate_violations_total', { rule: 'no-privileged', action: 'deny', result: 'audited', user: 'default', listener: 'default' })).toBe(1);
    await engineRequest(env().dockerSocket, 'DELETE', `/containers/${name}?force=1`);
  });
});

describe('metrics and health (admin listener)', () => {
  const env = useDockgate({ policy: DENY_PRIVILEGED_BUNDLE, admin: true });

  test('/healthz and /readyz answer 200; other paths 404', async () => {
    const admin = env().dockgate.adminSocket!;
    expect((await engineRequest(admin, 'GET', '/healthz')).text()).toBe('ok\n');
    const ready = await engineRequest(admin, 'GET', '/readyz');
    expect([ready.status, ready.text()]).toEqual([200, 'ready\n']);
    expect((await engineRequest(admin, 'GET', '/v1.41/containers/json')).status).toBe(404);
  });

  test('counts match the requests sent; the policy in force is reported', async () => {
    const admin = env().dockgate.adminSocket!;
    const before = await scrape(admin);
    const host = env().dockgate.dockerHost;
    for (let i = 0; i < 3; i++) expect((await runDocker(host, ['ps', '-q'])).code).toBe(0);
    for (let i = 0; i < 2; i++) expect((await runDocker(host, ['create', '--privileged', env().testImage, 'true'])).code).not.toBe(0);
    const after = await scrape(admin);
    const delta = (name: string, labels: Record<string, string>) => sumOf(after, name, labels) - sumOf(before, name, labels);
    expect(delta('dockgate_decisions_total', { listener: 'default', kind: 'container', operation: 'list', result: 'allowed' })).toBe(3);
    expect(delta('dockgate_decisions_total', { listener: 'default', kind: 'container', operation: 'create', result: 'denied' })).toBe(2);
    expect(delta('dockgate_violations_total', { listener: 'default', user: 'default', rule: 'no-privileged', action: 'deny', result: 'denied' })).toBe(2);
    // Every decision is timed; every forwarded one (not the denials) waited for the daemon.
    const decided = delta('dockgate_decisions_total', {});
    expect(delta('dockgate_decision_duration_seconds_count', {})).toBe(decided);
    expect(delta('dockgate_upstream_duration_seconds_count', { kind: 'request' })).toBe(decided - 2);
    expect(sumOf(after, 'dockgate_policy_reloads_total', { result: 'success' })).toBe(1);
    expect(sumOf(after, 'dockgate_policy_reloads_total', { result: 'failure' })).toBe(0);
    const loaded = await env().dockgate.waitForRecord((r) => r.msg === 'policy activated');
    expect(after.filter((s) => s.name === 'dockgate_policy_info').map((s) => [s.labels.revision, s.value])).toEqual([[loaded.revision ?? '', 1]]);
  });

  test('the young generation stays at its initial size while hundreds of streams open', async () => {
    // src/runtime/young-generation.ts: without it V8 grows the new space to 32 MiB under this load.
    const admin = env().dockgate.adminSocket!;
    const name = uniqueName('dgo-heap');
    const run = await runDocker(env().dockgate.dockerHost, ['run', '-d', '--name', name, ...LABEL_ARGS, env().testImage, 'sh', '-c', 'while true; do echo tick; sleep 0.2; done']);
    expect(run.code, describeResult(run)).toBe(0);
    const streams: http.ClientRequest[] = [];
    try {
      for (let batch = 0; batch < 6; batch++) {
        await Promise.all(
          Array.from({ length: 50 }, () =>
            new Promise<void>((resolve, reject) => {
              const req = http.request({ socketPath: env().dockgate.socketPath, agent: false, path: `/v1.41/containers/${name}/logs?follow=1&stdout=1&tail=1` }, (res) => {
                expect(res.statusCode).toBe(200);
                res.once('data', () => resolve());
              });
              req.once('error', reject);
              streams.push(req);
              req.end();
            }),
          ),
        );
      }
      const metrics = await scrape(admin);
      const newSpace = sumOf(metrics, 'nodejs_heap_space_size_total_bytes', { space: 'new' });
      expect(newSpace).toBeGreaterThan(0);
      expect(newSpace).toBeLessThanOrEqual(4 * 1024 * 1024);
    } finally {
      for (const req of streams) req.destroy();
      await engineRequest(env().dockerSocket, 'DELETE', `/containers/${name}?force=1`);
    }
  });

  test('serves with the old-generation floor and the malloc settings, in the process that was started', async () => {
    // src/runtime/heap-floor.ts: serve re-executes itself with the flag; execve keeps the PID.
    const cmdline = (await fs.readFile(`/proc/${env().dockgate.pid}/cmdline`, 'utf8')).split('\0');
    expect(cmdline).toContain(`--initial-old-space-size=${HEAP_FLOOR_MIB}`);
    expect(cmdline.filter((a) => a.startsWith('--initial-old-space-size'))).toHaveLength(1);
    // ... and glibc malloc's settings in its environment (src/runtime/malloc-env.ts).
    const environ = (await fs.readFile(`/proc/${env().dockgate.pid}/environ`, 'utf8')).split('\0');
    for (const [name, value] of Object.entries(MALLOC_SETTINGS)) expect(environ).toContain(`${name}=${process.env[name] ?? value}`);
    expect((await engineRequest(env().dockgate.socketPath, 'GET', '/_ping')).status).toBe(200);
  });

  test('while a logs -f and an exec -i are open: one request in flight, one hijacked stream', async () => {
    const admin = env().dockgate.adminSocket!;
    const host = env().dockgate.dockerHost;
    const name = uniqueName('dgo-metrics');
    const run = await runDocker(host, ['run', '-d', '--name', name, ...LABEL_ARGS, env().testImage, 'sh', '-c', 'while true; do echo tick; sleep 1; done']);
    expect(run.code, describeResult(run)).toBe(0);
    const logs = spawnDocker(host, ['logs', '-f', name]);
    const exec = spawnDocker(host, ['exec', '-i', name, 'sh', '-c', 'echo exec-ready; cat'], { stdin: 'pipe' });
    try {
      await logs.waitForOutput(/tick\n/);
      await exec.waitForOutput(/exec-ready\n/);
      const during = await scrape(admin);
      expect(sumOf(during, 'dockgate_requests_in_flight', { listener: 'default' })).toBe(1);
      expect(sumOf(during, 'dockgate_hijacked_streams', { listener: 'default' })).toBe(1);
      expect(sumOf(during, 'dockgate_upstream_duration_seconds_count', { kind: 'upgrade' })).toBeGreaterThanOrEqual(1);
    } finally {
      exec.child.stdin!.end();
      logs.child.kill('SIGTERM');
      await Promise.all([exec.result(), logs.result()]);
      await engineRequest(env().dockerSocket, 'DELETE', `/containers/${name}?force=1`);
    }
    // Both end when the clients go: the gauges come back to zero (a leak would stay above).
    for (const deadline = Date.now() + 10_000; ; ) {
      const end = await scrape(admin);
      const open = sumOf(end, 'dockgate_requests_in_flight') + sumOf(end, 'dockgate_hijacked_streams');
      if (open === 0) break;
      if (Date.now() > deadline) throw new Error(`in-flight/hijacked gauges still at ${open} after the clients ended`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
});

describe('/readyz follows the daemon', () => {
  test('503 with the reason once the upstream stops answering _ping', async () => {
    // Fault injection: a stand-in daemon that answers _ping, then goes away.
    const socket = path.join(work, 'fake-daemon.sock');
    const fake = http.createServer((req, res) => {
      res.writeHead(req.url === '/_ping' ? 200 : 404, { 'Content-Type': 'text/plain' });
      res.end(req.url === '/_ping' ? 'OK' : 'no');
    });
    await new Promise<void>((resolve) => fake.listen(socket, resolve));
    const dockgate = await startDockgate({ upstream: `unix://${socket}`, admin: true });
    try {
      const admin = dockgate.adminSocket!;
      expect((await engineRequest(admin, 'GET', '/readyz')).status).toBe(200);
      fake.closeAllConnections();
      await new Promise<void>((resolve) => fake.close(() => resolve()));
      const down = await engineRequest(admin, 'GET', '/readyz');
      expect(down.status).toBe(503);
      expect(down.text()).toMatch(new RegExp(`^not ready: the Docker daemon at unix://${socket} does not answer _ping: .*ENOENT`));
      expect((await engineRequest(admin, 'GET', '/healthz')).status).toBe(200);
    } finally {
      await dockgate.stop();
    }
  });
});

describe('graceful shutdown', () => {
  test('SIGTERM: stops accepting, finishes an in-flight create, lets logs -f and exec -it run for the grace period, then exits 0 with its socket removed', async () => {
    const { dockerHost, dockerSocket, testImage } = engineContext();
    const config = await configFile('grace.yaml', 'shutdownGraceSeconds: 2\n');
    const dockgate = await startDockgate({ upstream: dockerHost, extraArgs: ['--config', config] });
    const host = dockgate.dockerHost;
    const name = uniqueName('dgo-term');
    const created = uniqueName('dgo-inflight');
    try {
      const run = await runDocker(host, ['run', '-d', '--name', name, ...LABEL_ARGS, testImage, 'sh', '-c', 'while true; do echo tick; sleep 0.2; done']);
      expect(run.code, describeResult(run)).toBe(0);
      const logs = spawnDocker(host, ['logs', '-f', name]);
      // exec -it needs a terminal: util-linux script gives it one.
      const execCmd = [dockerBinary(), 'exec', '-it', name, 'sh', '-c', 'echo exec-ready; sleep 600'].map(shellQuote).join(' ');
      const exec = spawnProcess('script', ['-qec', execCmd, '/dev/null'], { stdin: 'pipe', env: clientEnv(host, { SHELL: '/bin/sh', TERM: 'xterm' }) });
      await logs.waitForOutput(/tick\n/);
      await exec.waitForOutput(/exec-ready/);

      // A create whose body is half sent when SIGTERM arrives: an admission in flight.
      const acceptedBefore = await acceptedConnections(dockgate.pid, dockgate.socketPath);
      const body = JSON.stringify({ Image: testImage, Cmd: ['true'], Labels: { 'dockgate.test': '1' } });
      const pending = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = http.request(
          { socketPath: dockgate.socketPath, method: 'POST', path: `/v1.41/containers/create?name=${created}`, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
          },
        );
        req.on('error', reject);
        req.write(body.slice(0, 10));
        void dockgate.waitForRecord((r) => typeof r.msg === 'string' && r.msg.startsWith('shutting down')).then(() => req.end(body.slice(10)), reject);
      });
      // Its connection must have been accepted by dockgate before the signal.
      for (const deadline = Date.now() + 10_000; (await acceptedConnections(dockgate.pid, dockgate.socketPath)) <= acceptedBefore; ) {
        if (Date.now() > deadline) throw new Error('dockgate did not accept the create connection');
        await new Promise((r) => setTimeout(r, 20));
      }
      dockgate.child.kill('SIGTERM');
      const stopping = await dockgate.waitForRecord((r) => typeof r.msg === 'string' && r.msg.startsWith('shutting down'));
      expect(stopping).toMatchObject({ signal: 'SIGTERM', graceSeconds: 2, hijacked: 1 });

      const answer = await pending;
      expect(answer.status, answer.text).toBe(201);
      expect((await engineRequest(dockerSocket, 'GET', `/containers/${created}/json`)).status).toBe(200);

      // No new connections: the socket file is gone while the streams still run.
      for (const deadline = Date.now() + 5000; existsSync(dockgate.socketPath); ) {
        if (Date.now() > deadline) throw new Error('socket file still present after SIGTERM');
        await new Promise((r) => setTimeout(r, 20));
      }
      const ticks = logs.stdout().length;
      await logs.waitForOutput(new RegExp(`^[\\s\\S]{${ticks + 1},}$`));
      expect(dockgate.child.exitCode).toBeNull();

      // After the grace period: streams cut, exit 0.
      const exit = await dockgate.exited;
      expect(exit).toEqual({ code: 0, signal: null });
      await Promise.all([logs.result(10_000), exec.result(10_000)]);
      expect(dockgate.logRecords().some((r) => r.msg === 'stopped')).toBe(true);
      expect(existsSync(dockgate.socketPath)).toBe(false);
    } finally {
      await dockgate.stop();
      await engineRequest(dockerSocket, 'DELETE', `/containers/${name}?force=1`);
      await engineRequest(dockerSocket, 'DELETE', `/containers/${created}?force=1`);
    }
  });
});

describe('policy reload metrics', () => {
  test('a rejected bundle counts as a failure; a new one as a success with its revision', async () => {
    const { dockerHost } = engineContext();
    const bundle = path.join(work, 'reloaded.tar.gz');
    await fs.copyFile(DENY_PRIVILEGED_BUNDLE, bundle);
    const dockgate = await startDockgate({ upstream: dockerHost, policy: bundle, admin: true });
    const admin = dockgate.adminSocket!;
    const until = async (what: string, pred: (m: Awaited<ReturnType<typeof scrape>>) => boolean) => {
      for (const deadline = Date.now() + 15_000; ; ) {
        if (pred(await scrape(admin))) return;
        if (Date.now() > deadline) throw new Error(`metrics never showed ${what}:\n${dockgate.logs().slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      await until('the startup activation', (m) => sumOf(m, 'dockgate_policy_reloads_total', { result: 'success' }) === 1);
      await fs.writeFile(bundle, 'not a bundle');
      await until('a failed reload', (m) => sumOf(m, 'dockgate_policy_reloads_total', { result: 'failure' }) === 1);
      const first = (await scrape(admin)).filter((s) => s.name === 'dockgate_policy_info');
      await fs.copyFile(ALLOW_ALL_BUNDLE, bundle);
      await until('the new activation', (m) => sumOf(m, 'dockgate_policy_reloads_total', { result: 'success' }) === 2);
      const info = (await scrape(admin)).filter((s) => s.name === 'dockgate_policy_info');
      expect(info).toHaveLength(1);
      expect(info[0]!.value).toBe(1);
      expect(info[0]!.labels.revision).not.toBe(first[0]!.labels.revision);
    } finally {
      await dockgate.stop();
    }
  });
});
