// Where the policy in force comes from, and how it is kept current: a bundle file (reloaded when
// it changes and on SIGHUP), or the embedded default. Returns the store the gates read from.
import type { DockgateConfig } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import { watchBundleFile, type FileWatch } from './bundle-watcher.js';
import { EMBEDDED_BUNDLE } from './default-policy.js';
import { PolicyActivator } from './policy-activator.js';
import { readBundleFile } from './bundle.js';
import { NO_STATS, PolicyStore, type PolicyStats } from './policy-store.js';

export interface PolicyDistribution {
  store: PolicyStore;
  /** Stops watching and polling (SIGTERM). */
  close(): void;
}

export interface DistributionOptions {
  config: DockgateConfig;
  log: Logger;
  stats?: PolicyStats;
}

/**
 * Activates the configured bundle (a bad one at startup is an error: dockgate does not start
 * without a policy), then keeps it current.
 */
export async function startPolicyDistribution({ config, log, stats = NO_STATS }: DistributionOptions): Promise<PolicyDistribution> {
  const file = config.policy ?? EMBEDDED_BUNDLE;
  const store = new PolicyStore(file);
  const activator = new PolicyActivator({
    store,
    selection: { ...(config.policyEntrypoint !== undefined ? { entrypoint: config.policyEntrypoint } : {}) },
    log,
    stats,
  });
  await activator.activate(await readBundleFile(file), file, 'startup');

  let reloading = Promise.resolve<unknown>(undefined);
  const reload = (reason: string, force: boolean) => {
    reloading = reloading.then(() => activator.reloadFile(file, reason, force));
  };
  // The embedded bundle is part of the installed package: only SIGHUP re-reads it.
  const watch: FileWatch | undefined = config.policy !== undefined ? watchBundleFile(file, () => reload('file changed', false)) : undefined;
  const onHup = () => {
    log.info({ source: file }, 'SIGHUP: reloading the policy bundle');
    reload('SIGHUP', true);
  };
  process.on('SIGHUP', onHup);
  return {
    store,
    close() {
      watch?.close();
      process.off('SIGHUP', onHup);
    },
  };
}
