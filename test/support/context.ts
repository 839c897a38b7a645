import { inject } from 'vitest';

// What test/support/global-setup.ts hands to the engine tests (vitest provide/inject).
declare module 'vitest' {
  export interface ProvidedContext {
    /** unix://… of the daemon under test (private, or DOCKGATE_TEST_DOCKER_HOST). */
    dockerHost: string;
    /** The same daemon's socket path, for direct Engine API assertions. */
    dockerSocket: string;
    /** The busybox image every engine test runs. */
    testImage: string;
    /** True when the daemon is the private one the setup started (everything on it is ours). */
    privateDaemon: boolean;
  }
}

export interface EngineContext {
  dockerHost: string;
  dockerSocket: string;
  testImage: string;
  privateDaemon: boolean;
}

/** The daemon and image of this test run; call inside a test file (not at module load of support code). */
export function engineContext(): EngineContext {
  return {
    dockerHost: inject('dockerHost'),
    dockerSocket: inject('dockerSocket'),
    testImage: inject('testImage'),
    privateDaemon: inject('privateDaemon'),
  };
}
