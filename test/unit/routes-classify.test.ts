import { describe, expect, it } from 'vitest';
import {
  canonicalTarget,
  classify,
  type ClassifiedRoute,
  type ClassifyResult,
} from '../../src/http/routes.js';

function ok(result: ClassifyResult): ClassifiedRoute {
  if (!result.ok) throw new Error(`expected a route, got ${result.status}: ${result.message}`);
  return result.route;
}

function refused(result: ClassifyResult): string {
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.route)}`);
  expect(result.status).toBe(400);
  return result.message;
}

function summary(method: string, target: string): string {
  const r = ok(classify(method, target));
  return `${r.kind}/${r.operation}${r.target === undefined ? '' : ` ${r.target}`}`;
}

describe('version prefix', () => {
  it.each([
    ['/containers/json', null],
    ['/v1.41/containers/json', '1.41'],
    ['/v1.24/containers/json', '1.24'],
    ['/v1.41.0/containers/json', '1.41'],
    ['/v1.41.00.0/containers/json', '1.41'],
    ['/v001.044/containers/json', '1.44'],
    ['/v1.56/containers/json', '1.56'],
    ['/v2.0/containers/json', '2.0'],
  ])('%s routes with apiVersion %s', (target, version) => {
    const r = ok(classify('GET', target));
    expect([r.kind, r.operation, r.apiVersion, r.path]).toEqual([
      'container',
      'list',
      version,
      '/containers/json',
    ]);
  });

  it.each([
    ['/v1.23/containers/json', /too old.*1\.24/],
    ['/v1.12/containers/x/start', /too old/],
    ['/v0.99/containers/json', /too old/],
    ['/v1/containers/json', /MAJOR\.MINOR/],
    ['/v1..41/containers/json', /MAJOR\.MINOR/],
    ['/v.41/containers/json', /MAJOR\.MINOR/],
    ['/v1.41./containers/json', /MAJOR\.MINOR/],
    ['/v./containers/json', /MAJOR\.MINOR/],
    ['/v1.41.1/containers/json', /not supported/],
    ['/v1.9999999999/containers/json', /MAJOR\.MINOR/],
  ])('%s is refused', (target, message) => {
    expect(refused(classify('GET', target))).toMatch(message);
  });

  it('refuses an old version even on an unknown path (dockerd would 404 it anyway)', () => {
    refused(classify('GET', '/v1.20/no/such/route'));
  });

  it('refuses old versions on start, where dockerd < 1.24 applies a body HostConfig', () => {
    refused(classify('POST', '/v1.23/containers/web/start'));
    expect(ok(classify('POST', '/v1.24/containers/web/start')).body).toBe('none');
  });

  it('reads a version prefix that is only there after decoding', () => {
    const r = ok(classify('POST', '/v1%2E41/containers/create'));
    expect([r.operation, r.apiVersion]).toEqual(['create', '1.41']);
  });

  it.each([
    ['/v1.41', 'unknown/unknown'], // no route after the version: a plain unknown path
    ['/vx/containers/json', 'unknown/unknown'],
    ['/v/containers/json', 'unknown/unknown'],
    ['/v1.41x/containers/json', 'unknown/unknown'],
    ['/v1.41/v1.41/containers/json', 'unknown/unknown'],
    ['/version', 'system/version'],
    ['/v1.41/version', 'system/version'],
    ['/volumes', 'volume/list'],
  ])('%s is %s', (target, expected) => {
    expect(summary('GET', target)).toBe(expected);
  });
});

describe('percent-decoding (once, like dockerd)', () => {
  it.each([
    ['POST', '/v1.41/containers%2Fcreate', 'container/create'],
    ['POST', '/v1.41/containers%2fcreate', 'container/create'],
    ['POST', '/v1.41/%63ontainers/create', 'container/create'],
    ['POST', '/%63%6f%6e%74%61%69%6e%65%72%73/create', 'container/create'],
    ['GET', '/containers/abc%2Fdef/json', 'container/inspect abc/def'],
    ['GET', '/containers/%2525/json', 'container/inspect %25'], // decoded once only
    ['GET', '/containers/a+b/json', 'container/inspect a+b'], // '+' is not a space in paths
    ['GET', '/containers/caf%C3%A9/json', 'container/inspect café'],
    ['GET', '/containers/a%3Fb/json', 'container/inspect a?b'],
  ])('%s %s -> %s', (method, target, expected) => {
    expect(summary(method, target)).toBe(expected);
  });

  it.each([
    '/containers/%zz/json',
    '/containers/%2/json',
    '/containers/abc%',
    '/containers/%C3%28/json', // invalid UTF-8
    '/containers/%FF/json',
    '/containers/a%00b/json', // control characters
    '/containers/a%0Ab/json',
    '/containers/a%7Fb/json',
  ])('%s is refused', (target) => {
    refused(classify('GET', target));
  });
});

describe('absolute-form targets', () => {
  it.each([
    ['POST', 'http://x/v1.41/containers/create', 'container/create'],
    ['POST', 'HTTP://docker:2375/v1.41/containers/create?name=web', 'container/create'],
    ['GET', 'https://user@[::1]:2376/containers/c1/json', 'container/inspect c1'],
    ['POST', 'http://x/v1.41/containers%2Fcreate', 'container/create'],
  ])('%s %s -> %s', (method, target, expected) => {
    expect(summary(method, target)).toBe(expected);
  });

  it('keeps the query of an absolute-form target', () => {
    const r = ok(classify('POST', 'http://x/containers/create?name=web'));
    expect(r.query.name).toEqual(['web']);
    expect(r.path).toBe('/containers/create');
  });

  it.each([
    'ftp://x/containers/json', // Go would route any scheme; we only take http(s)
    'unix://x/containers/json',
    'http:/containers/json',
    'http:containers/json',
    'http://x',
    'http://x?a=/containers/json',
    'http://x y/containers/json',
    'http://x/a#/containers/json',
    '*',
    'containers/json',
    'x:2375',
    '',
  ])('%s is refused', (target) => {
    refused(classify('GET', target));
  });
});

describe('paths dockerd would redirect or 404 are refused', () => {
  it.each([
    ['POST', '//containers/create'],
    ['POST', '/containers//create'],
    ['POST', '/v1.41//containers/create'],
    ['POST', '/./containers/create'],
    ['POST', '/containers/./create'],
    ['POST', '/containers/x/../create'],
    ['POST', '/v1.41/../containers/create'],
    ['GET', '/containers/json/.'],
    ['GET', '/containers/json/..'],
    ['GET', '/containers/%2e%2e/json'],
    ['GET', '/containers/%2E/json'],
    ['POST', '/containers%2F%2Fcreate'],
    ['POST', '/v1.41/containers/%2E%2E%2Fcreate'],
    ['POST', '/Containers/create'],
    ['POST', '/containers/Create'],
    ['POST', '/containers/CREATE'],
    ['GET', '/V1.41/containers/json'],
    ['GET', '/v1.41/Containers/json'],
    ['GET', '/containers/c1/JSON'],
    ['GET', '/_PING'],
    ['POST', '/containers/create/'],
    ['POST', '/v1.41/containers/create/'],
    ['GET', '/networks/'], // dockerd lists here; we refuse all trailing slashes
    ['GET', '/volumes/'],
    ['DELETE', '/containers/c1/'],
    ['GET', '/debug/pprof/'],
    ['GET', '/containers/json%2F'],
  ])('%s %s', (method, target) => {
    expect(refused(classify(method, target))).toMatch(/slash|segment|case/);
  });

  it('says what is wrong', () => {
    expect(refused(classify('POST', '/containers/create/'))).toMatch(/trailing slash/);
    expect(refused(classify('POST', '/containers//create'))).toMatch(/"\/\/"/);
    expect(refused(classify('GET', '/containers/%2e%2e/json'))).toMatch(/"\.\."/);
    expect(refused(classify('POST', '/Containers/create'))).toMatch(/case-sensitive/);
  });

  it('accepts dots that are not whole segments', () => {
    expect(summary('GET', '/containers/.hidden/json')).toBe('container/inspect .hidden');
    expect(summary('GET', '/containers/a..b/json')).toBe('container/inspect a..b');
    expect(summary('GET', '/images/.../json')).toBe('image/inspect ...');
  });

  it('keeps upper case in names', () => {
    expect(summary('GET', '/containers/MyApp/json')).toBe('container/inspect MyApp');
    expect(summary('DELETE', '/containers/MyApp')).toBe('container/delete MyApp');
  });

  it.each(['/containers/a b/json', '/containers/é/json', '/containers/a\tb/json'])(
    'refuses raw characters that must be encoded: %j',
    (target) => {
      refused(classify('GET', target));
    },
  );
});

describe('methods', () => {
  it.each([
    ['GET', '/containers/json', 'container/list'],
    ['POST', '/containers/create', 'container/create'],
    ['GET', '/containers/create', 'unknown/unknown'],
    ['PUT', '/containers/create', 'unknown/unknown'],
    ['POST', '/containers/json', 'unknown/unknown'],
    ['HEAD', '/containers/json', 'unknown/unknown'], // mux does not route HEAD to GET
    ['POST', '/_ping', 'unknown/unknown'],
    ['get', '/containers/json', 'unknown/unknown'], // methods are case-sensitive
    ['PATCH', '/containers/c1', 'unknown/unknown'],
    ['GET', '/', 'unknown/unknown'],
    ['GET', '/no/such/thing', 'unknown/unknown'],
    ['GET', '/services/a/b', 'unknown/unknown'], // {id} is one segment
    ['DELETE', '/secrets/a/b', 'unknown/unknown'],
  ])('%s %s -> %s', (method, target, expected) => {
    expect(summary(method, target)).toBe(expected);
  });

  it('gives unknown routes a stream body, no target, and the decoded path', () => {
    const r = ok(classify('PUT', '/v1.41/containers/create?x=1'));
    expect(r).toMatchObject({
      kind: 'unknown',
      operation: 'unknown',
      body: 'stream',
      hijack: false,
      apiVersion: '1.41',
      path: '/containers/create',
    });
    expect(r.target).toBeUndefined();
    expect(r.query.x).toEqual(['1']);
  });
});

describe('names with slashes, like dockerd\'s {name:.*}', () => {
  it.each([
    ['GET', '/images/registry:5000/team/app:1.2/json', 'image/inspect registry:5000/team/app:1.2'],
    ['GET', '/v1.41/images/alpine@sha256:0123abcd/json', 'image/inspect alpine@sha256:0123abcd'],
    ['DELETE', '/images/registry:5000/a/b:tag', 'image/delete registry:5000/a/b:tag'],
    ['POST', '/images/registry:5000/a/b/tag?repo=x', 'image/tag registry:5000/a/b'],
    ['POST', '/images/registry%3A5000%2Fa%2Fb/push', 'image/push registry:5000/a/b'],
    ['GET', '/images/a/b/history', 'image/history a/b'],
    ['GET', '/images/a/b/get', 'image/get a/b'],
    ['GET', '/images/get', 'image/get'],
    ['GET', '/images/json', 'image/list'],
    ['GET', '/images/search', 'image/search'],
    ['GET', '/images/a/json/json', 'image/inspect a/json'],
    ['GET', '/images/json/json', 'image/inspect json'],
    ['POST', '/plugins/vieux/sshfs:latest/enable', 'plugin/enable vieux/sshfs:latest'],
    ['POST', '/plugins/vieux/sshfs/set', 'plugin/set vieux/sshfs'],
    ['DELETE', '/plugins/vieux/sshfs:latest', 'plugin/delete vieux/sshfs:latest'],
    ['GET', '/plugins/privileges', 'plugin/privileges'],
    [
      'GET',
      '/distribution/docker.io/library/alpine:3/json',
      'distribution/inspect docker.io/library/alpine:3',
    ],
    ['GET', '/networks/a/b', 'network/inspect a/b'],
    ['POST', '/networks/a/b/connect', 'network/connect a/b'],
    ['GET', '/volumes/a/b', 'volume/inspect a/b'],
    ['DELETE', '/containers/a/b', 'container/delete a/b'],
    ['POST', '/containers/x/exec/start', 'container/start x/exec'],
    ['POST', '/exec/abc/start', 'exec/start abc'],
    ['POST', '/containers/create/start', 'container/start create'],
    ['GET', '/containers/json/json', 'container/inspect json'],
    ['DELETE', '/containers/c1/checkpoints/cp1', 'container/checkpoint.delete c1'],
    ['DELETE', '/containers/a/b/checkpoints', 'container/delete a/b/checkpoints'],
    ['DELETE', '/containers/a/b/checkpoints/cp1', 'container/delete a/b/checkpoints/cp1'],
  ])('%s %s -> %s', (method, target, expected) => {
    expect(summary(method, target)).toBe(expected);
  });
});

describe('POST /images/create', () => {
  it.each([
    ['/images/create?fromImage=alpine&tag=3', 'pull'],
    ['/v1.41/images/create?fromImage=registry%3A5000%2Fa', 'pull'],
    ['/images/create?fromSrc=-&repo=x', 'import'],
    ['/images/create?fromImage=', 'import'],
    ['/images/create?fromImage=&fromImage=alpine', 'import'], // dockerd reads the first value
    ['/images/create?fromImage=alpine&fromImage=', 'pull'],
    ['/images/create?fromimage=alpine', 'import'], // keys are case-sensitive
  ])('%s is a %s', (target, operation) => {
    const r = ok(classify('POST', target));
    expect([r.kind, r.operation, r.body]).toEqual(['image', operation, 'stream']);
  });
});

describe('query', () => {
  it('is parsed into the route', () => {
    const target = '/containers/json?all=1&filters=%7B%22label%22%3A%5B%22a%22%5D%7D';
    const r = ok(classify('GET', target));
    expect(r.query).toEqual({ all: ['1'], filters: ['{"label":["a"]}'] });
    expect(r.rawQuery).toBe('all=1&filters=%7B%22label%22%3A%5B%22a%22%5D%7D');
  });

  it.each(['/containers/json?all=1;size=1', '/containers/json?a=%zz', '/containers/json?a=%C3%28'])(
    '%s is refused',
    (target) => {
      refused(classify('GET', target));
    },
  );
});

describe('canonicalTarget', () => {
  it.each([
    ['POST', '/v1.41/containers/create?name=web', '/v1.41/containers/create?name=web'],
    ['POST', '/v1.41.0/containers%2Fcreate', '/v1.41/containers/create'],
    ['POST', '/v001.044/%63ontainers/create', '/v1.44/containers/create'],
    ['POST', 'http://x/containers/create?name=a', '/containers/create?name=a'],
    ['GET', '/images/registry:5000/a/b:1/json', '/images/registry:5000/a/b:1/json'],
    ['GET', '/containers/a%3Fb/json', '/containers/a%3Fb/json'],
    ['GET', '/containers/caf%c3%a9/json', '/containers/caf%C3%A9/json'],
    ['GET', '/containers/a%25b/json', '/containers/a%25b/json'],
  ])('%s %s -> %s', (method, target, expected) => {
    expect(canonicalTarget(ok(classify(method, target)))).toBe(expected);
  });

  it('classifies back to the same route', () => {
    for (const [method, target] of [
      ['GET', '/v1.41/containers/a%3Fb%23c%20d/json?x=1'],
      ['DELETE', '/images/registry%3A5000%2Fa%2Fb%3Atag'],
      ['POST', 'http://h/v1.44.0/networks/n%2F1/connect'],
    ] as const) {
      const first = ok(classify(method, target));
      const again = ok(classify(method, canonicalTarget(first)));
      expect(again).toEqual(first);
    }
  });
});
