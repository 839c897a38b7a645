import { expect } from 'vitest';
import { engineRequest } from './engine-api.js';

// What the daemon really holds, asked directly on its own socket (never through dockgate): the
// security tests' proof that an attack sent through dockgate left nothing dangerous behind.

export interface MountPoint {
  Type: string;
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean };
  Config: { Labels: Record<string, string> | null; Image: string };
  HostConfig: {
    Privileged: boolean;
    Binds: string[] | null;
    Mounts: { Type: string; Source?: string; Target: string }[] | null;
    VolumesFrom: string[] | null;
    CapAdd: string[] | null;
    NetworkMode: string;
    OomKillDisable: boolean | null;
    Memory: number;
  };
  Mounts: MountPoint[];
  ExecIDs: string[] | null;
}

export interface VolumeInspect {
  Name: string;
  Driver: string;
  Options: Record<string, string> | null;
  Labels: Record<string, string> | null;
}

export interface ExecInspect {
  ID: string;
  ContainerID: string;
  ProcessConfig: { privileged: boolean; user: string; entrypoint: string; arguments: string[] };
}

/** The ids of all containers and names of all volumes the daemon holds right now. */
export interface DaemonSnapshot {
  containers: Set<string>;
  volumes: Set<string>;
}

async function getJson<T>(socket: string, path: string): Promise<{ status: number; body: T | undefined; text: string }> {
  const res = await engineRequest(socket, 'GET', path);
  return { status: res.status, body: res.status === 200 ? res.json<T>() : undefined, text: res.text() };
}

export async function containerIds(socket: string): Promise<Set<string>> {
  const r = await getJson<{ Id: string }[]>(socket, '/containers/json?all=1');
  if (r.status !== 200) throw new Error(`list containers at the daemon: ${r.status} ${r.text}`);
  return new Set(r.body!.map((c) => c.Id));
}

export async function volumeNames(socket: string): Promise<Set<string>> {
  const r = await getJson<{ Volumes: { Name: string }[] | null }>(socket, '/volumes');
  if (r.status !== 200) throw new Error(`list volumes at the daemon: ${r.status} ${r.text}`);
  return new Set((r.body!.Volumes ?? []).map((v) => v.Name));
}

export async function snapshot(socket: string): Promise<DaemonSnapshot> {
  return { containers: await containerIds(socket), volumes: await volumeNames(socket) };
}

/** The container's inspect document, and its raw JSON text (exact integers); undefined when absent. */
export async function inspectContainer(socket: string, idOrName: string): Promise<(ContainerInspect & { raw: string }) | undefined> {
  const r = await getJson<ContainerInspect>(socket, `/containers/${encodeURIComponent(idOrName)}/json`);
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new Error(`inspect container ${idOrName} at the daemon: ${r.status} ${r.text}`);
  return { ...r.body!, raw: r.text };
}

export async function inspectVolume(socket: string, name: string): Promise<VolumeInspect | undefined> {
  const r = await getJson<VolumeInspect>(socket, `/volumes/${encodeURIComponent(name)}`);
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new Error(`inspect volume ${name} at the daemon: ${r.status} ${r.text}`);
  return r.body;
}

export async function inspectExec(socket: string, id: string): Promise<ExecInspect | undefined> {
  const r = await getJson<ExecInspect>(socket, `/exec/${encodeURIComponent(id)}/json`);
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new Error(`inspect exec ${id} at the daemon: ${r.status} ${r.text}`);
  return r.body;
}

/** A local-driver volume whose options mount a host path or device (type=none, o=bind, device=/…). */
export function volumeExposesHost(v: VolumeInspect): boolean {
  if (v.Driver !== 'local') return false;
  const opts = v.Options ?? {};
  return Object.entries(opts).some(([k, value]) => {
    const key = k.toLowerCase();
    return (
      (key === 'type' && value.toLowerCase() === 'none') ||
      (key === 'o' && value.split(',').some((o) => ['bind', 'rbind'].includes(o.trim().toLowerCase()))) ||
      (key === 'device' && value.startsWith('/'))
    );
  });
}

/** Every way the container reaches the host that the test policy is meant to stop. */
export async function hostAccess(socket: string, c: ContainerInspect): Promise<string[]> {
  const found: string[] = [];
  const hc = c.HostConfig;
  if (hc.Privileged) found.push('HostConfig.Privileged=true');
  // "src:dst[:opts]" with a path source; a lone "/dst" is an anonymous volume.
  for (const b of hc.Binds ?? []) if (b.includes(':') && b.startsWith('/')) found.push(`HostConfig.Binds ${b}`);
  for (const m of hc.Mounts ?? []) if (m.Type === 'bind') found.push(`HostConfig.Mounts bind ${m.Source} -> ${m.Target}`);
  if ((hc.VolumesFrom ?? []).length > 0) found.push(`HostConfig.VolumesFrom ${hc.VolumesFrom!.join(',')}`);
  // The effective mounts: a bind inherited (VolumesFrom) or a volume that is a host path in disguise.
  for (const m of c.Mounts ?? []) {
    if (m.Type === 'bind') found.push(`mount bind ${m.Source} -> ${m.Destination}`);
    if (m.Type === 'volume' && m.Name) {
      const v = await inspectVolume(socket, m.Name);
      if (v && volumeExposesHost(v)) found.push(`mount of volume ${m.Name} with options ${JSON.stringify(v.Options)} -> ${m.Destination}`);
    }
  }
  for (const id of c.ExecIDs ?? []) {
    const e = await inspectExec(socket, id);
    if (e?.ProcessConfig.privileged) found.push(`privileged exec ${id}`);
  }
  return found;
}

/** One line per container: name and what it can reach on the host. */
async function describeContainers(socket: string, ids: string[]): Promise<string> {
  const lines: string[] = [];
  for (const id of ids) {
    const c = await inspectContainer(socket, id);
    if (!c) continue;
    const access = await hostAccess(socket, c);
    lines.push(`${c.Name} (${id.slice(0, 12)}): ${access.length > 0 ? access.join('; ') : 'no host access'}`);
  }
  return lines.join('\n');
}

/** Objects created since `before`. */
export async function createdSince(socket: string, before: DaemonSnapshot): Promise<{ containers: string[]; volumes: string[] }> {
  const now = await snapshot(socket);
  return {
    containers: [...now.containers].filter((id) => !before.containers.has(id)),
    volumes: [...now.volumes].filter((n) => !before.volumes.has(n)),
  };
}

/**
 * The daemon holds no container and no volume that was not there at `before`: the refused
 * request did not reach it in any form.
 */
export async function expectNothingCreated(socket: string, before: DaemonSnapshot, context = ''): Promise<void> {
  const created = await createdSince(socket, before);
  const detail = `${context}\nnew at the daemon:\n${await describeContainers(socket, created.containers)}\nvolumes: ${created.volumes.join(', ')}`;
  expect(created.containers, detail).toEqual([]);
  expect(created.volumes, detail).toEqual([]);
}

/** Containers and volumes created since `before` (if any) give no host access. */
export async function expectNoHostAccessSince(socket: string, before: DaemonSnapshot, context = ''): Promise<void> {
  const created = await createdSince(socket, before);
  const findings: string[] = [];
  for (const id of created.containers) {
    const c = await inspectContainer(socket, id);
    if (c) for (const f of await hostAccess(socket, c)) findings.push(`${c.Name}: ${f}`);
  }
  for (const name of created.volumes) {
    const v = await inspectVolume(socket, name);
    if (v && volumeExposesHost(v)) findings.push(`volume ${name}: options ${JSON.stringify(v.Options)}`);
  }
  expect(findings, context).toEqual([]);
}

/** Force-removes containers whose name starts with `prefix`, then volumes whose name does. */
export async function removeByPrefix(socket: string, prefix: string): Promise<void> {
  const q = encodeURIComponent(JSON.stringify({ name: [`^/${prefix}`] }));
  const list = await engineRequest(socket, 'GET', `/containers/json?all=1&filters=${q}`);
  for (const c of list.json<{ Id: string }[]>()) {
    await engineRequest(socket, 'DELETE', `/containers/${c.Id}?force=1&v=1`);
  }
  for (const name of await volumeNames(socket)) {
    if (name.startsWith(prefix)) await engineRequest(socket, 'DELETE', `/volumes/${encodeURIComponent(name)}?force=1`);
  }
}

/** Creates (and optionally starts) a container directly at the daemon, for tests that need a target. */
export async function createAtDaemon(socket: string, name: string, body: Record<string, unknown>, start = false): Promise<string> {
  const res = await engineRequest(socket, 'POST', `/containers/create?name=${encodeURIComponent(name)}`, { body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`create ${name} at the daemon: ${res.status} ${res.text()}`);
  const id = res.json<{ Id: string }>().Id;
  if (start) {
    const s = await engineRequest(socket, 'POST', `/containers/${id}/start`);
    if (s.status !== 204) throw new Error(`start ${name} at the daemon: ${s.status} ${s.text()}`);
  }
  return id;
}

interface DaemonEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
}

/**
 * The daemon's events about one container from `sinceMs` until now (its in-memory event log):
 * e.g. `exec_create: sh -c …` and `exec_start: …`, which stay on record after an exec has ended
 * and left the container's ExecIDs.
 */
export async function containerEventsSince(socket: string, containerId: string, sinceMs: number): Promise<DaemonEvent[]> {
  const filters = encodeURIComponent(JSON.stringify({ type: ['container'], container: [containerId] }));
  const since = Math.floor(sinceMs / 1000) - 1;
  const until = Math.ceil(Date.now() / 1000) + 1;
  const res = await engineRequest(socket, 'GET', `/events?since=${since}&until=${until}&filters=${filters}`);
  if (res.status !== 200) throw new Error(`events at the daemon: ${res.status} ${res.text()}`);
  return res
    .text()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as DaemonEvent);
}
