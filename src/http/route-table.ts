import type { RouteBody } from '../docker/body-kinds.js';

// The Engine API route table: every route dockerd registers (moby api/server/router/*, 20.10
// through current), in dockerd's registration order, because gorilla mux takes the first route
// whose method and path both match. Each route is registered with and without the `/v{version}`
// prefix by dockerd; the classifier strips the prefix before looking routes up here.
//
// Patterns use gorilla mux syntax, matched against the percent-decoded path:
//   `{name}`      one segment (`[^/]+`)
//   `{name:.*}`   anything, slashes included, possibly empty (image refs: registry:5000/a/b:tag)
//   `{name:.+}`   anything, slashes included, non-empty
//
// kind — what sort of object the request acts on (the policy's `kind`).
// operation — what it does, one consistent vocabulary across kinds:
//   list, inspect, create, update, delete, prune            generic object lifecycle
//   start, stop, kill, restart, pause, unpause, rename, wait, resize
//   logs, stats, top, changes, export                        container read-outs
//   archive.get / archive.head / archive.put                 GET/HEAD/PUT /containers/{id}/archive
//   attach (POST, hijacked), attach.ws (GET websocket, hijacked)
//   exec        POST /containers/{id}/exec: create an exec instance in that container
//   commit      POST /commit (the container is in the `container` query parameter)
//   copy        POST /containers/{id}/copy: removed API, dockerd answers 404 from API 1.24 on
//   checkpoint.list / checkpoint.create / checkpoint.delete   experimental checkpoint routes
//   pull / import   POST /images/create, chosen by the first `fromImage` value like dockerd
//   push, tag, load, get (image tarball export), search, history, attestations
//   build, cancel   POST /build, POST /build/cancel
//   connect, disconnect                                      networks
//   privileges, set, enable, disable, upgrade, push, pull    plugins (pull = install)
//   init, join, leave, unlock, unlockkey                     swarm
//   ping, version, info, events, df, options (OPTIONS on any path), debug (/debug/*)
//   auth        POST /auth
//   session, grpc   BuildKit's hijacked POST /session and POST /grpc (h2c) tunnels
//   unknown     no route matched (never in this table)
//
// body — what the request body is: 'none' (a body is refused), 'stream' (forwarded untouched,
// never parsed) or the inspected JSON body kind the canonicalizer decodes.
// hijack — dockerd takes over the connection (upgrade / raw stream in both directions).
// targetParam — the path variable that names the object the request acts on.

export const ROUTE_KINDS = [
  'container',
  'exec',
  'image',
  'volume',
  'network',
  'build',
  'service',
  'task',
  'node',
  'secret',
  'config',
  'plugin',
  'swarm',
  'system',
  'session',
  'distribution',
  'auth',
  'unknown',
] as const;
export type RouteKind = (typeof ROUTE_KINDS)[number];

export const ROUTE_OPERATIONS = [
  'list',
  'inspect',
  'create',
  'update',
  'delete',
  'prune',
  'start',
  'stop',
  'kill',
  'restart',
  'pause',
  'unpause',
  'rename',
  'wait',
  'resize',
  'logs',
  'stats',
  'top',
  'changes',
  'export',
  'archive.get',
  'archive.head',
  'archive.put',
  'attach',
  'attach.ws',
  'exec',
  'commit',
  'copy',
  'checkpoint.list',
  'checkpoint.create',
  'checkpoint.delete',
  'pull',
  'import',
  'push',
  'tag',
  'load',
  'get',
  'search',
  'history',
  'attestations',
  'build',
  'cancel',
  'connect',
  'disconnect',
  'privileges',
  'set',
  'enable',
  'disable',
  'upgrade',
  'init',
  'join',
  'leave',
  'unlock',
  'unlockkey',
  'ping',
  'version',
  'info',
  'events',
  'df',
  'options',
  'debug',
  'auth',
  'session',
  'grpc',
  'unknown',
] as const;
export type RouteOperation = (typeof ROUTE_OPERATIONS)[number];

// A route registered for every method (dockerd's debug routes).
export const ANY_METHOD = '*';

export interface RouteDefinition {
  // An HTTP method, or ANY_METHOD.
  readonly method: string;
  readonly pattern: string;
  readonly kind: Exclude<RouteKind, 'unknown'>;
  readonly operation: Exclude<RouteOperation, 'unknown'>;
  readonly body: RouteBody;
  readonly hijack: boolean;
  readonly targetParam?: string;
}

type Kind = RouteDefinition['kind'];
type Operation = RouteDefinition['operation'];
interface RouteOptions {
  body?: RouteBody;
  hijack?: boolean;
  // Default: the pattern's first variable, if any.
  targetParam?: string | null;
}

function route(
  method: string,
  pattern: string,
  kind: Kind,
  operation: Operation,
  options: RouteOptions = {},
): RouteDefinition {
  const firstVar = /\{([A-Za-z]+)/.exec(pattern)?.[1];
  const targetParam = options.targetParam === null ? undefined : (options.targetParam ?? firstVar);
  return {
    method,
    pattern,
    kind,
    operation,
    body: options.body ?? 'none',
    hijack: options.hijack ?? false,
    ...(targetParam !== undefined ? { targetParam } : {}),
  };
}

const STREAM = { body: 'stream' } as const;
const HIJACK_STREAM = { body: 'stream', hijack: true } as const;

export const ROUTE_TABLE: readonly RouteDefinition[] = [
  // checkpoint router: registered before the container router so its DELETE is not masked by
  // DELETE /containers/{name:.*}. Experimental; dockerd refuses them unless experimental is on.
  route('GET', '/containers/{name:.*}/checkpoints', 'container', 'checkpoint.list'),
  // CheckpointCreateOptions (CheckpointID, CheckpointDir, Exit): not an inspected body kind.
  route('POST', '/containers/{name:.*}/checkpoints', 'container', 'checkpoint.create', STREAM),
  route('DELETE', '/containers/{name}/checkpoints/{checkpoint}', 'container', 'checkpoint.delete'),

  // container router
  route('HEAD', '/containers/{name:.*}/archive', 'container', 'archive.head'),
  route('GET', '/containers/json', 'container', 'list'),
  route('GET', '/containers/{name:.*}/export', 'container', 'export'),
  route('GET', '/containers/{name:.*}/changes', 'container', 'changes'),
  route('GET', '/containers/{name:.*}/json', 'container', 'inspect'),
  route('GET', '/containers/{name:.*}/top', 'container', 'top'),
  route('GET', '/containers/{name:.*}/logs', 'container', 'logs'),
  route('GET', '/containers/{name:.*}/stats', 'container', 'stats'),
  route('GET', '/containers/{name:.*}/attach/ws', 'container', 'attach.ws', HIJACK_STREAM),
  route('GET', '/exec/{id:.*}/json', 'exec', 'inspect'),
  route('GET', '/containers/{name:.*}/archive', 'container', 'archive.get'),
  route('POST', '/containers/create', 'container', 'create', { body: 'containerCreate' }),
  route('POST', '/containers/{name:.*}/kill', 'container', 'kill'),
  route('POST', '/containers/{name:.*}/pause', 'container', 'pause'),
  route('POST', '/containers/{name:.*}/unpause', 'container', 'unpause'),
  route('POST', '/containers/{name:.*}/restart', 'container', 'restart'),
  // dockerd below API 1.24 applies a HostConfig sent here (bypassing create-time admission);
  // the classifier refuses those versions, and no body is accepted.
  route('POST', '/containers/{name:.*}/start', 'container', 'start'),
  route('POST', '/containers/{name:.*}/stop', 'container', 'stop'),
  route('POST', '/containers/{name:.*}/wait', 'container', 'wait'),
  route('POST', '/containers/{name:.*}/resize', 'container', 'resize'),
  route('POST', '/containers/{name:.*}/attach', 'container', 'attach', HIJACK_STREAM),
  route('POST', '/containers/{name:.*}/copy', 'container', 'copy'),
  route('POST', '/containers/{name:.*}/exec', 'container', 'exec', { body: 'execCreate' }),
  route('POST', '/exec/{name:.*}/start', 'exec', 'start', { body: 'execStart', hijack: true }),
  route('POST', '/exec/{name:.*}/resize', 'exec', 'resize'),
  route('POST', '/containers/{name:.*}/rename', 'container', 'rename'),
  route('POST', '/containers/{name:.*}/update', 'container', 'update', { body: 'containerUpdate' }),
  route('POST', '/containers/prune', 'container', 'prune'),
  route('POST', '/commit', 'container', 'commit', { body: 'containerCommit' }),
  route('PUT', '/containers/{name:.*}/archive', 'container', 'archive.put', STREAM),
  route('DELETE', '/containers/{name:.*}', 'container', 'delete'),

  // image router
  route('GET', '/images/json', 'image', 'list'),
  route('GET', '/images/search', 'image', 'search'),
  route('GET', '/images/get', 'image', 'get'),
  route('GET', '/images/{name:.*}/get', 'image', 'get'),
  route('GET', '/images/{name:.*}/history', 'image', 'history'),
  route('GET', '/images/{name:.*}/json', 'image', 'inspect'),
  route('GET', '/images/{name:.*}/attestations', 'image', 'attestations'),
  route('POST', '/images/load', 'image', 'load', STREAM),
  // Pull or import (from the body, with fromSrc=-): the classifier picks the operation.
  route('POST', '/images/create', 'image', 'pull', STREAM),
  route('POST', '/images/{name:.*}/push', 'image', 'push'),
  route('POST', '/images/{name:.*}/tag', 'image', 'tag'),
  route('POST', '/images/prune', 'image', 'prune'),
  route('DELETE', '/images/{name:.*}', 'image', 'delete'),

  // system router
  route('OPTIONS', '/{anyroute:.*}', 'system', 'options', { targetParam: null }),
  route('GET', '/_ping', 'system', 'ping'),
  route('HEAD', '/_ping', 'system', 'ping'),
  route('GET', '/events', 'system', 'events'),
  route('GET', '/info', 'system', 'info'),
  route('GET', '/version', 'system', 'version'),
  route('GET', '/system/df', 'system', 'df'),
  // Registry credentials: forwarded as they are, never parsed or logged.
  route('POST', '/auth', 'auth', 'auth', STREAM),

  // volume router
  route('GET', '/volumes', 'volume', 'list'),
  route('GET', '/volumes/{name:.*}', 'volume', 'inspect'),
  route('POST', '/volumes/create', 'volume', 'create', { body: 'volumeCreate' }),
  route('POST', '/volumes/prune', 'volume', 'prune'),
  route('PUT', '/volumes/{name:.*}', 'volume', 'update', { body: 'volumeUpdate' }),
  route('DELETE', '/volumes/{name:.*}', 'volume', 'delete'),

  // build router
  route('POST', '/build', 'build', 'build', STREAM),
  route('POST', '/build/prune', 'build', 'prune'),
  route('POST', '/build/cancel', 'build', 'cancel'),

  // session router (BuildKit session, hijacked)
  route('POST', '/session', 'session', 'session', HIJACK_STREAM),

  // swarm router
  route('POST', '/swarm/init', 'swarm', 'init', { body: 'swarmInit' }),
  route('POST', '/swarm/join', 'swarm', 'join', { body: 'swarmJoin' }),
  route('POST', '/swarm/leave', 'swarm', 'leave'),
  route('GET', '/swarm', 'swarm', 'inspect'),
  route('GET', '/swarm/unlockkey', 'swarm', 'unlockkey'),
  route('POST', '/swarm/update', 'swarm', 'update', { body: 'swarmUpdate' }),
  route('POST', '/swarm/unlock', 'swarm', 'unlock', { body: 'swarmUnlock' }),

  route('GET', '/services', 'service', 'list'),
  route('GET', '/services/{id}', 'service', 'inspect'),
  route('POST', '/services/create', 'service', 'create', { body: 'serviceCreate' }),
  route('POST', '/services/{id}/update', 'service', 'update', { body: 'serviceUpdate' }),
  route('DELETE', '/services/{id}', 'service', 'delete'),
  route('GET', '/services/{id}/logs', 'service', 'logs'),

  route('GET', '/nodes', 'node', 'list'),
  route('GET', '/nodes/{id}', 'node', 'inspect'),
  route('DELETE', '/nodes/{id}', 'node', 'delete'),
  route('POST', '/nodes/{id}/update', 'node', 'update', { body: 'nodeUpdate' }),

  route('GET', '/tasks', 'task', 'list'),
  route('GET', '/tasks/{id}', 'task', 'inspect'),
  route('GET', '/tasks/{id}/logs', 'task', 'logs'),

  route('GET', '/secrets', 'secret', 'list'),
  route('POST', '/secrets/create', 'secret', 'create', { body: 'secretCreate' }),
  route('DELETE', '/secrets/{id}', 'secret', 'delete'),
  route('GET', '/secrets/{id}', 'secret', 'inspect'),
  route('POST', '/secrets/{id}/update', 'secret', 'update', { body: 'secretUpdate' }),

  route('GET', '/configs', 'config', 'list'),
  route('POST', '/configs/create', 'config', 'create', { body: 'configCreate' }),
  route('DELETE', '/configs/{id}', 'config', 'delete'),
  route('GET', '/configs/{id}', 'config', 'inspect'),
  route('POST', '/configs/{id}/update', 'config', 'update', { body: 'configUpdate' }),

  // plugin router
  route('GET', '/plugins', 'plugin', 'list'),
  route('GET', '/plugins/{name:.*}/json', 'plugin', 'inspect'),
  route('GET', '/plugins/privileges', 'plugin', 'privileges'),
  route('DELETE', '/plugins/{name:.*}', 'plugin', 'delete'),
  route('POST', '/plugins/{name:.*}/enable', 'plugin', 'enable'),
  route('POST', '/plugins/{name:.*}/disable', 'plugin', 'disable'),
  route('POST', '/plugins/pull', 'plugin', 'pull', { body: 'pluginPrivileges' }),
  route('POST', '/plugins/{name:.*}/push', 'plugin', 'push'),
  route('POST', '/plugins/{name:.*}/upgrade', 'plugin', 'upgrade', { body: 'pluginPrivileges' }),
  route('POST', '/plugins/{name:.*}/set', 'plugin', 'set', { body: 'pluginSet' }),
  // A tar with the plugin's rootfs and config.json.
  route('POST', '/plugins/create', 'plugin', 'create', STREAM),

  // distribution router
  route('GET', '/distribution/{name:.*}/json', 'distribution', 'inspect'),

  // grpc router: BuildKit's control API over h2c (buildx with the docker driver).
  route('POST', '/grpc', 'session', 'grpc', HIJACK_STREAM),

  // network router
  // (dockerd also routes GET /networks/ as a list; the classifier refuses trailing slashes.)
  route('GET', '/networks', 'network', 'list'),
  route('GET', '/networks/{id:.+}', 'network', 'inspect'),
  route('POST', '/networks/create', 'network', 'create', { body: 'networkCreate' }),
  route('POST', '/networks/{id:.*}/connect', 'network', 'connect', { body: 'networkConnect' }),
  route('POST', '/networks/{id:.*}/disconnect', 'network', 'disconnect', {
    body: 'networkDisconnect',
  }),
  route('POST', '/networks/prune', 'network', 'prune'),
  route('DELETE', '/networks/{id:.*}', 'network', 'delete'),

  // debug router (expvar, pprof). dockerd 20.10 registers these for every method and without
  // the version prefix only; newer daemons GET only, with and without it. Classified for any
  // method (`*`) so a policy can deny them by operation. (`/debug/pprof/` has a trailing slash
  // and is refused by the classifier.)
  route(ANY_METHOD, '/debug/vars', 'system', 'debug'),
  route(ANY_METHOD, '/debug/pprof/{name}', 'system', 'debug', { targetParam: null }),
];
