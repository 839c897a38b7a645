// Where the policy in force comes from, and how it is kept current: a bundle file (reloaded when
// it changes and on SIGHUP), an OPA bundle server (polled), or the embedded default. Returns the
// store the gates read from.
import type { DockgateConfig } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import type { BundleVerification } from './bundle-signature.js';
import { watchBundleFile, type FileWatch } from './bundle-watcher.js';
import { EMBEDDED_BUNDLE } from './default-policy.js';
import { PolicyActivator } from './policy-activator.js';
import { readBundleFile } from './bundle.js';
import { BundleClient } from './bundle-client.js';
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

/** Which entrypoint of a bundle is used and how its signature is checked, from the config. */
export function policySelection(config: DockgateConfig): { entrypoint?: string; verification?: BundleVerification } {
  return {
    ...(config.policyEntrypoint !== undefined ? { entrypoint: config.policyEntrypoint } : {}),
    ...(config.bundleSigning !== undefined ? { verification: config.bundleSigning } : {}),
  };
}

/**
 * Activates the configured bundle (a bad one at startup is an error: dockgate does not start
 * without a policy), then keeps it current.
 */
export async function startPolicyDistribution({ config, log, stats = NO_STATS }: DistributionOptions): Promise<PolicyDistribution> {
  const service = config.bundleService;
  const file = config.policy ?? EMBEDDED_BUNDLE;
  const store = new PolicyStore(service?.url ?? file);
  const activator = new PolicyActivator({
    store,
    selection: policySelection(config),
    log,
    stats,
  });

  if (service) {
    // Until a first bundle is in force every request is refused (fail closed); startup waits for
    // one download attempt so a reachable server's policy is in force before anyone connects.
    const client = new BundleClient({ service, activator, log, stats });
    await client.start();
    if (!store.loaded) log.error({ source: service.url }, 'no policy bundle yet: every request is refused until one is downloaded');
    const onHup = () => {
      log.info({ source: service.url }, 'SIGHUP: polling the bundle server');
      client.pollNow();
    };
    process.on('SIGHUP', onHup);
    return {
      store,
      close() {
        client.close();
        process.off('SIGHUP', onHup);
      },
    };
  }

  await activator.activate(await readBundleFile(file), file, 'startup');

  let reloading = Promise.resolve<unknown>(undefined);
  const reload = (reason: string, force: boolean) => {
    reloading = reloading.then(() => activator.reloadFile(file, reason, force));
  };
  // The embedded bundle is part of the installed package: only SIGHUP re-reads it.
  const watchFailed = (err: Error) =>
    log.error({ source: file, err: err.message }, 'cannot watch the policy bundle for changes; it is reloaded on SIGHUP only');
  const watch: FileWatch | undefined = config.policy !== undefined ? watchBundleFile(file, () => reload('file changed', false), watchFailed) : undefined;
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
