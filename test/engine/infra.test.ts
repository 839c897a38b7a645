import { describe, expect, test } from 'vitest';
import { engineContext } from '../support/context.js';
import { describeResult, runDocker } from '../support/docker-cli.js';
import { engineRequest } from '../support/engine-api.js';
import { LABEL_ARGS } from '../support/fixtures.js';

// The test infrastructure itself, straight at the daemon (no dockgate): when these fail, the
// engine tests' failures are about the environment, not the proxy.

describe('engine test infrastructure', () => {
  test('the daemon answers and is not the host daemon', async () => {
    const { dockerSocket, privateDaemon } = engineContext();
    expect(dockerSocket).not.toBe('/var/run/docker.sock');
    if (privateDaemon) expect(dockerSocket).toMatch(/^\/tmp\/dgt-[^/]+\/docker\.sock$/);
    const ping = await engineRequest(dockerSocket, 'GET', '/_ping');
    expect(ping.status).toBe(200);
    expect(ping.headers['api-version']).toMatch(/^1\.\d+$/);
  });

  test('the test image runs busybox with the applets the tests use', async () => {
    const { dockerHost, testImage } = engineContext();
    const applets = ['sh', 'ls', 'cat', 'echo', 'sleep', 'sha256sum', 'head', 'dd', 'wc', 'id', 'touch', 'mkdir', 'true', 'false', 'env', 'tr', 'seq', 'stat', 'tty', 'find'];
    const r = await runDocker(dockerHost, [
      'run', '--rm', ...LABEL_ARGS, testImage, 'sh', '-c', `for a in ${applets.join(' ')}; do echo $a=$(readlink /bin/$a); done; id -un`,
    ]);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([...applets.map((a) => `${a}=busybox`), 'root']);
  });
});
