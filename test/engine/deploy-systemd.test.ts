import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isTcpListener, loadConfigFile } from '../../src/config/config.js';
import { describeResult, runCommand } from '../support/docker-cli.js';
import { CLI_ENTRY, REPO_ROOT, nodeBinary } from '../support/repo.js';

// The shared-host deployment (deploy/systemd): the unit passes `systemd-analyze verify` as it
// would be installed, its sandbox stays tight, and the example config fits the unit.

const DIR = path.join(REPO_ROOT, 'deploy', 'systemd');
const UNIT = path.join(DIR, 'dockgate.service');
const DROP_IN = path.join(DIR, 'dockgate.service.d', 'teams.conf');
const EXAMPLE_CONFIG = path.join(DIR, 'dockgate.yaml');
const SYSTEM_UNITS = '/usr/lib/systemd/system';

/** The values of `key=` lines in a unit file (later lines add to earlier ones, space-separated). */
async function unitValues(file: string, key: string): Promise<string[]> {
  const text = await fs.readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .flatMap((l) => l.slice(key.length + 1).split(/\s+/).filter(Boolean));
}

describe('systemd unit (deploy/systemd)', () => {
  let root: string;

  // A root laid out like a host where dockgate is installed as the README says: systemd's own
  // units, the unit and its drop-in in /etc/systemd/system, and the commands the unit runs
  // (verify checks that they are executable; their content is not what is tested here).
  beforeAll(async () => {
    root = await fs.mkdtemp('/tmp/dgt-systemd-');
    const etc = path.join(root, 'etc', 'systemd', 'system');
    await fs.mkdir(path.join(etc, 'dockgate.service.d'), { recursive: true });
    await fs.copyFile(UNIT, path.join(etc, 'dockgate.service'));
    await fs.copyFile(DROP_IN, path.join(etc, 'dockgate.service.d', 'teams.conf'));
    await fs.cp(SYSTEM_UNITS, path.join(root, SYSTEM_UNITS), { recursive: true, verbatimSymlinks: true });
    for (const command of ['/usr/local/bin/dockgate', '/bin/kill']) {
      await fs.mkdir(path.join(root, path.dirname(command)), { recursive: true });
      await fs.writeFile(path.join(root, command), '#!/bin/sh\n', { mode: 0o755 });
    }
  });

  afterAll(async () => {
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  test('passes `systemd-analyze verify` with its drop-in, without a warning', async () => {
    const r = await runCommand('systemd-analyze', ['verify', `--root=${root}`, path.join(root, 'etc', 'systemd', 'system', 'dockgate.service')]);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stderr).toBe('');
  });

  test('is sandboxed: `systemd-analyze security` rates its exposure at most 2.0', async () => {
    const r = await runCommand('systemd-analyze', ['security', '--offline=yes', '--no-pager', UNIT]);
    expect(r.code, describeResult(r)).toBe(0);
    const m = /Overall exposure level for dockgate\.service: (\d+\.\d+)/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(2.0);
    for (const setting of ['NoNewPrivileges', 'ProtectSystem', 'CapabilityBoundingSet']) {
      expect(r.stdout).toMatch(new RegExp(`✓ ${setting}=`));
    }
  });

  test('the example config has one group-owned 0660 socket per team in the unit\'s RuntimeDirectory, each group joined in the drop-in', async () => {
    const config = loadConfigFile(EXAMPLE_CONFIG, {});
    const [runtimeDir] = await unitValues(UNIT, 'RuntimeDirectory');
    const joined = await unitValues(DROP_IN, 'SupplementaryGroups');
    expect(config.listeners.length).toBeGreaterThan(1);
    const groups = new Set<string | number | undefined>();
    for (const l of config.listeners) {
      expect(isTcpListener(l)).toBe(false);
      if (isTcpListener(l)) continue;
      expect(path.dirname(l.unix.path)).toBe(`/run/${runtimeDir}`);
      expect(l.unix.mode).toBe(0o660);
      expect(joined).toContain(l.unix.group);
      groups.add(l.unix.group);
    }
    expect(groups.size).toBe(config.listeners.length);
    // The unit reaches the daemon through the docker group, at the socket the config names.
    expect(await unitValues(UNIT, 'SupplementaryGroups')).toEqual(['docker']);
    expect(config.upstream).toBe('unix:///run/docker.sock');
  });
});

describe('example configurations', () => {
  // The container's is also checked inside the image, and the sidecar's served by it (deploy.test.ts).
  test.each([
    'deploy/systemd/dockgate.yaml',
    'deploy/container/dockgate.yaml',
    'deploy/compose/config/dockgate.yaml',
  ])('%s passes `dockgate check-config`', async (file) => {
    const r = await runCommand(nodeBinary(), [CLI_ENTRY, 'check-config', path.join(REPO_ROOT, file)]);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toMatch(/: valid /);
  });
});
