import { execFileSync } from 'node:child_process';
import type { DockgateConfig, ListenerConfig } from '../config/config.js';
import { ListenerError, listenUnix, type BoundUnixSocket } from '../listener/unix-socket.js';
import { createLoggerFor } from '../log/logger.js';
import { AdmissionGate } from '../admission/gate.js';
import { startPolicyDistribution } from '../policy/distribution.js';
import { createProxyServer, type ProxyServer } from '../proxy/server.js';
import { parseUpstream } from '../upstream/address.js';
import { Upstream } from '../upstream/client.js';

// Numeric ids pass through; names are looked up the way the system does (getent).
function resolveId(value: string | number | undefined, db: 'passwd' | 'group'): number | undefined {
  if (value === undefined || typeof value === 'number') return value;
  if (/^\d+$/.test(value)) return Number(value);
  try {
    const line = execFileSync('getent', [db, value], { encoding: 'utf8' });
    return Number(line.split(':')[2]);
  } catch {
    throw new ListenerError(`unknown ${db === 'passwd' ? 'user' : 'group'} "${value}"`);
  }
}

async function startListener(l: ListenerConfig, proxy: ProxyServer): Promise<BoundUnixSocket> {
  const uid = resolveId(l.unix.owner, 'passwd');
  const gid = resolveId(l.unix.group, 'group');
  return listenUnix(proxy.server, {
    path: l.unix.path,
    mode: l.unix.mode,
    ...(uid !== undefined ? { uid } : {}),
    ...(gid !== undefined ? { gid } : {}),
  });
}

/** Runs the proxy until SIGINT/SIGTERM. Resolves with the process exit code. */
export async function serve(config: DockgateConfig): Promise<number> {
  const log = await createLoggerFor(config.logFormat, config.logLevel);
  const upstreamAddress = parseUpstream(config.upstream);
  for (const l of config.listeners) {
    if (upstreamAddress.kind === 'unix' && upstreamAddress.socketPath === l.unix.path) {
      throw new ListenerError(`listener ${l.name} would listen on the upstream socket ${l.unix.path} itself`);
    }
  }
  const policy = await startPolicyDistribution({ config, log });
  const { store } = policy;
  if (config.mode === 'audit') log.warn({ mode: 'audit' }, 'audit mode: policy denials are logged and counted, not enforced');
  const upstream = new Upstream(upstreamAddress);

  // One http.Server per listener: a listener's identity is a property of the socket it came in on.
  const started: { proxy: ProxyServer; bound: BoundUnixSocket }[] = [];
  try {
    for (const l of config.listeners) {
      const listenerLog = log.child({ listener: l.name });
      const gate = new AdmissionGate({
        upstream,
        evaluator: () => store.current(),
        identity: {
          username: l.identity.username,
          groups: l.identity.groups,
          listener: l.name,
          authenticatedBy: 'unix',
          ...(l.profile !== undefined ? { profile: l.profile } : {}),
        },
        log: listenerLog,
        mode: config.mode,
      });
      const proxy = createProxyServer({ upstream, gate, log: listenerLog });
      started.push({ proxy, bound: await startListener(l, proxy) });
      log.info({ listener: l.name, socket: l.unix.path, upstream: config.upstream }, `dockgate listening; use DOCKER_HOST=unix://${l.unix.path}`);
    }
  } catch (err) {
    policy.close();
    for (const s of started) {
      s.proxy.server.close();
      await s.bound.remove();
    }
    throw err;
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      policy.close();
      void Promise.all(
        started.map(async (s) => {
          await s.bound.remove();
          await s.proxy.shutdown(config.shutdownGraceSeconds * 1000);
        }),
      ).then(() => {
        log.info('stopped');
        log.flush();
        resolve(0);
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
