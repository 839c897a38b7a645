import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { INSPECTED_BODY_KINDS, type RouteBody } from '../../src/docker/body-kinds.js';
import { classify, ROUTE_TABLE } from '../../src/http/routes.js';

// Every path + method of the published Engine API specs must classify to the route we expect.
// The expectations below are written from the API documentation, independently of the table.

const SPEC_DIR = '/work/shared/docker-api';
const SPEC_VERSIONS = ['1.41', '1.44', '1.56'] as const;
const HTTP_METHODS = new Set(['get', 'head', 'post', 'put', 'delete', 'patch', 'options']);

type Expected = readonly [kind: string, operation: string, body: RouteBody, hijack?: boolean];

const EXPECTED: Record<string, Expected> = {
  'GET /_ping': ['system', 'ping', 'none'],
  'HEAD /_ping': ['system', 'ping', 'none'],
  'POST /auth': ['auth', 'auth', 'stream'],
  'POST /build': ['build', 'build', 'stream'],
  'POST /build/prune': ['build', 'prune', 'none'],
  'POST /commit': ['container', 'commit', 'containerCommit'],
  'GET /configs': ['config', 'list', 'none'],
  'GET /configs/{id}': ['config', 'inspect', 'none'],
  'DELETE /configs/{id}': ['config', 'delete', 'none'],
  'POST /configs/{id}/update': ['config', 'update', 'configUpdate'],
  'POST /configs/create': ['config', 'create', 'configCreate'],
  'DELETE /containers/{id}': ['container', 'delete', 'none'],
  'HEAD /containers/{id}/archive': ['container', 'archive.head', 'none'],
  'GET /containers/{id}/archive': ['container', 'archive.get', 'none'],
  'PUT /containers/{id}/archive': ['container', 'archive.put', 'stream'],
  'POST /containers/{id}/attach': ['container', 'attach', 'stream', true],
  'GET /containers/{id}/attach/ws': ['container', 'attach.ws', 'stream', true],
  'GET /containers/{id}/changes': ['container', 'changes', 'none'],
  'POST /containers/{id}/exec': ['container', 'exec', 'execCreate'],
  'GET /containers/{id}/export': ['container', 'export', 'none'],
  'GET /containers/{id}/json': ['container', 'inspect', 'none'],
  'POST /containers/{id}/kill': ['container', 'kill', 'none'],
  'GET /containers/{id}/logs': ['container', 'logs', 'none'],
  'POST /containers/{id}/pause': ['container', 'pause', 'none'],
  'POST /containers/{id}/rename': ['container', 'rename', 'none'],
  'POST /containers/{id}/resize': ['container', 'resize', 'none'],
  'POST /containers/{id}/restart': ['container', 'restart', 'none'],
  'POST /containers/{id}/start': ['container', 'start', 'none'],
  'GET /containers/{id}/stats': ['container', 'stats', 'none'],
  'POST /containers/{id}/stop': ['container', 'stop', 'none'],
  'GET /containers/{id}/top': ['container', 'top', 'none'],
  'POST /containers/{id}/unpause': ['container', 'unpause', 'none'],
  'POST /containers/{id}/update': ['container', 'update', 'containerUpdate'],
  'POST /containers/{id}/wait': ['container', 'wait', 'none'],
  'POST /containers/create': ['container', 'create', 'containerCreate'],
  'GET /containers/json': ['container', 'list', 'none'],
  'POST /containers/prune': ['container', 'prune', 'none'],
  'GET /distribution/{name}/json': ['distribution', 'inspect', 'none'],
  'GET /events': ['system', 'events', 'none'],
  'GET /exec/{id}/json': ['exec', 'inspect', 'none'],
  'POST /exec/{id}/resize': ['exec', 'resize', 'none'],
  'POST /exec/{id}/start': ['exec', 'start', 'execStart', true],
  'DELETE /images/{name}': ['image', 'delete', 'none'],
  'GET /images/{name}/attestations': ['image', 'attestations', 'none'],
  'GET /images/{name}/get': ['image', 'get', 'none'],
  'GET /images/{name}/history': ['image', 'history', 'none'],
  'GET /images/{name}/json': ['image', 'inspect', 'none'],
  'POST /images/{name}/push': ['image', 'push', 'none'],
  'POST /images/{name}/tag': ['image', 'tag', 'none'],
  // Without a fromImage query parameter dockerd imports (see routes-classify for pull).
  'POST /images/create': ['image', 'import', 'stream'],
  'GET /images/get': ['image', 'get', 'none'],
  'GET /images/json': ['image', 'list', 'none'],
  'POST /images/load': ['image', 'load', 'stream'],
  'POST /images/prune': ['image', 'prune', 'none'],
  'GET /images/search': ['image', 'search', 'none'],
  'GET /info': ['system', 'info', 'none'],
  'GET /networks': ['network', 'list', 'none'],
  'GET /networks/{id}': ['network', 'inspect', 'none'],
  'DELETE /networks/{id}': ['network', 'delete', 'none'],
  'POST /networks/{id}/connect': ['network', 'connect', 'networkConnect'],
  'POST /networks/{id}/disconnect': ['network', 'disconnect', 'networkDisconnect'],
  'POST /networks/create': ['network', 'create', 'networkCreate'],
  'POST /networks/prune': ['network', 'prune', 'none'],
  'GET /nodes': ['node', 'list', 'none'],
  'GET /nodes/{id}': ['node', 'inspect', 'none'],
  'DELETE /nodes/{id}': ['node', 'delete', 'none'],
  'POST /nodes/{id}/update': ['node', 'update', 'nodeUpdate'],
  'GET /plugins': ['plugin', 'list', 'none'],
  'DELETE /plugins/{name}': ['plugin', 'delete', 'none'],
  'POST /plugins/{name}/disable': ['plugin', 'disable', 'none'],
  'POST /plugins/{name}/enable': ['plugin', 'enable', 'none'],
  'GET /plugins/{name}/json': ['plugin', 'inspect', 'none'],
  'POST /plugins/{name}/push': ['plugin', 'push', 'none'],
  'POST /plugins/{name}/set': ['plugin', 'set', 'pluginSet'],
  'POST /plugins/{name}/upgrade': ['plugin', 'upgrade', 'pluginPrivileges'],
  'POST /plugins/create': ['plugin', 'create', 'stream'],
  'GET /plugins/privileges': ['plugin', 'privileges', 'none'],
  'POST /plugins/pull': ['plugin', 'pull', 'pluginPrivileges'],
  'GET /secrets': ['secret', 'list', 'none'],
  'GET /secrets/{id}': ['secret', 'inspect', 'none'],
  'DELETE /secrets/{id}': ['secret', 'delete', 'none'],
  'POST /secrets/{id}/update': ['secret', 'update', 'secretUpdate'],
  'POST /secrets/create': ['secret', 'create', 'secretCreate'],
  'GET /services': ['service', 'list', 'none'],
  'GET /services/{id}': ['service', 'inspect', 'none'],
  'DELETE /services/{id}': ['service', 'delete', 'none'],
  'GET /services/{id}/logs': ['service', 'logs', 'none'],
  'POST /services/{id}/update': ['service', 'update', 'serviceUpdate'],
  'POST /services/create': ['service', 'create', 'serviceCreate'],
  'POST /session': ['session', 'session', 'stream', true],
  'GET /swarm': ['swarm', 'inspect', 'none'],
  'POST /swarm/init': ['swarm', 'init', 'swarmInit'],
  'POST /swarm/join': ['swarm', 'join', 'swarmJoin'],
  'POST /swarm/leave': ['swarm', 'leave', 'none'],
  'POST /swarm/unlock': ['swarm', 'unlock', 'swarmUnlock'],
  'GET /swarm/unlockkey': ['swarm', 'unlockkey', 'none'],
  'POST /swarm/update': ['swarm', 'update', 'swarmUpdate'],
  'GET /system/df': ['system', 'df', 'none'],
  'GET /tasks': ['task', 'list', 'none'],
  'GET /tasks/{id}': ['task', 'inspect', 'none'],
  'GET /tasks/{id}/logs': ['task', 'logs', 'none'],
  'GET /version': ['system', 'version', 'none'],
  'GET /volumes': ['volume', 'list', 'none'],
  'GET /volumes/{name}': ['volume', 'inspect', 'none'],
  'DELETE /volumes/{name}': ['volume', 'delete', 'none'],
  'PUT /volumes/{name}': ['volume', 'update', 'volumeUpdate'],
  'POST /volumes/create': ['volume', 'create', 'volumeCreate'],
  'POST /volumes/prune': ['volume', 'prune', 'none'],
};

interface SpecRoute {
  readonly key: string;
  readonly method: string;
  readonly path: string;
}

function specRoutes(version: string): SpecRoute[] {
  const doc = parse(readFileSync(`${SPEC_DIR}/swagger-v${version}.yaml`, 'utf8')) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const routes: SpecRoute[] = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const method of Object.keys(operations)) {
      if (!HTTP_METHODS.has(method)) continue;
      const upper = method.toUpperCase();
      routes.push({ key: `${upper} ${path}`, method: upper, path });
    }
  }
  return routes;
}

// A plain value for the path parameter (names with "/" and ":" are covered in routes-classify).
const PARAM_VALUE = 'abc123';
function concrete(path: string): { path: string; param: string | undefined } {
  const m = /\{(\w+)\}/.exec(path);
  return {
    path: path.replace(/\{\w+\}/, PARAM_VALUE),
    param: m === null ? undefined : PARAM_VALUE,
  };
}

describe.each(SPEC_VERSIONS)('Engine API %s spec', (version) => {
  const routes = specRoutes(version);

  it('has routes (the spec parsed)', () => {
    expect(routes.length).toBeGreaterThan(90);
  });

  it('every path + method has an expectation here', () => {
    const missing = routes.map((r) => r.key).filter((key) => !(key in EXPECTED));
    expect(missing).toEqual([]);
  });

  it.each(routes.map((r) => [r.key, r] as const))('%s classifies', (_key, r) => {
    const expected = EXPECTED[r.key]!;
    const { path, param } = concrete(r.path);
    for (const prefix of ['', `/v${version}`]) {
      const result = classify(r.method, prefix + path);
      expect(result.ok, `${r.method} ${prefix}${path}`).toBe(true);
      if (!result.ok) continue;
      const route = result.route;
      expect(route.kind).not.toBe('unknown');
      expect([route.kind, route.operation, route.body, route.hijack]).toEqual([
        expected[0],
        expected[1],
        expected[2],
        expected[3] ?? false,
      ]);
      expect(route.target).toBe(param);
      expect(route.path).toBe(path);
      expect(route.apiVersion).toBe(prefix === '' ? null : version);
    }
  });
});

describe('route table', () => {
  it('hijacks exactly attach, attach/ws, exec start, session and grpc', () => {
    const hijacked = ROUTE_TABLE.filter((r) => r.hijack)
      .map((r) => `${r.method} ${r.pattern}`)
      .sort();
    expect(hijacked).toEqual(
      [
        'GET /containers/{name:.*}/attach/ws',
        'POST /containers/{name:.*}/attach',
        'POST /exec/{name:.*}/start',
        'POST /grpc',
        'POST /session',
      ].sort(),
    );
  });

  it('uses every inspected body kind (and only pluginPrivileges on two routes)', () => {
    for (const kind of INSPECTED_BODY_KINDS) {
      const routes = ROUTE_TABLE.filter((r) => r.body === kind);
      expect(routes.length, kind).toBe(kind === 'pluginPrivileges' ? 2 : 1);
    }
  });

  it('refuses a body on start (dockerd < 1.24 would apply a HostConfig from it)', () => {
    const start = ROUTE_TABLE.find(
      (r) => r.method === 'POST' && r.pattern === '/containers/{name:.*}/start',
    );
    expect(start?.body).toBe('none');
  });
});

describe('dockerd routes missing from the specs', () => {
  it.each([
    ['POST', '/grpc', 'session', 'grpc', true],
    ['POST', '/v1.41/session', 'session', 'session', true],
    ['GET', '/v1.41/containers/c1/attach/ws', 'container', 'attach.ws', true],
    ['HEAD', '/_ping', 'system', 'ping', false],
    ['HEAD', '/v1.44/containers/c1/archive', 'container', 'archive.head', false],
    ['POST', '/build/cancel', 'build', 'cancel', false],
    ['POST', '/v1.41/containers/c1/copy', 'container', 'copy', false],
    ['GET', '/containers/c1/checkpoints', 'container', 'checkpoint.list', false],
    ['POST', '/containers/c1/checkpoints', 'container', 'checkpoint.create', false],
    ['DELETE', '/containers/c1/checkpoints/cp1', 'container', 'checkpoint.delete', false],
    ['OPTIONS', '/v1.41/containers/create', 'system', 'options', false],
    ['OPTIONS', '/', 'system', 'options', false],
    ['GET', '/debug/vars', 'system', 'debug', false],
    ['POST', '/debug/pprof/heap', 'system', 'debug', false],
    ['TRACE', '/debug/pprof/profile', 'system', 'debug', false],
  ] as const)('%s %s', (method, target, kind, operation, hijack) => {
    const result = classify(method, target);
    expect(result.ok && [result.route.kind, result.route.operation, result.route.hijack]).toEqual([
      kind,
      operation,
      hijack,
    ]);
  });

  it('targets the container, not the checkpoint, on checkpoint delete', () => {
    const result = classify('DELETE', '/containers/c1/checkpoints/cp1');
    expect(result.ok && result.route.target).toBe('c1');
  });
});
