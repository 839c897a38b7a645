import { describe, expect, test } from 'vitest';
import { parseRequestFile, RequestFileError } from '../../src/offline/request-file.js';

// The request file of `dockgate eval --request`: both forms, and errors instead of guesses.

const parse = (doc: unknown) => parseRequestFile(typeof doc === 'string' ? doc : JSON.stringify(doc), 'req.json');

describe('eval request file', () => {
  test('an HTTP request: a JSON body is serialized with the Content-Type clients send', () => {
    const f = parse({ method: 'post', path: '/v1.41/containers/create', body: { Image: 'alpine' } });
    expect(f.form).toBe('http');
    if (f.form !== 'http') return;
    expect(f.sent.method).toBe('POST');
    expect(f.sent.body?.toString()).toBe('{"Image":"alpine"}');
    expect(f.sent.headers).toEqual({ 'content-type': 'application/json', 'content-length': '18' });
  });

  test('a string body is sent as is, and the file\'s headers are kept (names lower-cased)', () => {
    const f = parse({ method: 'POST', path: '/containers/create', headers: { 'Content-Type': 'text/plain' }, body: '{"Image":' });
    if (f.form !== 'http') throw new Error('expected the HTTP form');
    expect(f.sent.body?.toString()).toBe('{"Image":');
    expect(f.sent.headers['content-type']).toBe('text/plain');
  });

  test('lookup answers are keyed by the inspect path the gate asks for', () => {
    const f = parse({
      method: 'POST',
      path: '/v1.41/containers/web/exec',
      body: { Cmd: ['sh'] },
      oldObject: { Id: 'x' },
      volumes: { data: null },
      lookups: { '/networks/front': { Id: 'n' } },
    });
    if (f.form !== 'http') throw new Error('expected the HTTP form');
    expect([...f.answers]).toEqual([
      ['/containers/web/json', { Id: 'x' }],
      ['/volumes/data', null],
      ['/networks/front', { Id: 'n' }],
    ]);
  });

  test('a policy input is recognised and completed (uid, query, dryRun)', () => {
    const f = parse({ kind: 'container', operation: 'create', request: { method: 'POST', path: '/containers/create' }, object: {} });
    expect(f.form).toBe('input');
    if (f.form !== 'input') return;
    expect(f.input.request.query).toEqual({});
    expect(f.input.dryRun).toBe(false);
    expect(f.hasUserInfo).toBe(false);
  });

  test.each([
    ['not JSON', '{', /not JSON/],
    ['an array', [], /must be a JSON object/],
    ['a misspelt field', { method: 'GET', path: '/info', oldObjct: {} }, /unknown field "oldObjct"/],
    ['no path', { method: 'GET' }, /"path" must be/],
    ['oldObject without a target', { method: 'POST', path: '/containers/create', oldObject: {} }, /no target object/],
    ['a versioned lookup path', { method: 'GET', path: '/info', lookups: { '/v1.41/volumes/x': null } }, /unversioned/],
    ['a non-string header', { method: 'GET', path: '/info', headers: { 'X-A': 1 } }, /header "X-A" must be a string/],
    ['an input without request', { kind: 'container', operation: 'create' }, /needs "request"/],
  ])('%s is an error', (_what, doc, message) => {
    expect(() => parse(doc)).toThrow(RequestFileError);
    expect(() => parse(doc)).toThrow(message);
  });
});
