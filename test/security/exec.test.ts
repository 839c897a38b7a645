import { describe, expect, test } from 'vitest';
import { createAtDaemon, inspectContainer, inspectExec } from '../support/daemon-state.js';
import { describeExchange, jsonPost } from '../support/raw-http.js';
import { expectDockgateRefusal, useGuardedDockgate } from '../support/security.js';

// THREATS.md "Other endpoints with the same power": POST /containers/{id}/exec with
// Privileged: true gives a privileged process in an unprivileged container. Each attempt goes
// through dockgate; the container's exec instances are then inspected at the daemon.

const env = useGuardedDockgate('exec');

/** A running container created directly at the daemon: one per test, so a failure does not leak into the next. */
async function startTarget(): Promise<{ id: string; name: string }> {
  const f = env();
  const name = f.name('target');
  const id = await createAtDaemon(f.dockerSocket, name, { Image: f.testImage, Cmd: ['sleep', '600'] }, true);
  return { id, name };
}

/** The container's exec instances at the daemon, with their privileged flag. */
async function execsAtDaemon(containerId: string): Promise<{ id: string; privileged: boolean; args: string[] }[]> {
  const f = env();
  const c = await inspectContainer(f.dockerSocket, containerId);
  expect(c, 'target container vanished at the daemon').toBeDefined();
  const out = [];
  for (const id of c!.ExecIDs ?? []) {
    const e = await inspectExec(f.dockerSocket, id);
    if (e) out.push({ id, privileged: e.ProcessConfig.privileged, args: [e.ProcessConfig.entrypoint, ...(e.ProcessConfig.arguments ?? [])] });
  }
  return out;
}

const ATTEMPTS: [string, (t: { id: string; name: string }) => { path: string; body: string }][] = [
  ['by id', (t) => ({ path: `/v1.41/containers/${t.id}/exec`, body: '{"Cmd":["id"],"Privileged":true}' })],
  ['by name, no version prefix', (t) => ({ path: `/containers/${t.name}/exec`, body: '{"Cmd":["id"],"Privileged":true}' })],
  ['lower-case keys', (t) => ({ path: `/v1.41/containers/${t.id}/exec`, body: '{"cmd":["id"],"privileged":true}' })],
  ['escaped key', (t) => ({ path: `/v1.41/containers/${t.id}/exec`, body: '{"Cmd":["id"],"\\u0050rivileged":true}' })],
  ['with User root and a TTY', (t) => ({ path: `/v1.41/containers/${t.name}/exec`, body: '{"Cmd":["sh"],"Privileged":true,"User":"0","Tty":true,"AttachStdin":true}' })],
  ['percent-encoded route', (t) => ({ path: `/v1.41/containers/${t.id}%2Fexec`, body: '{"Cmd":["id"],"Privileged":true}' })],
];

describe('exec create', () => {
  test.each(ATTEMPTS)('Privileged exec (%s): denied (403), no exec instance at the daemon', async (_, make) => {
    const f = env();
    const target = await startTarget();
    const { path, body } = make(target);
    const req = jsonPost(path, body);
    const x = await f.send(req);
    const detail = describeExchange(req, x);
    const execs = await execsAtDaemon(target.id);
    expect(execs.filter((e) => e.privileged), detail).toEqual([]);
    expect(execs, detail).toEqual([]);
    expectDockgateRefusal(req, x, [403]);
  });

  test('duplicate Privileged keys in an exec body: refused (400), no exec instance', async () => {
    const f = env();
    const target = await startTarget();
    const req = jsonPost(`/v1.41/containers/${target.id}/exec`, '{"Cmd":["id"],"Privileged":false,"privileged":true}');
    const x = await f.send(req);
    const detail = describeExchange(req, x);
    expect(await execsAtDaemon(target.id), detail).toEqual([]);
    expectDockgateRefusal(req, x, [400]);
  });

  // Control: an ordinary exec goes through and is visible at the daemon, so the checks above
  // would have seen an exec instance had one been created.
  test('control: an unprivileged exec is created and is not privileged at the daemon', async () => {
    const f = env();
    const target = await startTarget();
    const req = jsonPost(`/v1.41/containers/${target.id}/exec`, '{"Cmd":["echo","control"]}');
    const x = await f.send(req);
    expect(x.responses[0]?.status, describeExchange(req, x)).toBe(201);
    const id = x.responses[0]!.json<{ Id: string }>().Id;
    const execs = await execsAtDaemon(target.id);
    expect(execs).toEqual([{ id, privileged: false, args: ['echo', 'control'] }]);
  });
});
