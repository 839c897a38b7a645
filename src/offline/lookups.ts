import type { InspectClient } from '../admission/lookup.js';

/** The version prefix of a lookup path (the gate asks at the request's API version). */
const VERSION_PREFIX = /^\/v[0-9.]+(?=\/)/;

/**
 * Lookups for `dockgate eval`: answers given up front (from the request file, or what the capture
 * daemon holds), then the daemon at --docker-host if there is one; otherwise the lookup fails and
 * the request is refused, as the proxy refuses when it cannot see the daemon.
 */
export class OfflineLookups implements InspectClient {
  constructor(
    private readonly answers: (path: string) => { found: boolean; body: unknown },
    private readonly daemon: InspectClient | undefined,
    private readonly hint: string,
  ) {}

  async getJson(path: string): Promise<{ status: number; body: unknown }> {
    const unversioned = path.replace(VERSION_PREFIX, '');
    const answer = this.answers(unversioned);
    if (answer.found) {
      return answer.body === null ? { status: 404, body: { message: `${unversioned}: not found` } } : { status: 200, body: answer.body };
    }
    if (this.daemon) return this.daemon.getJson(path);
    throw new Error(`no daemon to ask for GET ${unversioned}: ${this.hint}`);
  }
}
