import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfigFile } from '../../src/config/config.js';
import { FilterError, parseFilters, withLabelFilter } from '../../src/admission/filters.js';
import { ownEventsFilter } from '../../src/admission/event-filter.js';
import { LookupError } from '../../src/admission/lookup.js';
import { notFound, Ownership, ownerOf } from '../../src/admission/ownership.js';
import type { PolicyInput } from '../../src/policy/contract.js';
import { replaceQueryParam } from '../../src/admission/query-rewrite.js';
import { classify, canonicalTarget } from '../../src/http/classify.js';
import { parseQuery } from '../../src/http/query.js';

// The query rewriting that scopes list, prune and event routes to an owner: the caller's filters
// are kept, the owner label filter is added, and the result replaces every `filters` the caller
// sent (dockerd reads only the first value, so an appended one would be ignored).

const query = (raw: string) => {
  const q = parseQuery(raw);
  if (!q.ok) throw new Error(q.message);
  return q.query;
};

describe('parseFilters', () => {
  test('reads both of dockerd\'s forms', () => {
    expect(parseFilters('{"label":{"a=b":true},"status":{"exited":true}}')).toEqual({ label: { 'a=b': true }, status: { exited: true } });
    expect(parseFilters('{"label":["a=b","c"],"name":["web"]}')).toEqual({ label: { 'a=b': true, c: true }, name: { web: true } });
    expect(parseFilters(undefined)).toEqual({});
    expect(parseFilters('')).toEqual({});
  });

  test('refuses what dockerd would refuse', () => {
    for (const bad of ['{', '[]', '"x"', 'null', '{"label":"a"}', '{"label":[1]}', '{"label":{"a":"yes"}}']) {
      expect(() => parseFilters(bad), bad).toThrow(FilterError);
    }
  });

  test('"__proto__" is only a filter name', () => {
    const args = parseFilters('{"__proto__":{"x":true}}');
    expect(Object.keys(args)).toEqual(['__proto__']);
    expect(JSON.parse(withLabelFilter('{"__proto__":{"x":true}}', 'o', 'me'))).toEqual(JSON.parse('{"__proto__":{"x":true},"label":{"o=me":true}}'));
  });
});

describe('withLabelFilter', () => {
  test('adds the owner label to the caller\'s label filters (label filters are AND\'ed)', () => {
    expect(JSON.parse(withLabelFilter('{"label":["dockgate.owner=other"],"status":["exited"]}', 'dockgate.owner', 'me'))).toEqual({
      label: { 'dockgate.owner=other': true, 'dockgate.owner=me': true },
      status: { exited: true },
    });
    expect(JSON.parse(withLabelFilter(undefined, 'team.owner', 'ci-42'))).toEqual({ label: { 'team.owner=ci-42': true } });
  });
});

describe('replaceQueryParam', () => {
  test('replaces every occurrence, however the key is encoded, and keeps the rest in order', () => {
    const raw = 'all=1&filters=%7B%7D&%66ilters=x&filters&limit=3';
    const out = replaceQueryParam(raw, 'filters', '{"label":{"o=me":true}}');
    expect(out).toBe('all=1&limit=3&filters=%7B%22label%22%3A%7B%22o%3Dme%22%3Atrue%7D%7D');
    const q = query(out);
    expect(q.filters).toEqual(['{"label":{"o=me":true}}']);
    expect(q.all).toEqual(['1']);
  });

  test('adds the parameter to an empty query', () => {
    expect(replaceQueryParam('', 'filters', '{}')).toBe('filters=%7B%7D');
  });
});

describe('Ownership.scopedQuery', () => {
  const ownership = new Ownership({ upstream: { getJson: () => Promise.reject(new Error('no lookups here')) }, label: 'dockgate.owner', owner: 'team-a' });
  const route = (method: string, url: string) => {
    const c = classify(method, url);
    if (!c.ok) throw new Error(c.message);
    return c.route;
  };

  test.each([
    ['GET', '/v1.47/containers/json?all=1'],
    ['GET', '/volumes'],
    ['GET', '/networks?filters=%7B%22name%22%3A%5B%22x%22%5D%7D'],
    ['GET', '/images/json'],
    ['GET', '/events?since=1'],
    ['POST', '/containers/prune'],
    ['POST', '/volumes/prune?filters=%7B%22all%22%3A%5B%22true%22%5D%7D'],
    ['POST', '/networks/prune'],
    ['POST', '/images/prune'],
  ])('%s %s gets the owner filter, and only one filters parameter', (method, url) => {
    const r = route(method, url);
    const raw = ownership.scopedQuery(r);
    expect(raw).toBeDefined();
    const q = query(raw!);
    expect(q.filters).toHaveLength(1);
    const filters = parseFilters(q.filters![0]);
    expect(filters.label).toEqual({ 'dockgate.owner=team-a': true });
    const before = parseFilters(r.query.filters?.[0]);
    for (const [name, values] of Object.entries(before)) expect(filters[name]).toEqual(values);
    expect(canonicalTarget({ ...r, rawQuery: raw! })).toContain('filters=');
  });

  test('builds get the owner label on the image, replacing a claimed one', () => {
    const r = route('POST', `/build?t=x&labels=${encodeURIComponent('{"dockgate.owner":"team-b","keep":"1"}')}`);
    const q = query(ownership.scopedQuery(r)!);
    expect(JSON.parse(q.labels![0]!)).toEqual({ 'dockgate.owner': 'team-a', keep: '1' });
    expect(q.t).toEqual(['x']);
  });

  test('other routes are left alone; bad filters are refused', () => {
    expect(ownership.scopedQuery(route('GET', '/containers/x/json'))).toBeUndefined();
    expect(() => ownership.scopedQuery(route('GET', '/containers/json?filters=%7B'))).toThrow(FilterError);
  });
});

describe('owners and not-found answers', () => {
  test('the owner label is read where each kind keeps its labels', () => {
    expect(ownerOf('container', { Config: { Labels: { o: 'a' } } }, 'o')).toBe('a');
    expect(ownerOf('volume', { Labels: { o: 'b' } }, 'o')).toBe('b');
    expect(ownerOf('network', { Labels: null }, 'o')).toBe('');
    expect(ownerOf('container', { Labels: { o: 'a' } }, 'o')).toBe('');
  });

  test('the daemon\'s 404 messages', () => {
    expect(notFound('container', 'web')).toEqual({ status: 404, message: 'No such container: web' });
    expect(notFound('container', 'web', 'kill').message).toBe('Cannot kill container: web: No such container: web');
    expect(notFound('volume', 'v').message).toBe('get v: no such volume');
    expect(notFound('network', 'n').message).toBe('network n not found');
    expect(notFound('exec', 'e').message).toBe('No such exec instance: e');
    expect(notFound('image', 'x:1', 'inspect').message).toBe('no such image: x:1: No such image: x:1');
    expect(notFound('image', 'x:1', 'delete').message).toBe('No such image: x:1');
  });
});

describe('config: ownership and ownerLabel', () => {
  const load = (yaml: string) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dgt-cfg-'));
    const file = path.join(dir, 'dockgate.yaml');
    writeFileSync(file, yaml);
    try {
      return loadConfigFile(file, {});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const listener = (extra: string) => `listeners:\n  - name: t\n    unix: { path: /tmp/t.sock }\n${extra}`;

  test('defaults: no ownership, dockgate.owner', () => {
    const c = load(listener(''));
    expect(c.ownerLabel).toBe('dockgate.owner');
    expect(c.listeners[0]!.ownership).toBeUndefined();
  });

  test('read from the file', () => {
    const c = load(`ownerLabel: example.com/owner\n${listener('    ownership: true\n')}`);
    expect(c.ownerLabel).toBe('example.com/owner');
    expect(c.listeners[0]!.ownership).toBe(true);
  });

  test('bad values are errors', () => {
    expect(() => load(listener('    ownership: yes please\n'))).toThrow(ConfigError);
    expect(() => load(`ownerLabel: "a=b"\n`)).toThrow(/ownerLabel/);
    expect(() => load(`ownerLabel: ""\n`)).toThrow(/ownerLabel/);
  });
});

describe('ownEventsFilter', () => {
  const run = async (chunks: string[]): Promise<string> => {
    const f = ownEventsFilter('dockgate.owner', 'me');
    const out: Buffer[] = [];
    f.on('data', (c: Buffer) => out.push(c));
    const ended = new Promise((r) => f.on('end', r));
    for (const c of chunks) f.write(Buffer.from(c));
    f.end();
    await ended;
    return Buffer.concat(out).toString('utf8');
  };
  const ev = (owner: string | null, name: string) =>
    JSON.stringify({ Type: 'container', Action: 'start', Actor: { ID: name, Attributes: owner === null ? { name } : { name, 'dockgate.owner': owner } } });

  test('keeps the caller\'s messages only, across chunk boundaries', async () => {
    const text = [ev('me', 'a'), ev('other', 'b'), ev(null, 'c'), '{not json', ev('me', 'd')].join('\n') + '\n';
    const out = await run([text.slice(0, 17), text.slice(17, 90), text.slice(90)]);
    expect(out).toBe(`${ev('me', 'a')}\n${ev('me', 'd')}\n`);
  });

  test('a last message without its newline is judged too', async () => {
    expect(await run([`${ev('other', 'x')}\n${ev('me', 'y')}`])).toBe(ev('me', 'y'));
    expect(await run([ev('other', 'x')])).toBe('');
  });
});

describe('Ownership.check (lookups answered by a stub daemon)', () => {
  const route = (method: string, url: string) => {
    const c = classify(method, url);
    if (!c.ok) throw new Error(c.message);
    return c.route;
  };
  const own = (owner: string) => ({ Id: 'c1', Name: '/web', Config: { Labels: { 'dockgate.owner': owner } } });
  const daemon = (answers: Record<string, { status: number; body: unknown }>) => ({
    getJson: (p: string) => {
      const a = answers[p];
      return a ? Promise.resolve(a) : Promise.reject(new Error(`connect ENOENT (asked ${p})`));
    },
  });
  const input = (extra: Partial<PolicyInput> = {}): PolicyInput => ({
    uid: 'u', kind: 'x', operation: 'x', request: { method: 'GET', path: '/', query: {} },
    userInfo: { username: 'team-a', groups: [], listener: 'l', authenticatedBy: 'unix' }, dryRun: false, ...extra,
  });

  test('an exec is judged by its container; a failed container lookup throws (the gate denies)', async () => {
    const exec = { ID: 'e1', ContainerID: 'c1' };
    const ok = new Ownership({ upstream: daemon({ '/containers/c1/json': { status: 200, body: own('team-a') } }), label: 'dockgate.owner', owner: 'team-a' });
    expect(await ok.check(route('POST', '/exec/e1/resize?h=1&w=1'), input({ oldObject: exec }), undefined)).toBeNull();
    const theirs = new Ownership({ upstream: daemon({ '/containers/c1/json': { status: 200, body: own('team-b') } }), label: 'dockgate.owner', owner: 'team-a' });
    expect(await theirs.check(route('POST', '/exec/e1/resize?h=1&w=1'), input({ oldObject: exec }), undefined)).toEqual(notFound('exec', 'e1'));
    const broken = new Ownership({ upstream: daemon({ '/containers/c1/json': { status: 500, body: { message: 'boom' } } }), label: 'dockgate.owner', owner: 'team-a' });
    await expect(broken.check(route('POST', '/exec/e1/resize?h=1&w=1'), input({ oldObject: exec }), undefined)).rejects.toThrow(LookupError);
    const down = new Ownership({ upstream: daemon({}), label: 'dockgate.owner', owner: 'team-a' });
    await expect(down.check(route('POST', '/commit?container=web'), input(), {})).rejects.toThrow(LookupError);
  });

  test('a missing target answers the daemon\'s 404 here (not sent on); an unlabelled one is nobody\'s', async () => {
    const o = new Ownership({ upstream: daemon({}), label: 'dockgate.owner', owner: 'team-a' });
    expect(await o.check(route('POST', '/containers/web/stop'), input(), undefined)).toEqual(notFound('container', 'web', 'stop'));
    expect(await o.check(route('POST', '/containers/web/kill'), input({ oldObject: { Config: { Labels: {} } } }), undefined)).toEqual(notFound('container', 'web', 'kill'));
  });

  test('an owner without a name owns nothing', async () => {
    const o = new Ownership({ upstream: daemon({}), label: 'dockgate.owner', owner: '' });
    expect(await o.check(route('GET', '/volumes/v'), input({ oldObject: { Labels: {} } }), undefined)).toEqual(notFound('volume', 'v'));
  });

  test('a create under a name someone else holds is a conflict; an id-prefix match is not', async () => {
    const o = new Ownership({
      upstream: daemon({
        '/volumes/data': { status: 200, body: { Name: 'data', Labels: { 'dockgate.owner': 'team-b' } } },
        '/networks/abc': { status: 200, body: { Name: 'abcdef-net', Id: 'abc123', Labels: { 'dockgate.owner': 'team-b' } } },
      }),
      label: 'dockgate.owner',
      owner: 'team-a',
    });
    expect((await o.check(route('POST', '/volumes/create'), input(), { Name: 'data' }))?.status).toBe(409);
    expect(await o.check(route('POST', '/networks/create'), input(), { Name: 'abc' })).toBeNull();
  });
});
