import { describe, expect, it } from 'vitest';
import { MALLOC_SETTINGS, withMallocSettings } from '../../src/runtime/malloc-env.js';

describe('withMallocSettings', () => {
  it('adds the malloc settings to the environment, leaving the rest as it is', () => {
    const env = withMallocSettings({ PATH: '/usr/bin', DOCKER_HOST: 'unix:///x.sock' });
    expect(env).toEqual({ PATH: '/usr/bin', DOCKER_HOST: 'unix:///x.sock', MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '131072' });
  });

  it("keeps a value the operator has set, even an empty one, and does not change its argument", () => {
    const given = { MALLOC_ARENA_MAX: '8', MALLOC_TRIM_THRESHOLD_: '' };
    expect(withMallocSettings(given)).toEqual(given);
    const bare = {};
    withMallocSettings(bare);
    expect(bare).toEqual({});
  });

  it('only sets variables glibc malloc reads', () => {
    for (const name of Object.keys(MALLOC_SETTINGS)) expect(name).toMatch(/^MALLOC_[A-Z_]+$/);
  });
});
