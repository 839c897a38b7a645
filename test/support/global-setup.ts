import type { TestProject } from 'vitest/node';
import { ensureDistBuilt } from './build-dist.js';
import { TEST_IMAGE, buildTestImage, cleanupTestObjects, startPrivateDockerd, type PrivateDockerd } from './dockerd.js';
import { waitForPing } from './engine-api.js';
import { ensurePolicyBundle } from './policy-bundle.js';
import './context.js';

// globalSetup of the `engine` project: build dist/ and the allow-all policy bundle if stale,
// start a private dockerd (unless DOCKGATE_TEST_DOCKER_HOST names a daemon to use), import the
// test image, and hand both to the tests. Teardown removes what the tests left and the private daemon with all its files.
// The host's /var/run/docker.sock is never used.

function externalSocket(): string | undefined {
  const host = process.env.DOCKGATE_TEST_DOCKER_HOST;
  if (!host) return undefined;
  if (!host.startsWith('unix:///')) {
    throw new Error(`DOCKGATE_TEST_DOCKER_HOST=${host}: expected unix:///path/to/docker.sock`);
  }
  return host.slice('unix://'.length);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const build = await ensureDistBuilt();
  if (build === 'built') console.log('[engine setup] dist/ was stale: rebuilt with tsc -p tsconfig.build.json');
  if ((await ensurePolicyBundle('test-allow-all')) === 'built') {
    console.log('[engine setup] built policy/dist/test-allow-all.tar.gz (scripts/build-policy.sh)');
  }

  const external = externalSocket();
  let daemon: PrivateDockerd | undefined;
  let socketPath: string;
  if (external !== undefined) {
    socketPath = external;
    await waitForPing(socketPath, 10_000);
    console.log(`[engine setup] using the daemon at ${socketPath} (DOCKGATE_TEST_DOCKER_HOST)`);
  } else {
    daemon = await startPrivateDockerd();
    socketPath = daemon.socketPath;
    console.log(`[engine setup] private dockerd at ${socketPath} (log ${daemon.logPath})`);
  }
  const host = `unix://${socketPath}`;

  try {
    await buildTestImage(host);
  } catch (e) {
    await daemon?.destroy();
    throw e;
  }

  project.provide('dockerHost', host);
  project.provide('dockerSocket', socketPath);
  project.provide('testImage', TEST_IMAGE);
  project.provide('privateDaemon', daemon !== undefined);

  return async () => {
    if (daemon) await daemon.destroy();
    else await cleanupTestObjects(socketPath, { all: false });
  };
}
