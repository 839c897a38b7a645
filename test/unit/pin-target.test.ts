import { describe, expect, it } from 'vitest';
import { pinTarget } from '../../src/admission/gate.js';
import { canonicalTarget, classify, type ClassifiedRoute } from '../../src/http/classify.js';

// The gate forwards an operation on an existing object to the object it judged: the caller's
// reference (name or ID prefix) is replaced by the looked-up full ID.
const ID = 'a'.repeat(64);
const EXEC_ID = 'b'.repeat(64);

function route(method: string, target: string): ClassifiedRoute {
  const r = classify(method, target);
  if (!r.ok) throw new Error(`not classified: ${target}`);
  return r.route;
}

describe('pinTarget', () => {
  it.each([
    ['POST', '/v1.41/containers/web/stop?t=1', { Id: ID }, `/v1.41/containers/${ID}/stop?t=1`],
    ['GET', '/containers/abc/json', { Id: ID }, `/containers/${ID}/json`],
    ['POST', '/v1.44/containers/web/attach?stream=1&stdout=1', { Id: ID }, `/v1.44/containers/${ID}/attach?stream=1&stdout=1`],
    ['DELETE', '/v1.41/networks/backend', { Id: ID }, `/v1.41/networks/${ID}`],
    ['POST', '/v1.41/networks/backend/connect', { Id: ID }, `/v1.41/networks/${ID}/connect`],
    ['POST', '/v1.41/exec/b0b/start', { ID: EXEC_ID }, `/v1.41/exec/${EXEC_ID}/start`],
  ])('%s %s is forwarded by ID', (method, target, old, forwarded) => {
    expect(canonicalTarget(pinTarget(route(method, target), old))).toBe(forwarded);
  });

  it.each([
    ['no looked-up object (the daemon answers its own 404)', 'POST', '/containers/web/stop', undefined],
    ['an ID that is not a full hex ID', 'POST', '/containers/web/stop', { Id: '../../etc' }],
    ['volumes (their name is their identity)', 'DELETE', '/volumes/data', { Name: 'data' }],
    ['images (names hold slashes; lookups resolve tags)', 'DELETE', '/images/library/busybox', { Id: `sha256:${ID}` }],
  ])('leaves the reference alone for %s', (_what, method, target, old) => {
    const r = route(method, target);
    expect(pinTarget(r, old)).toBe(r);
  });
});
