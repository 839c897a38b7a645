import { execFileSync } from 'node:child_process';
import type https from 'node:https';
import { isTcpListener, unixIdentity, type DockgateConfig, type ListenerConfig, type UnixListenerConfig } from '../config/config.js';
import { limitConnections, type RefusedConnection } from '../listener/connection-limit.js';
import { ListenerError, listenUnix } from '../listener/unix-socket.js';
import { createLoggerFor, type Logger } from '../log/logger.js';
import { DecisionPool } from '../admission/decision-pool.js';
import type { Evaluator } from '../admission/decide.js';
import { PolicyEngine } from '../policy/engine.js';
import type { AdminServer, Readiness } from '../admin/admin-server.js';
import { AdmissionGate } from '../admission/gate.js';
import type { DockgateMetrics } from '../metrics/metrics.js';
import type { DecisionLine } from '../audit/decision-log.js';
import type { PolicyInput } from '../policy/contract.js';
import { startPolicyDistribution } from '../policy/distribution.js';
import { packageVersion } from './version.js';
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

/** A started listener: where it listens, and how it stops accepting. */
interface Started {
  proxy: ProxyServer;
  /** Removes what the listener created (the socket file); the proxy's shutdown stops accepting. */
  close(): Promise<void>;
}

// Unix: the http.Server accepts on the socket itself; whoever can open the socket is the
// listener's identity.
async function startUnix(l: UnixListenerConfig, proxy: ProxyServer, log: Logger, upstream: string): Promise<Started> {
  const uid = resolveId(l.unix.owner, 'passwd');
  const gid = resolveId(l.unix.group, 'group');
  const bound = await listenUnix(proxy.server, {
    path: l.unix.path,
    mode: l.unix.mode,
    ...(uid !== undefined ? { uid } : {}),
    ...(gid !== undefined ? { gid } : {}),
  });
  log.info({ socket: l.unix.path, upstream, maxConnections: l.maxConnections }, `dockgate listening; use DOCKER_HOST=unix://${l.unix.path}`);
  return { proxy, close: () => bound.remove() };
}

/** Runs the proxy until SIGINT/SIGTERM. Resolves with the process exit code. */
export async function serve(config: DockgateConfig): Promise<number> {
  const log = await createLoggerFor(config.logFormat, config.logLevel);
  const upstreamAddress = parseUpstream(config.upstream);
  for (const l of config.listeners) {
    if (!isTcpListener(l) && upstreamAddress.kind === 'unix' && upstreamAddress.socketPath === l.unix.path) {
      throw new ListenerError(`listener ${l.name} would listen on the upstream socket ${l.unix.path} itself`);
    }
  }
  // Metrics are kept only when something serves them.
  // Loaded only when served: prom-client (with the OpenTelemetry API it brings) is ~2 MiB of heap
  // that an idle dockgate without --admin would otherwise hold.
  const metrics: DockgateMetrics | undefined = config.admin ? new (await import('../metrics/metrics.js')).DockgateMetrics({ version: packageVersion() }) : undefined;
  // Likewise what only some configurations use: TLS (node:tls and node:https, the TCP listeners),
  // the decision log sinks and the admin server. A dockgate on unix sockets alone settles ~2 MiB
  // smaller without them (bench/FINDINGS.md, "Memory"; a unit test checks the module graph).
  const tlsListener = config.listeners.some(isTcpListener) ? await import('../listener/tls-listener.js') : undefined;
  const policy = await startPolicyDistribution({ config, log, ...(metrics ? { stats: metrics } : {}) });
  const { store } = policy;
  if (config.mode === 'audit') log.warn({ mode: 'audit' }, 'audit mode: policy denials are logged and counted, not enforced');
  const decisionLogger = config.decisionLogs ? new (await import('../decision-log/decision-logger.js')).DecisionLogger({ config: config.decisionLogs, log, version: packageVersion(), ...(metrics ? { stats: metrics } : {}) }) : undefined;
  const decisionLog = decisionLogger ? { decisionLog: decisionLogger.record.bind(decisionLogger) } : {};
  const upstream = new Upstream(upstreamAddress);
  const pool = config.policyWorkers > 0 ? new DecisionPool({ workers: config.policyWorkers, deadlineMs: config.policyDeadlineMs, inlineSteps: config.policyInlineSteps, log, ...(metrics ? { stats: metrics } : {}) }) : undefined;
  if (pool && metrics) metrics.countPolicyWorkers(() => pool.stats.workers);
  const offload = pool ? { offload: (e: Evaluator) => (e instanceof PolicyEngine ? (input: PolicyInput) => pool.decide(e, input) : undefined) } : {};

  // One http.Server per listener: a caller's identity is a property of the connection it came in
  // on, and each listener's connection limit is its own.
  const started: Started[] = [];
  const start = async (l: ListenerConfig): Promise<Started> => {
    const listenerLog = log.child({ listener: l.name });
    const headersTimeoutMs = l.headersTimeoutSeconds * 1000;
    const tcp = isTcpListener(l);
    const refused = metrics ? (reason: RefusedConnection) => metrics.connectionRefused(l.name, reason) : undefined;
    const gate = new AdmissionGate({
      upstream,
      evaluator: () => store.current(),
      identity: tcp ? tlsListener!.certificateIdentity(l, listenerLog, refused) : unixIdentity(l),
      log: listenerLog,
      listenerName: l.name,
      mode: config.mode,
      ownerLabel: config.ownerLabel,
      ...(l.ownership ? { ownership: true } : {}),
      ...decisionLog,
      ...offload,
      ...(metrics ? { onDecision: (line: DecisionLine) => metrics.decision(line) } : {}),
    });
    const proxy = createProxyServer({
      upstream,
      gate,
      log: listenerLog,
      headersTimeoutMs,
      listener: l.name,
      ...(metrics ? { metrics } : {}),
      ...(tcp ? { tls: tlsListener!.mutualTlsOptions(l, headersTimeoutMs) } : {}),
    });
    limitConnections(proxy.server, l.maxConnections, listenerLog, refused);
    if (!tcp) return startUnix(l, proxy, listenerLog, config.upstream);
    tlsListener!.logRefusedHandshakes(proxy.server as https.Server, listenerLog, refused);
    const address = await tlsListener!.listenTcp(proxy.server, l);
    listenerLog.info({ address, upstream: config.upstream, maxConnections: l.maxConnections }, `dockgate listening with mutual TLS; use DOCKER_HOST=tcp://${address} DOCKER_TLS_VERIFY=1`);
    return { proxy, close: async () => undefined };
  };
  let stopping = false;
  let admin: AdminServer | undefined;
  const readiness = async (): Promise<Readiness> => {
    if (stopping) return { ready: false, reason: 'shutting down' };
    if (!store.loaded) return { ready: false, reason: 'no policy bundle is active yet' };
    try {
      const status = await upstream.ping(2000);
      return status === 200 ? { ready: true } : { ready: false, reason: `the Docker daemon at ${config.upstream} answered _ping with ${status}` };
    } catch (err) {
      return { ready: false, reason: `the Docker daemon at ${config.upstream} does not answer _ping: ${(err as Error).message}` };
    }
  };
  try {
    for (const l of config.listeners) started.push(await start(l));
    if (config.admin && metrics) admin = await (await import('../admin/admin-server.js')).startAdminServer({ address: config.admin, log, metrics: () => metrics.render(), readiness });
  } catch (err) {
    policy.close();
    await pool?.close();
    await decisionLogger?.close();
    for (const s of started) {
      s.proxy.server.close();
      await s.close();
    }
    throw err;
  }

  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      const hijacked = started.reduce((n, s) => n + s.proxy.hijacked.size, 0);
      log.info({ signal, graceSeconds: config.shutdownGraceSeconds, hijacked }, 'shutting down: no new connections; requests in flight finish, streams get the grace period');
      policy.close();
      void Promise.all(
        started.map(async (s) => {
          // Stop accepting first, then remove the socket file while in-flight work goes on.
          const drained = s.proxy.shutdown(config.shutdownGraceSeconds * 1000);
          await s.close();
          await drained;
        }),
      )
        .then(() => upstream.close())
        .then(() => pool?.close())
        // Decisions made until the end are shipped (one last upload attempt) before exiting.
        .then(() => decisionLogger?.close())
        // Last: /readyz says "shutting down" until the end.
        .then(() => admin?.close())
        .then(() => {
          log.info('stopped');
          log.flush();
          resolve(0);
        });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
