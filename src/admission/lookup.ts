import type { Upstream } from '../upstream/client.js';

export class LookupError extends Error {}

/** What lookups need of the daemon: the proxy's Upstream, or `dockgate eval`'s offline answers. */
export type InspectClient = Pick<Upstream, 'getJson'>;

// Where the daemon describes an existing object of each kind (its inspect endpoint).
const INSPECT_PATHS: Record<string, (target: string) => string> = {
  container: (t) => `/containers/${encodeURIComponent(t)}/json`,
  exec: (t) => `/exec/${encodeURIComponent(t)}/json`,
  image: (t) => `/images/${encodePathKeepSlash(t)}/json`,
  volume: (t) => `/volumes/${encodeURIComponent(t)}`,
  network: (t) => `/networks/${encodeURIComponent(t)}`,
  service: (t) => `/services/${encodeURIComponent(t)}`,
  secret: (t) => `/secrets/${encodeURIComponent(t)}`,
  config: (t) => `/configs/${encodeURIComponent(t)}`,
  node: (t) => `/nodes/${encodeURIComponent(t)}`,
  task: (t) => `/tasks/${encodeURIComponent(t)}`,
  plugin: (t) => `/plugins/${encodePathKeepSlash(t)}/json`,
};

// Image and plugin references contain slashes that dockerd's `{name:.*}` routes expect as is.
function encodePathKeepSlash(t: string): string {
  return t.split('/').map(encodeURIComponent).join('/');
}

/** The unversioned inspect path of an object, e.g. `/volumes/data`; undefined if it has none. */
export function inspectPath(kind: string, target: string): string | undefined {
  return Object.hasOwn(INSPECT_PATHS, kind) ? INSPECT_PATHS[kind]!(target) : undefined;
}

export function canLookUp(kind: string): boolean {
  return Object.hasOwn(INSPECT_PATHS, kind);
}

/**
 * The daemon's current view of an object (the policy's `oldObject`). A missing object is `null`:
 * the daemon itself will answer the request with its 404. Anything else that goes wrong throws,
 * and the caller denies.
 */
export async function lookUp(upstream: InspectClient, kind: string, target: string, apiVersion: string | null): Promise<unknown> {
  const pathFor = INSPECT_PATHS[kind];
  if (!pathFor) throw new LookupError(`no way to look up a ${kind}`);
  const path = (apiVersion ? `/v${apiVersion}` : '') + pathFor(target);
  let answer: { status: number; body: unknown };
  try {
    answer = await upstream.getJson(path);
  } catch (err) {
    throw new LookupError(`cannot look up ${kind} "${target}": ${(err as Error).message}`);
  }
  if (answer.status === 200) return answer.body;
  if (answer.status === 404) return null;
  const message = (answer.body as { message?: unknown } | null)?.message;
  throw new LookupError(`cannot look up ${kind} "${target}": the daemon answered ${answer.status}${typeof message === 'string' ? `: ${message}` : ''}`);
}
