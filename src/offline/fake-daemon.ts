// The daemon side of `dockgate eval`'s capture: an empty, in-memory Docker daemon that answers a
// real client (docker CLI, docker-compose, SDKs) plausibly enough for it to send everything it
// would send to create its objects. It runs nothing: containers are records, starts succeed,
// waits return 0, attaches end at once, pulls report success, every image "exists".
import { createHash, randomBytes } from 'node:crypto';
import type { JsonObject, JsonValue } from '../policy/contract.js';

export interface FakeAnswer {
  status: number;
  /** JSON body; undefined = no body. */
  json?: JsonValue;
  /** Raw body instead of JSON (ping, progress streams). */
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

interface Container {
  Id: string;
  Name: string;
  Created: string;
  body: JsonObject;
}

const isObject = (v: JsonValue | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const newId = (): string => randomBytes(32).toString('hex');
const notFound = (what: string): FakeAnswer => ({ status: 404, json: { message: `No such ${what}` } });
const created = (): string => new Date().toISOString();

// Docker's `filters` query: {"label": ["a=b"] | {"a=b": true}, "name": […]}.
function parseFilters(raw: string | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!raw) return out;
  try {
    const doc = JSON.parse(raw) as Record<string, unknown>;
    for (const [k, v] of Object.entries(doc)) out.set(k, Array.isArray(v) ? v.map(String) : Object.keys(v as object));
  } catch {
    /* an unparsable filter matches everything, like no filter */
  }
  return out;
}

function labelsMatch(labels: JsonValue | undefined, wanted: string[] | undefined): boolean {
  const have = isObject(labels) ? labels : {};
  return (wanted ?? []).every((w) => {
    const eq = w.indexOf('=');
    return eq < 0 ? Object.hasOwn(have, w) : have[w.slice(0, eq)] === w.slice(eq + 1);
  });
}

export class FakeDaemon {
  private readonly containers = new Map<string, Container>();
  private readonly networks = new Map<string, JsonObject>();
  private readonly volumes = new Map<string, JsonObject>();

  constructor(readonly apiVersion: string) {
    for (const [name, driver] of [['bridge', 'bridge'], ['host', 'host'], ['none', 'null']] as const) {
      const Id = createHash('sha256').update(name).digest('hex');
      this.networks.set(Id, { Id, Name: name, Driver: driver, Scope: 'local', Labels: {}, Options: {}, Containers: {}, IPAM: { Driver: 'default', Config: [] }, Internal: false, Attachable: false });
    }
  }

  /** Answers one request (version prefix already removed); body = the JSON body, if any. */
  handle(method: string, path: string, query: URLSearchParams, body: JsonValue | undefined): FakeAnswer {
    const parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent);
    const [root, ref, action] = parts;
    if (path === '/_ping') return { status: 200, text: method === 'HEAD' ? '' : 'OK', contentType: 'text/plain; charset=utf-8' };
    if (method === 'GET' && path === '/version') return { status: 200, json: this.version() };
    if (method === 'GET' && path === '/info') return { status: 200, json: this.info() };
    if (method === 'POST' && path === '/build') {
      // The legacy builder's progress stream: the context was judged (by its query), nothing is built.
      const id = `sha256:${newId()}`;
      const lines = [{ stream: 'dockgate eval: nothing was built\n' }, { aux: { ID: id } }, { stream: `Successfully built ${id.slice(7, 19)}\n` }];
      return { status: 200, contentType: 'application/json', text: lines.map((l) => JSON.stringify(l)).join('\n') + '\n' };
    }
    switch (root) {
      case 'containers':
        return this.container(method, ref, action, query, body);
      case 'networks':
        return this.network(method, ref, action, query, body);
      case 'volumes':
        return this.volume(method, ref, query, body);
      case 'images':
        return this.image(method, parts.slice(1), query);
      default:
        return { status: 501, json: { message: `dockgate eval's capture daemon does not implement ${method} ${path}` } };
    }
  }

  private version(): JsonObject {
    return { Version: 'dockgate-eval', ApiVersion: this.apiVersion, MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64', KernelVersion: '', GitCommit: '', GoVersion: '', BuildTime: '' };
  }

  private info(): JsonObject {
    return {
      ID: 'dockgate-eval', Name: 'dockgate-eval', ServerVersion: 'dockgate-eval', OSType: 'linux', OperatingSystem: 'dockgate eval capture',
      Architecture: 'x86_64', NCPU: 1, MemTotal: 1 << 30, Driver: 'overlay2', DockerRootDir: '/var/lib/docker', Containers: this.containers.size,
      Images: 0, Swarm: { LocalNodeState: 'inactive', ControlAvailable: false, NodeID: '', NodeAddr: '' }, DefaultRuntime: 'runc', Runtimes: { runc: { path: 'runc' } },
      CgroupVersion: '2', SecurityOptions: [], Labels: [], Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'] },
    };
  }

  private findContainer(ref: string): Container | undefined {
    return this.containers.get(ref) ?? [...this.containers.values()].find((c) => c.Name === ref.replace(/^\//, '') || c.Id.startsWith(ref));
  }

  private inspectContainer(c: Container): JsonObject {
    const { HostConfig, NetworkingConfig, ...config } = c.body;
    const endpoints = isObject(NetworkingConfig) && isObject(NetworkingConfig.EndpointsConfig) ? NetworkingConfig.EndpointsConfig : {};
    return {
      Id: c.Id, Name: `/${c.Name}`, Created: c.Created, Path: '', Args: [], Image: `sha256:${createHash('sha256').update(String(config.Image)).digest('hex')}`,
      State: { Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 0, ExitCode: 0, Error: '', StartedAt: '', FinishedAt: '' },
      Config: { ...config, Labels: isObject(config.Labels) ? config.Labels : {} }, HostConfig: HostConfig ?? {},
      NetworkSettings: { Networks: endpoints, Ports: {} }, Mounts: [], RestartCount: 0, Driver: 'overlay2', Platform: 'linux',
    };
  }

  private container(method: string, ref: string | undefined, action: string | undefined, query: URLSearchParams, body: JsonValue | undefined): FakeAnswer {
    if (method === 'POST' && ref === 'create') {
      const name = query.get('name') ?? `eval_${randomBytes(4).toString('hex')}`;
      if (this.findContainer(name)) return { status: 409, json: { message: `Conflict. The container name "/${name}" is already in use` } };
      const c: Container = { Id: newId(), Name: name, Created: created(), body: isObject(body) ? body : {} };
      this.containers.set(c.Id, c);
      return { status: 201, json: { Id: c.Id, Warnings: [] } };
    }
    if (method === 'GET' && ref === 'json') {
      const filters = parseFilters(query.get('filters'));
      const list = [...this.containers.values()].filter((c) => labelsMatch(c.body.Labels, filters.get('label')));
      return {
        status: 200,
        json: list.map((c) => ({ Id: c.Id, Names: [`/${c.Name}`], Image: c.body.Image ?? '', Created: 0, State: 'created', Status: 'Created', Labels: isObject(c.body.Labels) ? c.body.Labels : {}, Ports: [], Mounts: [] })),
      };
    }
    const c = ref !== undefined ? this.findContainer(ref) : undefined;
    if (!c) return notFound(`container: ${ref ?? ''}`);
    if (method === 'GET' && action === 'json') return { status: 200, json: this.inspectContainer(c) };
    if (method === 'DELETE' && action === undefined) {
      this.containers.delete(c.Id);
      return { status: 204 };
    }
    if (method === 'POST' && action === 'wait') return { status: 200, json: { StatusCode: 0, Error: null } };
    if (method === 'GET' && action === 'logs') return { status: 200, text: '', contentType: 'application/vnd.docker.raw-stream' };
    if (method === 'POST' && action !== undefined) return { status: action === 'attach' || action === 'resize' ? 200 : 204 };
    return { status: 501, json: { message: `dockgate eval's capture daemon does not implement ${method} /containers/{id}/${action ?? ''}` } };
  }

  private findNetwork(ref: string): JsonObject | undefined {
    return this.networks.get(ref) ?? [...this.networks.values()].find((n) => n.Name === ref || String(n.Id).startsWith(ref));
  }

  private network(method: string, ref: string | undefined, action: string | undefined, query: URLSearchParams, body: JsonValue | undefined): FakeAnswer {
    if (method === 'POST' && ref === 'create') {
      const spec = isObject(body) ? body : {};
      if (typeof spec.Name === 'string' && this.findNetwork(spec.Name)) return { status: 409, json: { message: `network with name ${spec.Name} already exists` } };
      const Id = newId();
      this.networks.set(Id, {
        Id, Name: spec.Name ?? Id, Driver: spec.Driver || 'bridge', Scope: 'local', Labels: spec.Labels ?? {}, Options: spec.Options ?? {},
        IPAM: spec.IPAM ?? { Driver: 'default', Config: [] }, Internal: spec.Internal ?? false, Attachable: spec.Attachable ?? false, EnableIPv6: spec.EnableIPv6 ?? false, Containers: {},
      });
      return { status: 201, json: { Id, Warning: '' } };
    }
    if (method === 'GET' && ref === undefined) {
      const filters = parseFilters(query.get('filters'));
      const names = filters.get('name');
      const list = [...this.networks.values()].filter((n) => labelsMatch(n.Labels, filters.get('label')) && (!names || names.some((x) => String(n.Name).includes(x))));
      return { status: 200, json: list };
    }
    const n = ref !== undefined ? this.findNetwork(ref) : undefined;
    if (!n) return notFound(`network: ${ref ?? ''}`);
    if (method === 'GET' && action === undefined) return { status: 200, json: n };
    if (method === 'DELETE' && action === undefined) {
      this.networks.delete(String(n.Id));
      return { status: 204 };
    }
    if (method === 'POST' && (action === 'connect' || action === 'disconnect')) return { status: 200 };
    return { status: 501, json: { message: `dockgate eval's capture daemon does not implement ${method} /networks/{id}/${action ?? ''}` } };
  }

  private volume(method: string, ref: string | undefined, query: URLSearchParams, body: JsonValue | undefined): FakeAnswer {
    if (method === 'POST' && ref === 'create') {
      const spec = isObject(body) ? body : {};
      const Name = typeof spec.Name === 'string' && spec.Name !== '' ? spec.Name : newId();
      const existing = this.volumes.get(Name);
      if (existing) return { status: 201, json: existing };
      const volume: JsonObject = { Name, Driver: spec.Driver || 'local', Mountpoint: `/var/lib/docker/volumes/${Name}/_data`, Labels: spec.Labels ?? {}, Options: spec.DriverOpts ?? {}, Scope: 'local', CreatedAt: created() };
      this.volumes.set(Name, volume);
      return { status: 201, json: volume };
    }
    if (method === 'GET' && ref === undefined) {
      const filters = parseFilters(query.get('filters'));
      return { status: 200, json: { Volumes: [...this.volumes.values()].filter((v) => labelsMatch(v.Labels, filters.get('label'))), Warnings: [] } };
    }
    const v = ref !== undefined ? this.volumes.get(ref) : undefined;
    if (!v) return notFound(`volume: ${ref ?? ''}`);
    if (method === 'GET') return { status: 200, json: v };
    if (method === 'DELETE') {
      this.volumes.delete(String(v.Name));
      return { status: 204 };
    }
    return { status: 501, json: { message: `dockgate eval's capture daemon does not implement ${method} /volumes/{name}` } };
  }

  private image(method: string, rest: string[], query: URLSearchParams): FakeAnswer {
    if (method === 'GET' && rest.length === 1 && rest[0] === 'json') return { status: 200, json: [] };
    if (method === 'POST' && rest.length === 1 && rest[0] === 'create') {
      const image = `${query.get('fromImage') ?? ''}:${query.get('tag') ?? 'latest'}`;
      return { status: 200, contentType: 'application/json', text: `${JSON.stringify({ status: `Pulled ${image} (dockgate eval: nothing was downloaded)` })}\n` };
    }
    if (method === 'GET' && rest.at(-1) === 'json') {
      const name = rest.slice(0, -1).join('/');
      const Id = `sha256:${createHash('sha256').update(name).digest('hex')}`;
      return {
        status: 200,
        json: { Id, RepoTags: [name], RepoDigests: [], Created: created(), Os: 'linux', Architecture: 'amd64', Size: 0, Config: { Cmd: ['sh'], Env: [], User: '', Labels: null, Entrypoint: null, WorkingDir: '' }, RootFS: { Type: 'layers', Layers: [] } },
      };
    }
    return { status: 501, json: { message: `dockgate eval's capture daemon does not implement ${method} /images/${rest.join('/')}` } };
  }

  /** The daemon's answer to an inspect the gate wants (lookups): found, or known not to exist. */
  inspect(path: string): { found: boolean; body: unknown } {
    const answer = this.handle('GET', path, new URLSearchParams(), undefined);
    if (answer.status === 200) return { found: true, body: answer.json };
    if (answer.status === 404) return { found: true, body: null };
    return { found: false, body: undefined };
  }
}
