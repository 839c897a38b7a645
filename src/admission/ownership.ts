import type { ClassifiedRoute } from '../http/classify.js';
import { firstValue } from '../http/query.js';
import type { JsonObject, JsonValue, PolicyInput } from '../policy/contract.js';
import type { Transform } from 'node:stream';
import { ownEventsFilter } from './event-filter.js';
import { FilterError, parseJsonObjectParam, withLabelFilter } from './filters.js';
import { lookUp, type InspectClient } from './lookup.js';
import { isObject } from './related.js';
import { replaceQueryParam } from './query-rewrite.js';

// Ownership (tenant listeners): every object carries its creator in the owner label (stamped by
// the policy's owner-label mutation), and a tenant sees and touches only its own. Someone else's
// object answers exactly like a missing one, so a tenant cannot even learn that it exists; only
// a create that would take a name someone else uses gets a conflict, since the daemon would
// otherwise hand the existing object over (volumes) or fail obscurely.

export interface Refusal {
  status: number;
  message: string;
}

export interface OwnershipOptions {
  /** Where lookups ask (the daemon). */
  upstream: InspectClient;
  /** The owner label's key. */
  label: string;
  /** The caller (the listener's identity). */
  owner: string;
}

type Kind = 'container' | 'exec' | 'volume' | 'network' | 'image';

// The daemon's own 404 messages, so a hidden object is indistinguishable from a missing one.
const NOT_FOUND: Record<Kind, (ref: string) => string> = {
  container: (ref) => `No such container: ${ref}`,
  exec: (ref) => `No such exec instance: ${ref}`,
  volume: (ref) => `get ${ref}: no such volume`,
  network: (ref) => `network ${ref} not found`,
  image: (ref) => `No such image: ${ref}`,
};

// Operations whose daemon message differs from the kind's plain one.
const BY_OPERATION: Record<string, (ref: string) => string> = {
  'container:kill': (ref) => `Cannot kill container: ${ref}: No such container: ${ref}`,
  'image:inspect': (ref) => `no such image: ${ref}: No such image: ${ref}`,
  'image:get': () => 'reference does not exist',
};

export function notFound(kind: Kind, ref: string, operation = ''): Refusal {
  const message = BY_OPERATION[`${kind}:${operation}`]?.(ref) ?? NOT_FOUND[kind](ref);
  return { status: 404, message };
}

// A create that refers to a missing object is a bad request to the daemon (400, same message);
// a 404 there would make the docker CLI believe the image is missing and try to pull it.
function badReference(kind: Kind, ref: string): Refusal {
  return { status: 400, message: NOT_FOUND[kind](ref) };
}

/**
 * The first refusal of checks that run at once (independent daemon lookups), in the order given:
 * the same answer as running them one after another, in one round trip's time.
 */
async function firstRefusal(checks: (Promise<Refusal | null> | null)[]): Promise<Refusal | null> {
  try {
    for (const check of checks) {
      const refusal = await check;
      if (refusal) return refusal;
    }
    return null;
  } finally {
    // Checks after the deciding one are not awaited: their failures are not unhandled rejections.
    for (const check of checks) void check?.catch(() => undefined);
  }
}

// Where each kind's inspect result keeps its labels.
const LABELS_AT: Record<Kind, string[]> = {
  container: ['Config', 'Labels'],
  exec: [],
  volume: ['Labels'],
  network: ['Labels'],
  image: ['Config', 'Labels'],
};

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** The owner label's value on an inspect result ('' when unlabelled). */
export function ownerOf(kind: Kind, inspected: unknown, label: string): string {
  let labels: unknown = inspected;
  for (const key of LABELS_AT[kind]) labels = isObject(labels) ? labels[key] : undefined;
  return isObject(labels) ? str(labels[label]) : '';
}

// Operations that create or enumerate rather than act on an existing object of the route's kind.
const NOT_ON_EXISTING = new Set(['create', 'list', 'prune', 'commit']);

// List and prune routes the daemon filters by label; events too (containers and images carry
// their labels in event attributes; events without them are filtered out, which fails closed).
const LABEL_FILTERED = new Set([
  'container:list', 'container:prune', 'volume:list', 'volume:prune', 'network:list', 'network:prune',
  'image:list', 'image:prune', 'system:events',
]);

// Networks every daemon has and every tenant may use (host is the policy's business).
const SHARED_NETWORKS = new Set(['default', 'bridge', 'none', 'host', '']);

// Container modes that may name another container as `container:<ref>`.
const CONTAINER_MODES = ['NetworkMode', 'PidMode', 'IpcMode'];

export class Ownership {
  constructor(private readonly opts: OwnershipOptions) {}

  private mine(kind: Kind, inspected: unknown): boolean {
    // An empty owner would own every unlabelled object.
    return this.opts.owner !== '' && ownerOf(kind, inspected, this.opts.label) === this.opts.owner;
  }

  private lookUp(kind: Kind, ref: string, route: ClassifiedRoute): Promise<unknown> {
    return lookUp(this.opts.upstream, kind, ref, route.apiVersion);
  }

  /**
   * The rewritten raw query for list, prune and event routes (the owner label filter replacing
   * the caller's `filters`) and for builds (the owner label added to the image's `labels`);
   * undefined when the route needs none. Throws FilterError for filters dockerd would refuse.
   */
  scopedQuery(route: ClassifiedRoute): string | undefined {
    const key = `${route.kind}:${route.operation}`;
    if (LABEL_FILTERED.has(key)) {
      const filters = withLabelFilter(firstValue(route.query, 'filters'), this.opts.label, this.opts.owner);
      return replaceQueryParam(route.rawQuery, 'filters', filters);
    }
    if (key === 'build:build') {
      const labels = parseLabels(firstValue(route.query, 'labels'));
      labels[this.opts.label] = this.opts.owner;
      return replaceQueryParam(route.rawQuery, 'labels', JSON.stringify(labels));
    }
    return undefined;
  }

  /**
   * Judges a request against ownership, after the gate's lookups (input.oldObject, input.volumes)
   * and before the policy. Fills input.containers with the caller's own referenced containers.
   * Returns the refusal, or null to go on. Lookup failures throw (the gate denies).
   */
  async check(route: ClassifiedRoute, input: PolicyInput, object: JsonValue | undefined): Promise<Refusal | null> {
    const { kind, operation, target } = route;
    if (kind === 'build' && operation === 'prune') {
      return {
        status: 403,
        message:
          'dockgate: the build cache has no owners, so it cannot be pruned per tenant; `builder prune` is not available on this socket (ownership)',
      };
    }
    if (kind === 'image' && operation === 'get' && target === undefined) {
      // `docker save a b`: GET /images/get?names=a&names=b
      for (const name of route.query.names ?? []) {
        const refusal = await this.checkImage(name, await this.lookUp('image', name, route), operation);
        if (refusal) return refusal;
      }
      return null;
    }
    if (kind === 'container' && operation === 'commit') {
      return this.checkExisting('container', firstValue(route.query, 'container') ?? '', route);
    }
    if (target !== undefined && !NOT_ON_EXISTING.has(operation)) {
      if (kind === 'exec') return this.checkExec(target, input.oldObject, route);
      if (kind === 'image') return this.checkImage(target, input.oldObject ?? null, operation);
      if (kind === 'container' || kind === 'volume' || kind === 'network') {
        // A missing target is answered here with the daemon's own 404, like someone else's: sent
        // on, the reference could meet another tenant's object created in the meantime.
        if (input.oldObject === undefined || !this.mine(kind, input.oldObject)) return notFound(kind, target, operation);
        if (kind === 'network' && (operation === 'connect' || operation === 'disconnect') && isObject(object)) {
          const container = str(object.Container);
          if (container !== '') return this.checkExisting('container', container, route);
        }
      }
      return null;
    }
    if (operation === 'create') {
      if (kind === 'container') return this.checkContainerCreate(route, input, object);
      if (kind === 'volume' || kind === 'network') {
        return this.checkName(kind, isObject(object) ? str(object.Name) : '', route);
      }
    }
    return null;
  }

  // Images: pulled ones carry no owner and are shared; built ones are their builder's.
  private checkImage(ref: string, inspected: unknown, operation: string): Refusal | null {
    const owner = inspected === null ? '' : ownerOf('image', inspected, this.opts.label);
    return owner !== '' && owner !== this.opts.owner ? notFound('image', ref, operation) : null;
  }

  /** A reference to an existing object: someone else's is "not found"; a missing one goes on. */
  private async checkExisting(
    kind: 'container' | 'network',
    ref: string,
    route: ClassifiedRoute,
    refuse: (kind: Kind, ref: string) => Refusal = notFound,
  ): Promise<Refusal | null> {
    if (ref === '') return null;
    const found = await this.lookUp(kind, ref, route);
    if (found !== null && !this.mine(kind, found)) return refuse(kind, ref);
    return null;
  }

  // Execs have no labels: they belong to whoever owns their container.
  private async checkExec(id: string, exec: JsonValue | undefined, route: ClassifiedRoute): Promise<Refusal | null> {
    if (exec === undefined) return null;
    const containerId = isObject(exec) ? str(exec.ContainerID) : '';
    const container = containerId === '' ? null : await this.lookUp('container', containerId, route);
    if (container === null || !this.mine('container', container)) return notFound('exec', id);
    return null;
  }

  /** A create naming an object that exists and is someone else's: a conflict, never access. */
  private async checkName(kind: 'container' | 'volume' | 'network', name: string, route: ClassifiedRoute): Promise<Refusal | null> {
    const bare = kind === 'container' ? name.replace(/^\//, '') : name;
    if (bare === '') return null;
    const found = await this.lookUp(kind, bare, route);
    // Lookups also match id prefixes; only the same name conflicts.
    if (found === null || !isObject(found) || str(found.Name).replace(/^\//, '') !== bare) return null;
    if (this.mine(kind, found)) return null;
    return conflict(kind, bare);
  }

  private async checkContainerCreate(route: ClassifiedRoute, input: PolicyInput, object: JsonValue | undefined): Promise<Refusal | null> {
    const hostConfig = isObject(object) && isObject(object.HostConfig) ? object.HostConfig : {};
    // Containers whose volumes or namespaces this one would share: must be the caller's.
    const refs = new Set<string>();
    if (Array.isArray(hostConfig.VolumesFrom)) {
      for (const entry of hostConfig.VolumesFrom) if (typeof entry === 'string') refs.add(entry.split(':', 1)[0]!);
    }
    for (const field of CONTAINER_MODES) {
      const mode = str(hostConfig[field]).trim();
      if (mode.toLowerCase().startsWith('container:')) refs.add(mode.slice('container:'.length));
    }
    refs.delete('');
    // Networks it would join: the caller's own, or the daemon's shared ones.
    const networks = new Set<string>();
    const mode = str(hostConfig.NetworkMode).trim();
    if (!mode.toLowerCase().startsWith('container:')) networks.add(mode);
    const endpoints = isObject(object) && isObject(object.NetworkingConfig) ? object.NetworkingConfig.EndpointsConfig : undefined;
    if (isObject(endpoints)) for (const name of Object.keys(endpoints)) networks.add(name);
    for (const name of SHARED_NETWORKS) networks.delete(name);

    const containers: Record<string, JsonValue> = {};
    // An image someone else built: missing, as the daemon says it (the CLI then tries a pull).
    const image = isObject(object) ? str(object.Image) : '';
    const refusal = await firstRefusal([
      this.checkName('container', firstValue(route.query, 'name') ?? '', route),
      image === '' ? null : this.lookUp('image', image, route).then((found) => this.checkImage(image, found, 'create')),
      // Named volumes were looked up with the other inputs of the policy.
      Promise.resolve(this.volumeConflict(input.volumes)),
      ...[...refs].map(async (ref) => {
        const found = await this.lookUp('container', ref, route);
        if (found === null || !this.mine('container', found)) return badReference('container', ref);
        containers[ref] = found as JsonValue;
        return null;
      }),
      ...[...networks].map((name) => this.checkExisting('network', name, route, badReference)),
    ]);
    if (refusal) return refusal;
    if (Object.keys(containers).length > 0) input.containers = containers;
    return null;
  }

  private volumeConflict(volumes: PolicyInput['volumes']): Refusal | null {
    for (const [name, volume] of Object.entries(volumes ?? {})) {
      if (volume !== null && !this.mine('volume', volume)) return conflict('volume', name);
    }
    return null;
  }

  /** Why a created object lacks the owner stamp (the policy must set it), or null when it has it. */
  stampProblem(route: ClassifiedRoute, object: JsonValue | undefined): string | null {
    if (route.operation !== 'create' || !['container', 'volume', 'network'].includes(route.kind)) return null;
    const labels = isObject(object) ? object.Labels : undefined;
    if (isObject(labels) && labels[this.opts.label] === this.opts.owner) return null;
    return `dockgate: request refused: this socket keeps objects per owner, but the policy did not set the owner label ${this.opts.label}=${this.opts.owner} (rule owner-label must be on)`;
  }

  /** The stream filter of the events route: only messages carrying the caller's label. */
  streamFilter(route: ClassifiedRoute): (() => Transform) | undefined {
    if (route.kind !== 'system' || route.operation !== 'events') return undefined;
    return () => ownEventsFilter(this.opts.label, this.opts.owner);
  }

  /** A response filter for routes the daemon cannot filter by label (system df). */
  responseFilter(route: ClassifiedRoute): ((status: number, body: unknown) => unknown) | undefined {
    if (route.kind !== 'system' || route.operation !== 'df') return undefined;
    return (status, body) => (status === 200 ? this.ownDiskUsage(body) : body);
  }

  // system df lists every container, image, volume and build cache record: keep the caller's.
  private ownDiskUsage(body: unknown): unknown {
    if (!isObject(body)) return body;
    const own = (list: JsonValue | undefined, labels: (item: JsonObject) => JsonValue | undefined) =>
      Array.isArray(list)
        ? list.filter((item) => isObject(item) && isObject(labels(item)) && (labels(item) as JsonObject)[this.opts.label] === this.opts.owner)
        : list;
    const out: JsonObject = { ...body };
    if ('Containers' in body) out.Containers = own(body.Containers, (c) => c.Labels) ?? null;
    if ('Images' in body) out.Images = own(body.Images, (i) => i.Labels) ?? null;
    if ('Volumes' in body) out.Volumes = own(body.Volumes, (v) => v.Labels) ?? null;
    // Build cache records have no owner: none is shown.
    if ('BuildCache' in body) out.BuildCache = Array.isArray(body.BuildCache) ? [] : body.BuildCache ?? null;
    return out;
  }
}

function conflict(kind: 'container' | 'volume' | 'network', name: string): Refusal {
  return {
    status: 409,
    message: `dockgate: conflict: the ${kind} name "${name}" is already in use by another owner; choose another name (or, for compose, another project name)`,
  };
}

// The `labels` of a build: a JSON object of strings (dockerd refuses anything else).
function parseLabels(text: string | undefined): Record<string, string> {
  const labels = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(parseJsonObjectParam(text, 'labels'))) {
    if (typeof v !== 'string') throw new FilterError(`invalid labels: "${k}" must be a string`);
    labels[k] = v;
  }
  return labels;
}
