import { describe, expect, test } from 'vitest';
import { containerEventsSince, createAtDaemon, expectNothingCreated, inspectContainer, inspectVolume } from '../support/daemon-state.js';
import { describeResult, runDocker } from '../support/docker-cli.js';
import { engineRequest } from '../support/engine-api.js';
import { useGuardedDockgate } from '../support/security.js';

// The test policy as a user meets it through the real docker CLI: a benign container is created
// (with the policy's label mutation and warnings), started and waited for; the attacks the CLI
// can express are refused with the policy's message, and the daemon holds nothing of them.

const env = useGuardedDockgate('cli');

const docker = (args: string[]) => runDocker(env().dockgate.dockerHost, args);

describe('the deny-privileged test policy through the docker CLI', () => {
  test('benign create + start + wait works; the policy label is on the container at the daemon; warnings are printed', async () => {
    const f = env();
    const name = f.name('happy');
    const created = await docker(['create', '--name', name, '--label', 'sec.app=web', f.testImage, 'sh', '-c', 'echo hello-from-$((6*7)); exit 3']);
    expect(created.code, describeResult(created)).toBe(0);
    expect(created.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    // The docker CLI prints each entry of the create response's Warnings as "WARNING: …".
    expect(created.stderr).toContain('WARNING: dockgate: label dockgate.test=1 added by rule test-label');
    expect(created.stderr).toMatch(/^WARNING: dockgate: image dockgate-test\/busybox:latest is not pinned/m);

    const c = await inspectContainer(f.dockerSocket, name);
    expect(c, 'created container not found at the daemon').toBeDefined();
    expect(c!.Id).toBe(created.stdout.trim());
    expect(c!.Config.Labels).toEqual({ 'sec.app': 'web', 'dockgate.test': '1' });
    expect(c!.HostConfig.Privileged).toBe(false);

    const started = await docker(['start', name]);
    expect(started.code, describeResult(started)).toBe(0);
    const waited = await docker(['wait', name]);
    expect(waited.code, describeResult(waited)).toBe(0);
    expect(waited.stdout.trim()).toBe('3');
    const logs = await docker(['logs', name]);
    expect(logs.stdout).toBe('hello-from-42\n');
  });

  test('a label the client already set is left alone (no patch, no label warning)', async () => {
    const f = env();
    const name = f.name('labelled');
    const created = await docker(['create', '--name', name, '--label', 'dockgate.test=0', f.testImage, 'true']);
    expect(created.code, describeResult(created)).toBe(0);
    expect(created.stderr).not.toContain('added by rule test-label');
    const c = await inspectContainer(f.dockerSocket, name);
    expect(c!.Config.Labels).toEqual({ 'dockgate.test': '0' });
  });

  // `docker create`, not `run --rm`: a run that got through but failed to start would be removed
  // again by --rm, and the daemon check would see nothing.
  test('docker create --privileged: refused with the policy message, nothing at the daemon', async () => {
    const f = env();
    const before = await f.snapshot();
    const name = f.name('priv');
    const r = await docker(['create', '--privileged', '--name', name, f.testImage, 'id']);
    await expectNothingCreated(f.dockerSocket, before, describeResult(r));
    expect(r.code, describeResult(r)).not.toBe(0);
    expect(r.stderr).toContain('dockgate: no-privileged: privileged containers are not allowed');
  });

  test.each([
    ['-v /:/host', () => ['-v', '/:/host']],
    ['-v /etc:/x:ro', () => ['-v', '/etc:/x:ro']],
    ['--mount type=bind', () => ['--mount', 'type=bind,source=/etc,target=/x']],
    [
      '--mount type=volume with bind volume-opts',
      (prefix: string) => ['--mount', `type=volume,source=${prefix}-inline,target=/x,volume-driver=local,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=/etc`],
    ],
  ])('docker create %s: refused with the policy message, nothing at the daemon', async (_, flags) => {
    const f = env();
    const before = await f.snapshot();
    const r = await docker(['create', '--name', f.name('bind'), ...flags(f.prefix), f.testImage, 'true']);
    await expectNothingCreated(f.dockerSocket, before, describeResult(r));
    expect(r.code, describeResult(r)).not.toBe(0);
    expect(r.stderr).toContain('dockgate: no-host-binds:');
  });

  test('docker volume create with bind options: refused, no such volume', async () => {
    const f = env();
    const volume = `${f.prefix}-bindvol`;
    const r = await docker(['volume', 'create', '--driver', 'local', '--opt', 'type=none', '--opt', 'o=bind', '--opt', 'device=/etc', volume]);
    expect(await inspectVolume(f.dockerSocket, volume), describeResult(r)).toBeUndefined();
    expect(r.code, describeResult(r)).not.toBe(0);
    expect(r.stderr).toContain('dockgate: no-host-volumes:');
  });

  test('docker exec --privileged: refused with the policy message, the command never ran', async () => {
    const f = env();
    const name = f.name('exec');
    const id = await createAtDaemon(f.dockerSocket, name, { Image: f.testImage, Cmd: ['sleep', '600'] }, true);
    const since = Date.now();
    const r = await docker(['exec', '--privileged', name, 'sh', '-c', 'touch /tmp/privileged-exec-ran']);
    // A finished (or failed) exec leaves the container's ExecIDs: the daemon's event log and the
    // marker file (archive HEAD: 404 when the path does not exist) are the evidence.
    const execEvents = (await containerEventsSince(f.dockerSocket, id, since)).filter((e) => e.Action.startsWith('exec_'));
    expect(execEvents.map((e) => e.Action), describeResult(r)).toEqual([]);
    const marker = await engineRequest(f.dockerSocket, 'HEAD', `/containers/${id}/archive?path=/tmp/privileged-exec-ran`);
    expect(marker.status, describeResult(r)).toBe(404);
    expect(r.code, describeResult(r)).not.toBe(0);
    expect(r.stderr, describeResult(r)).toContain('dockgate: no-privileged-exec:');
  });
});
