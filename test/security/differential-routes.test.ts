import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { classify } from '../../src/http/classify.js';
import { createAtDaemon, removeByPrefix } from '../support/daemon-state.js';
import { engineRequest, type EngineResponse } from '../support/engine-api.js';
import { uniqueName, useDockgate } from '../support/fixtures.js';
import { fuzzBudget } from '../support/fuzz-run.js';

// Differential routing against the real daemon (issue 9): generated request paths (version
// prefixes, percent-encodings, dot segments, doubled slashes, case) are sent straight to dockerd
// and through dockgate (allow-all). Either dockgate refuses the path, or the daemon does the same
// thing with it both ways and dockgate's classification names what the daemon acted on: the
// object the policy was asked about is the object the daemon served.

const env = useDockgate();
const prefix = uniqueName('droute');
const budget = fuzzBudget(150);
const tally = { refused: 0, sameMiss: 0, sameObject: 0 };
let container = { id: '', name: '' };
let volume = '';

beforeAll(async () => {
  const f = env();
  container = { name: `${prefix}-c`, id: '' };
  container.id = await createAtDaemon(f.dockerSocket, container.name, { Image: f.testImage, Cmd: ['true'] });
  volume = `${prefix}-v`;
  const v = await engineRequest(f.dockerSocket, 'POST', '/volumes/create', { body: JSON.stringify({ Name: volume }) });
  expect(v.status, v.text()).toBe(201);
});

afterAll(async () => {
  await removeByPrefix(env().dockerSocket, prefix);
  console.log(`[differential-routes] seed ${budget.seed}: ${JSON.stringify(tally)}`);
});

const pctEncode = (c: string) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** One path segment, spelled with some characters percent-encoded (either case) and its case changed. */
function segment(s: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.constant(s) },
    fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map((m) => [...s].map((c, i) => (m[i] ? pctEncode(c) : c)).join('')),
    fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map((m) => [...s].map((c, i) => (m[i] ? pctEncode(c).toUpperCase() : c)).join('')),
    fc.constant(s.toUpperCase()),
    fc.constant(s.charAt(0).toUpperCase() + s.slice(1)),
  );
}

const version = fc.constantFrom('', '/v1.41', '/v1.41', '/v1.24', '/v1.041', '/v01.41', '/v1', '/v1.41.0', '/V1.41', '/v.41', '/v1..41', '/v9.99', '/v1.41/', '/%761.41');

/** Separators between segments: plain, doubled, a dot segment, a detour through "..", an encoded slash. */
const separator = fc.oneof(
  { weight: 8, arbitrary: fc.constant('/') },
  fc.constantFrom('//', '/./', '/x/../', '/%2e/', '/%2E%2E/x/', '%2f', '/;/'),
);

function pathOf(segments: string[]): fc.Arbitrary<string> {
  return fc
    .tuple(version, fc.tuple(...segments.map(segment)), fc.array(separator, { minLength: segments.length, maxLength: segments.length }), fc.constantFrom('', '', '/', '?', '#x', '?a=1'))
    .map(([v, segs, seps, tail]) => v + segs.map((s, i) => seps[i] + s).join('') + tail);
}

/** The object a 200 answer describes. */
function servedObject(kind: 'container' | 'volume', res: EngineResponse): string | undefined {
  if (res.status !== 200) return undefined;
  const body = res.json<{ Id?: string; Name?: string }>();
  return kind === 'container' ? body.Id : body.Name;
}

const messageOf = (r: EngineResponse) => {
  try {
    return String(r.json<{ message?: unknown }>().message ?? '');
  } catch {
    return '';
  }
};

async function checkPath(kind: 'container' | 'volume', path: string): Promise<void> {
  const f = env();
  const [direct, gated] = await Promise.all([engineRequest(f.dockerSocket, 'GET', path), engineRequest(f.dockgate.socketPath, 'GET', path)]);
  const c = classify('GET', path);
  const context = `GET ${JSON.stringify(path)}\n classified: ${JSON.stringify(c.ok ? { kind: c.route.kind, operation: c.route.operation, target: c.route.target, v: c.route.apiVersion } : c)}\n direct: ${direct.status} ${direct.text().slice(0, 200)}\n dockgate: ${gated.status} ${gated.text().slice(0, 200)}`;
  if (gated.status >= 400 && messageOf(gated).startsWith('dockgate:')) {
    tally.refused++;
    return;
  }
  const want = servedObject(kind, direct);
  const got = servedObject(kind, gated);
  expect(gated.status, `the daemon answered the path differently through dockgate\n${context}`).toBe(direct.status);
  expect(got, `a different object was served through dockgate\n${context}`).toBe(want);
  if (got === undefined) {
    tally.sameMiss++;
    return;
  }
  // The daemon served an object: the policy must have been asked about exactly that one.
  expect(c.ok, context).toBe(true);
  if (!c.ok) return;
  expect([c.route.kind, c.route.operation], context).toEqual([kind, 'inspect']);
  const target = c.route.target ?? '';
  const names = kind === 'container' ? [container.name, `/${container.name}`, container.id] : [volume];
  expect(names.includes(target) || (kind === 'container' && target.length >= 1 && container.id.startsWith(target)), `classified target ${target} is not the object served\n${context}`).toBe(true);
  tally.sameObject++;
}

describe('differential: dockgate classifies a path as the daemon routes it', () => {
  test('container inspect paths', { timeout: budget.timeoutMs }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(container.name, container.id, container.id.slice(0, 12)).chain((t) => pathOf(['containers', t, 'json'])), (p) => checkPath('container', p)),
      budget.params,
    );
  });

  test('volume inspect paths', { timeout: budget.timeoutMs }, async () => {
    await fc.assert(fc.asyncProperty(pathOf(['volumes', volume]), (p) => checkPath('volume', p)), budget.params);
  });

  test('the generators reach both outcomes (the differential is not vacuous)', () => {
    expect(tally.sameObject).toBeGreaterThan(0);
    expect(tally.refused + tally.sameMiss).toBeGreaterThan(0);
  });
});
