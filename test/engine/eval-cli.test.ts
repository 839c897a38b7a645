import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { engineContext } from '../support/context.js';
import { clientEnv, describeResult, runCommand, runDocker, type RunResult } from '../support/docker-cli.js';
import { inspectContainer } from '../support/daemon-state.js';
import { LABEL_ARGS, uniqueName, useDockgate } from '../support/fixtures.js';
import { CLI_ENTRY, REPO_ROOT, nodeBinary } from '../support/repo.js';

// `dockgate eval` and `dockgate test` as users run them: the built CLI, the embedded baseline
// bundle, the real docker CLI and docker-compose talking to eval's capture socket. Only the
// --docker-host lookups use the test daemon.

const dir = mkdtempSync('/tmp/dgt-eval-');
// The real proxy with the same (embedded) policy, to check that eval predicts what it does.
const proxied = useDockgate({ policy: null });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const p = path.join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

// No DOCKER_HOST of the test daemon: eval must not need one.
function dockgate(args: string[]): Promise<RunResult> {
  return runCommand(nodeBinary(), [CLI_ENTRY, ...args], { cwd: REPO_ROOT, env: clientEnv('unix:///nonexistent/docker.sock'), timeoutMs: 90_000 });
}

interface Judged {
  allowed: boolean;
  outcome: string;
  kind?: string;
  operation?: string;
  status?: number;
  message?: string;
  violations: { rule: string; action: string }[];
  warnings: string[];
  patch: { op: string; path: string; value?: unknown }[];
  object?: Record<string, any>;
}

function json<T>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`eval printed no JSON:\n${describeResult(r)}`);
  }
}

const create = (hostConfig: Record<string, unknown>, version = '1.41') => ({
  method: 'POST',
  path: `/v${version}/containers/create?name=web`,
  body: { Image: 'alpine', Cmd: ['true'], HostConfig: hostConfig },
});

describe('dockgate eval --request', () => {
  test('an allowed request: exit 0, forwarded body with the owner label of --identity', async () => {
    const r = await dockgate(['eval', '--identity', 'alice:dev', '--request', file('plain.json', create({}))]);
    expect(r.code, describeResult(r)).toBe(0);
    const out = json<Judged>(r);
    expect(out).toMatchObject({ allowed: true, outcome: 'allow', kind: 'container', operation: 'create', violations: [], warnings: [] });
    expect(out.object).toEqual({ Image: 'alpine', Cmd: ['true'], HostConfig: {}, Labels: { 'dockgate.owner': 'alice' } });
  });

  test('a denied request: exit 1, the message the docker CLI would print, the violation', async () => {
    const r = await dockgate(['eval', '--request', file('priv.json', create({ Privileged: true }))]);
    expect(r.code, describeResult(r)).toBe(1);
    const out = json<Judged>(r);
    expect(out).toMatchObject({ allowed: false, outcome: 'deny', status: 403 });
    expect(out.message).toMatch(/^dockgate: privileged: --privileged is not allowed/);
    expect(out.violations).toEqual([expect.objectContaining({ rule: 'privileged', action: 'deny' })]);
    expect(out.object).toBeUndefined();
  });

  test('a mutated request: the bind made read-only, in the form the API version calls for', async () => {
    const old = json<Judged>(await dockgate(['eval', '--request', file('bind41.json', create({ Binds: ['/tmp:/data'] }))]));
    expect(old.object?.HostConfig).toEqual({ Binds: ['/tmp:/data:ro'] });
    expect(old.patch).toContainEqual({ op: 'add', path: '/HostConfig/Binds', value: ['/tmp:/data:ro'] });
    expect(old.warnings.join('\n')).toMatch(/host path \/tmp mounted at \/data was made read-only/);

    const r = await dockgate(['eval', '--request', file('bind44.json', create({ Binds: ['/tmp:/data'] }, '1.44'))]);
    expect(r.code, describeResult(r)).toBe(0);
    const mount = json<Judged>(r).object?.HostConfig.Mounts[0];
    expect(mount).toMatchObject({ Type: 'bind', Source: '/tmp', Target: '/data', ReadOnly: true, BindOptions: { ReadOnlyForceRecursive: true } });
  });

  test('--format text: a summary for people', async () => {
    const r = await dockgate(['eval', '--format', 'text', '--request', file('priv.json', create({ Privileged: true }))]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^DENY +POST \/v1\.41\/containers\/create\?name=web +\(container create\) +→ 403\n/);
    expect(r.stdout).toContain('violation privileged [deny]: --privileged is not allowed');
  });

  test('a policy input (the contract form) from the fixtures; --profile picks the profile', async () => {
    const fixtures = JSON.parse(readFileSync(path.join(REPO_ROOT, 'policy/fixtures/baseline-containers.json'), 'utf8')) as { name: string; input: any }[];
    const input = fixtures.find((c) => c.name === 'docker run alpine')!.input;
    delete input.userInfo.profile;
    const inputFile = file('input.json', input);
    const baseline = await dockgate(['eval', '--request', inputFile]);
    expect(baseline.code, describeResult(baseline)).toBe(0);
    expect(json<Judged>(baseline).object?.Labels).toEqual({ 'dockgate.owner': 'alice' }); // the file's userInfo
    const restricted = await dockgate(['eval', '--profile', 'restricted', '--request', inputFile]);
    expect(restricted.code, describeResult(restricted)).toBe(1);
    expect(json<Judged>(restricted).violations.map((v) => v.rule)).toContain('run-as-non-root');
  });

  test('a lookup it cannot make fails closed (exit 2); the file can give the object', async () => {
    const exec = { method: 'POST', path: '/v1.41/containers/web/exec', body: { Cmd: ['sh'], User: '' } };
    const r = await dockgate(['eval', '--profile', 'restricted', '--request', file('exec.json', exec)]);
    expect(r.code, describeResult(r)).toBe(2);
    expect(json<Judged>(r)).toMatchObject({ outcome: 'error', status: 502 });
    expect(json<Judged>(r).message).toMatch(/cannot look up container "web".*"oldObject".*--docker-host/);

    const given = { ...exec, oldObject: { Id: 'x', Name: '/web', Config: { User: '1000', Labels: {} }, HostConfig: {} } };
    const ok = await dockgate(['eval', '--profile', 'restricted', '--request', file('exec-old.json', given)]);
    expect(ok.code, describeResult(ok)).toBe(0);
    const root = { ...given, oldObject: { ...given.oldObject, Config: { User: '', Labels: {} } } };
    const denied = await dockgate(['eval', '--profile', 'restricted', '--request', file('exec-root.json', root)]);
    expect(denied.code, describeResult(denied)).toBe(1);
    expect(json<Judged>(denied).violations.map((v) => v.rule)).toContain('run-as-non-root');
  });

  test('--docker-host: lookups ask that daemon (a pre-created bind volume is seen and denied), also when capturing', async () => {
    const { dockerHost } = engineContext();
    const vol = uniqueName('dgt-evalvol');
    const made = await runDocker(dockerHost, ['volume', 'create', ...LABEL_ARGS, '--opt', 'type=none', '--opt', 'o=bind', '--opt', 'device=/etc', vol]);
    expect(made.code, describeResult(made)).toBe(0);
    try {
      const req = file('vol.json', create({ Binds: [`${vol}:/x`] }));
      const r = await dockgate(['eval', '--docker-host', dockerHost, '--request', req]);
      expect(r.code, describeResult(r)).toBe(1);
      expect(json<Judged>(r).violations.map((v) => v.rule)).toContain('host-path-denied');
      const offline = await dockgate(['eval', '--request', req]);
      expect(offline.code, describeResult(offline)).toBe(2);
      // The capture path too: the empty capture daemon does not know the volume, the real one does.
      const run = ['--', 'docker', 'run', '-v', `${vol}:/x`, 'alpine', 'true'];
      const seen = await dockgate(['eval', '--docker-host', dockerHost, ...run]);
      expect(seen.code, describeResult(seen)).toBe(1);
      expect(creates(json<Captured>(seen))[0]!.violations.map((v) => v.rule)).toContain('host-path-denied');
      const unseen = await dockgate(['eval', ...run]);
      expect(unseen.code, describeResult(unseen)).toBe(0);
    } finally {
      await runDocker(dockerHost, ['volume', 'rm', vol]);
    }
  });

  test('--config: the listener\'s identity and profile; --show-input adds the policy input', async () => {
    const config = file('dockgate.yaml', [
      'listeners:',
      '  - { name: team-a, unix: { path: /tmp/a.sock }, identity: { username: alice, groups: [dev] }, profile: restricted }',
      '  - { name: team-b, unix: { path: /tmp/b.sock } }',
    ].join('\n'));
    const req = file('user0.json', create({}));
    const which = await dockgate(['eval', '--config', config, '--request', req]);
    expect(which.code).toBe(2);
    expect(which.stderr).toContain('pick one with --listener (team-a, team-b)');
    const a = await dockgate(['eval', '--config', config, '--listener', 'team-a', '--show-input', '--request', req]);
    expect(a.code, describeResult(a)).toBe(1);
    const out = json<Judged & { input: { userInfo: unknown } }>(a);
    expect(out.violations.map((v) => v.rule)).toContain('run-as-non-root');
    expect(out.input.userInfo).toEqual({ username: 'alice', groups: ['dev'], listener: 'team-a', authenticatedBy: 'unix', profile: 'restricted' });
    const b = await dockgate(['eval', '--config', config, '--listener', 'team-b', '--request', req]);
    expect(b.code, describeResult(b)).toBe(0);
    expect(json<Judged>(b).object?.Labels).toEqual({ 'dockgate.owner': 'team-b' });
  });

  test('--config with a mutual-TLS listener: its callers are named by certificates, so --identity is required', async () => {
    const config = file('tls.yaml', [
      'listeners:',
      '  - name: remote',
      '    tcp: { address: "127.0.0.1:2376", cert: s.pem, key: s-key.pem, clientCA: ca.pem }',
      '    profile: restricted',
      '    identityFrom: [{ match: { commonName: alice }, identity: { username: alice } }]',
    ].join('\n'));
    const req = file('tls-create.json', create({}));
    const missing = await dockgate(['eval', '--config', config, '--request', req]);
    expect(missing.code, describeResult(missing)).toBe(2);
    expect(missing.stderr).toContain('listener remote takes its callers\' identity from their client certificates: give --identity');
    const given = await dockgate(['eval', '--config', config, '--identity', 'alice:dev', '--show-input', '--request', req]);
    expect(given.code, describeResult(given)).toBe(1);
    expect(json<{ input: { userInfo: unknown } }>(given).input.userInfo).toEqual({ username: 'alice', groups: ['dev'], listener: 'remote', authenticatedBy: 'tls', profile: 'restricted' });
  });

  test('usage and file errors exit 2', async () => {
    expect((await dockgate(['eval'])).code).toBe(2);
    const bad = await dockgate(['eval', '--request', file('typo.json', { method: 'POST', path: '/containers/create', oldObjct: {} })]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown field "oldObjct"');
  });
});

interface Captured {
  allowed: boolean;
  outcome: string;
  client: { exitCode: number; stderr: string };
  requests: (Judged & { method: string; path: string })[];
}

const creates = (c: Captured) => c.requests.filter((r) => r.kind === 'container' && r.operation === 'create');

describe('dockgate eval with the real clients', () => {
  test('-- docker run --privileged: denied, and the CLI got the denial', async () => {
    const r = await dockgate(['eval', '--', 'docker', 'run', '--privileged', 'alpine', 'true']);
    expect(r.code, describeResult(r)).toBe(1);
    const out = json<Captured>(r);
    expect(out.outcome).toBe('deny');
    expect(creates(out)).toHaveLength(1);
    expect(creates(out)[0]!.violations.map((v) => v.rule)).toEqual(['privileged']);
    expect(out.client.stderr).toContain('Error response from daemon: dockgate: privileged:');
  });

  test('-- docker run -v /tmp:/data: allowed, mounted read-only (Mounts form at the newest API, :ro at 1.41)', async () => {
    const r = await dockgate(['eval', '--', 'docker', 'run', '--rm', '-v', '/tmp:/data', 'alpine', 'ls', '/data']);
    expect(r.code, describeResult(r)).toBe(0);
    const [c] = creates(json<Captured>(r));
    expect(c!.object?.HostConfig.Mounts).toEqual([expect.objectContaining({ Type: 'bind', Source: '/tmp', Target: '/data', ReadOnly: true })]);
    expect(c!.object?.HostConfig.AutoRemove).toBe(true);

    const old = await dockgate(['eval', '--api-version', '1.41', '--', 'docker', 'run', '-d', '-v', '/tmp:/data', 'alpine']);
    expect(old.code, describeResult(old)).toBe(0);
    expect(creates(json<Captured>(old))[0]!.object?.HostConfig.Binds).toEqual(['/tmp:/data:ro']);
  });

  test('eval predicts what the proxy makes the daemon store (same bind, same API version)', async () => {
    const { dockerHost, dockerSocket, testImage } = engineContext();
    const hostDir = mkdtempSync('/tmp/dgt-eval-bind-');
    const name = uniqueName('dgt-evalcmp');
    try {
      const predicted = await dockgate(['eval', '--docker-host', dockerHost, '--', 'docker', 'create', '--name', name, '-v', `${hostDir}:/data`, testImage]);
      expect(predicted.code, describeResult(predicted)).toBe(0);
      const made = await runDocker(proxied().dockgate.dockerHost, ['create', '--name', name, ...LABEL_ARGS, '-v', `${hostDir}:/data`, testImage]);
      expect(made.code, describeResult(made)).toBe(0);
      const stored = (await inspectContainer(dockerSocket, name))!;
      const hostConfig = (JSON.parse(stored.raw) as { HostConfig: Record<string, unknown> }).HostConfig;
      const forwarded = creates(json<Captured>(predicted))[0]!.object!.HostConfig;
      // Whichever read-only form the daemon's API version calls for, it is the one eval predicted.
      expect(JSON.stringify([forwarded.Binds, forwarded.Mounts])).toContain(hostDir);
      expect(hostConfig.Mounts ?? []).toEqual(forwarded.Mounts ?? []);
      expect(hostConfig.Binds ?? []).toEqual(forwarded.Binds ?? []);
    } finally {
      await runDocker(dockerHost, ['rm', '-f', name]);
      rmSync(hostDir, { recursive: true, force: true });
    }
  });

  test('--compose: a privileged service is denied, the others are judged as compose sends them', async () => {
    const project = path.join(dir, 'proj');
    const compose = file('docker-compose.yml', [
      'services:',
      '  web:',
      '    image: alpine',
      '    volumes: ["/tmp:/data", "cache:/cache"]',
      '  bad:',
      '    image: alpine',
      '    privileged: true',
      'volumes:',
      '  cache: {}',
    ].join('\n'));
    const r = await dockgate(['eval', '--compose', compose, '--project-name', path.basename(project)]);
    expect(r.code, describeResult(r)).toBe(1);
    const out = json<Captured>(r);
    // compose v1 names containers proj_bad_1, v2 proj-bad-1.
    const service = (c: Judged & { path: string }) => new URL(c.path, 'http://x').searchParams.get('name')?.replace(/^proj[-_](\w+)[-_]1$/, '$1');
    const byName: Record<string, Judged> = Object.fromEntries(creates(out).map((c) => [service(c), c]));
    expect(Object.keys(byName).sort()).toEqual(['bad', 'web']);
    expect(byName['bad']).toMatchObject({ outcome: 'deny' });
    expect(byName['bad']!.violations.map((v) => v.rule)).toEqual(['privileged']);
    expect(byName['web']).toMatchObject({ outcome: 'allow' });
    expect(byName['web']!.object?.HostConfig.Mounts).toEqual([expect.objectContaining({ Source: '/tmp', ReadOnly: true })]);
    expect(out.requests.some((q) => q.kind === 'volume' && q.operation === 'create' && q.outcome === 'allow')).toBe(true);
    expect(out.client.stderr).toContain('dockgate: privileged:');
  });

  test('--compose builds build sections: a host-network build is denied, docker build too', async () => {
    const ctx = mkdtempSync(path.join(dir, 'ctx-'));
    writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM alpine\nRUN true\n');
    writeFileSync(path.join(ctx, 'docker-compose.yml'), 'services:\n  app:\n    image: myapp\n    build: { context: ., network: host }\n');
    const r = await dockgate(['eval', '--compose', path.join(ctx, 'docker-compose.yml'), '--project-name', 'buildproj']);
    expect(r.code, describeResult(r)).toBe(1);
    const build = json<Captured>(r).requests.find((q) => q.kind === 'build');
    expect(build).toMatchObject({ outcome: 'deny' });
    expect(build!.violations.map((v) => v.rule)).toEqual(['host-namespaces']);

    const plain = await dockgate(['eval', '--', 'docker', 'build', '-t', 'x', ctx]);
    expect(plain.code, describeResult(plain)).toBe(0);
    expect(json<Captured>(plain).requests.some((q) => q.kind === 'build' && q.outcome === 'allow')).toBe(true);
  });

  test('--compose: a benign file passes with exit 0', async () => {
    const compose = file('ok-compose.yml', 'services:\n  web:\n    image: alpine\n    ports: ["127.0.0.1:18080:80"]\n');
    const r = await dockgate(['eval', '--compose', compose, '--project-name', 'okproj']);
    expect(r.code, describeResult(r)).toBe(0);
    expect(creates(json<Captured>(r))).toHaveLength(1);
  });
});

describe('dockgate test', () => {
  test('passes on the shipped fixtures', async () => {
    const r = await dockgate(['test', 'policy/fixtures']);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toMatch(/^(\d+) passed, 0 failed \(\1 cases\)$/m);
  });

  test('fails on a deliberately wrong fixture, with a readable diff', async () => {
    const cases = JSON.parse(readFileSync(path.join(REPO_ROOT, 'policy/fixtures/baseline-containers.json'), 'utf8')) as any[];
    const wrong = cases.find((c) => c.name === '--privileged')!;
    wrong.expect = { allowed: true, rules: [] };
    const r = await dockgate(['test', file('wrong.json', [wrong])]);
    expect(r.code, describeResult(r)).toBe(1);
    expect(r.stdout).toContain('FAIL');
    expect(r.stdout).toContain('allowed: expected true, got false');
    expect(r.stdout).toMatch(/rules:\n\s+expected \[\]\n\s+got\s+\["privileged"\]/);
    expect(r.stdout).toContain('0 passed, 1 failed (1 cases)');
  });
});
