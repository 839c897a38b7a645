import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { describeResult, runCommand, runDocker } from '../support/docker-cli.js';
import type { LogRecord } from '../support/dockgate.js';
import { engineRequest } from '../support/engine-api.js';
import { LABEL_ARGS, uniqueName, useDockgate } from '../support/fixtures.js';
import { ensurePolicyBundle } from '../support/policy-bundle.js';
import { CLI_ENTRY, nodeBinary } from '../support/repo.js';
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
  const env = useDockgate({ policy: DENY_PRIVILEGED_BUNDLE, extraArgs: ['--mode', 'audit'] });

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
    await engineRequest(env().dockerSocket, 'DELETE', `/containers/${name}?force=1`);
  });
});
