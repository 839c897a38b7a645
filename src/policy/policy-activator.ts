// Turns bundle bytes (from a file or a bundle server) into the policy in force. A bundle that does
// not parse, verify or compile changes nothing: it is logged and counted, and the previous policy
// keeps serving. Activations run one at a time, in the order they were asked for.
import { createHash } from 'node:crypto';
import type { Logger } from '../log/logger.js';
import { parseBundleFrom, readBundleFile } from './bundle.js';
import { engineFromBundle, type PolicySelection } from './default-policy.js';
import type { PolicyEngine } from './engine.js';
import { describeThrown } from './policy-error.js';
import { NO_STATS, type PolicyStats, type PolicyStore } from './policy-store.js';

export interface PolicyActivatorOptions {
  store: PolicyStore;
  /** Entrypoint, parameters and verification keys; the bundle itself comes with each call. */
  selection: Omit<PolicySelection, 'bundle'>;
  log: Logger;
  stats?: PolicyStats;
}

export class PolicyActivator {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly stats: PolicyStats;

  constructor(private readonly opts: PolicyActivatorOptions) {
    this.stats = opts.stats ?? NO_STATS;
  }

  /** Parses, verifies, compiles and swaps in. Throws PolicyError when the bundle is refused. */
  activate(bytes: Buffer, source: string, reason: string): Promise<PolicyEngine> {
    const run = this.queue.then(() => this.swap(bytes, source, reason));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** activate(), with a refusal logged and counted instead of thrown. True when it took effect. */
  async tryActivate(bytes: Buffer, source: string, reason: string): Promise<boolean> {
    try {
      await this.activate(bytes, source, reason);
      return true;
    } catch (err) {
      const message = describeThrown(err);
      this.opts.log.error({ source, reason, err: message, revision: this.opts.store.policy?.engine.revision }, 'policy bundle rejected; the previous policy stays in force');
      this.stats.policyReloadFailed(reason);
      return false;
    }
  }

  /**
   * Reads a bundle file again. `force` (SIGHUP) reloads even when the bytes are unchanged; a file
   * watcher's event for identical bytes (a touch, a rewrite of the same build) does nothing.
   */
  async reloadFile(path: string, reason: string, force: boolean): Promise<boolean> {
    let bytes: Buffer;
    try {
      bytes = await readBundleFile(path);
    } catch (err) {
      this.opts.log.error({ source: path, reason, err: describeThrown(err) }, 'policy bundle rejected; the previous policy stays in force');
      this.stats.policyReloadFailed(reason);
      return false;
    }
    if (!force && this.opts.store.policy?.digest === digestOf(bytes)) return false;
    return this.tryActivate(bytes, path, reason);
  }

  private async swap(bytes: Buffer, source: string, reason: string): Promise<PolicyEngine> {
    const bundle = parseBundleFrom(bytes, source);
    const engine = await engineFromBundle(bundle, this.opts.selection, source);
    const previous = this.opts.store.policy?.engine.revision;
    this.opts.store.activate({ engine, source, digest: digestOf(bytes), activatedAt: new Date() });
    this.opts.log.info({ source, reason, revision: engine.revision, previousRevision: previous, entrypoint: engine.entrypoint }, 'policy activated');
    this.stats.policyLoaded(engine.revision);
    return engine;
  }
}

function digestOf(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
