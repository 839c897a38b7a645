import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { BundleVerification } from '../policy/bundle-signature.js';
import {
  DistributionConfigError,
  parseBundleService,
  parseBundleSigning,
  parseDecisionLogs,
  type BundleServiceConfig,
  type DecisionLogsConfig,
} from './distribution-config.js';
import { validateConfigDocument, type SchemaProblem } from './schema.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export type RolloutMode = 'enforce' | 'audit';
export type LogFormat = 'json' | 'pretty';

export type AdminAddress = { kind: 'tcp'; host: string; port: number; url: string } | { kind: 'unix'; path: string; url: string };

export interface Identity {
  username: string;
  groups: string[];
}

export interface ListenerConfig {
  name: string;
  unix: { path: string; mode: number; owner?: string | number; group?: string | number };
  identity: Identity;
  profile?: string;
}

export interface DockgateConfig {
  upstream: string;
  listeners: ListenerConfig[];
  /** Policy bundle (.tar.gz from `opa build` or .wasm); undefined = the embedded default. */
  policy?: string;
  /** Entrypoint to evaluate; default: the bundle's only one, else dockgate/admission/decision. */
  policyEntrypoint?: string;
  /** enforce: denials refuse; audit: denials are only logged and counted (rollout). */
  mode: RolloutMode;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** Where /metrics, /healthz and /readyz are served; undefined = nowhere. */
  admin?: AdminAddress;
  /** How long hijacked streams may run on after SIGTERM before they are cut. */
  shutdownGraceSeconds: number;
  /** Pull the policy from an OPA bundle server instead of a file. */
  bundleService?: BundleServiceConfig;
  /** Keys a bundle must be signed with (OPA .signatures.json); unset: unsigned bundles only. */
  bundleSigning?: BundleVerification;
  /** Ship decisions in OPA's decision-log format. */
  decisionLogs?: DecisionLogsConfig;
}

/** A config that must not start; `problems` are the schema's findings, path by path. */
export class ConfigError extends Error {
  readonly problems: SchemaProblem[];
  constructor(message: string, problems: SchemaProblem[] = []) {
    super(problems.length === 0 ? message : `${message}:\n${problems.map((p) => `  ${p.path}: ${p.reason}`).join('\n')}`);
    this.problems = problems;
  }

  /** One problem at one place (a flag or a JSON path), said in one line. */
  static at(where: string, reason: string): ConfigError {
    const e = new ConfigError(`${where}: ${reason}`);
    (e as { problems: SchemaProblem[] }).problems = [{ path: where, reason }];
    return e;
  }
}

export const DEFAULT_SOCKET_MODE = 0o660;

/** DOCKER_HOST when it names a daemon, else the standard socket. */
export function defaultUpstream(env: NodeJS.ProcessEnv = process.env): string {
  const host = env.DOCKER_HOST;
  if (host && (host.startsWith('unix://') || host.startsWith('tcp://'))) return host;
  return 'unix:///var/run/docker.sock';
}

/** /run/dockgate for root, else the user's runtime dir (or a private dir under /tmp). */
export function defaultListenPath(env: NodeJS.ProcessEnv = process.env): string {
  if (process.getuid?.() === 0) return '/run/dockgate/dockgate.sock';
  if (env.XDG_RUNTIME_DIR) return path.join(env.XDG_RUNTIME_DIR, 'dockgate', 'dockgate.sock');
  return path.join(os.tmpdir(), `dockgate-${process.getuid?.() ?? 'user'}`, 'dockgate.sock');
}

export function parseMode(value: unknown, where: string): number {
  const text = typeof value === 'number' ? value.toString(8) : String(value);
  if (!/^0?[0-7]{3}$/.test(text)) throw ConfigError.at(where, `socket mode must be octal like "0660", got ${JSON.stringify(value)}`);
  return parseInt(text, 8);
}

/**
 * The admin listener: TCP on a loopback address (metrics and health are for the host's own
 * scraper or a sidecar, not the network), or a unix socket.
 */
export function parseAdminAddress(value: string, where: string): AdminAddress {
  const bad = (reason: string) => ConfigError.at(where, reason);
  if (value.startsWith('unix://')) {
    const socketPath = value.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw bad(`the socket path must be absolute, got ${JSON.stringify(value)}`);
    return { kind: 'unix', path: socketPath, url: value };
  }
  const m = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\]):(\d{1,5})$/.exec(value);
  if (!m || Number(m[2]) > 65535) throw bad(`expected a loopback HOST:PORT like 127.0.0.1:9323, or unix:///path, got ${JSON.stringify(value)}`);
  return { kind: 'tcp', host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]), url: value };
}

function defaultIdentity(): Identity {
  return { username: 'default', groups: [] };
}

export function defaultConfig(env: NodeJS.ProcessEnv = process.env): DockgateConfig {
  return {
    upstream: defaultUpstream(env),
    listeners: [
      {
        name: 'default',
        unix: { path: defaultListenPath(env), mode: DEFAULT_SOCKET_MODE },
        identity: defaultIdentity(),
      },
    ],
    mode: 'enforce',
    logLevel: 'info',
    logFormat: 'json',
    shutdownGraceSeconds: 10,
  };
}

type RawDoc = {
  upstream?: string;
  policy?: string;
  policyEntrypoint?: string;
  mode?: RolloutMode;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
  admin?: string;
  shutdownGraceSeconds?: number;
  listeners?: RawListener[];
  bundleService?: unknown;
  bundleSigning?: unknown;
  decisionLogs?: unknown;
};
type RawListener = {
  name: string;
  unix: { path: string; mode?: string | number; owner?: string | number; group?: string | number };
  identity?: { username: string; groups?: string[] };
  profile?: string;
};

function toListener(raw: RawListener, i: number): ListenerConfig {
  const { unix } = raw;
  return {
    name: raw.name,
    unix: {
      path: unix.path,
      mode: unix.mode === undefined ? DEFAULT_SOCKET_MODE : parseMode(unix.mode, `$.listeners[${i}].unix.mode`),
      ...(unix.owner !== undefined ? { owner: unix.owner } : {}),
      ...(unix.group !== undefined ? { group: unix.group } : {}),
    },
    identity: { username: raw.identity?.username ?? raw.name, groups: raw.identity?.groups ?? [] },
    ...(raw.profile !== undefined ? { profile: raw.profile } : {}),
  };
}

/**
 * Reads a YAML config file onto the defaults. The document is checked against
 * config/dockgate.schema.json first (unknown keys are errors, not ignored); every problem is
 * reported with its JSON path.
 */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): DockgateConfig {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file}: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) doc = {};
  const problems = validateConfigDocument(doc);
  if (problems.length > 0) throw new ConfigError(`${file}: invalid configuration`, problems);
  const raw = doc as RawDoc;
  const config = defaultConfig(env);
  try {
    if (raw.upstream !== undefined) config.upstream = raw.upstream;
    if (raw.listeners !== undefined) config.listeners = raw.listeners.map(toListener);
    if (raw.policy !== undefined) config.policy = path.resolve(path.dirname(file), raw.policy);
    if (raw.policyEntrypoint !== undefined) config.policyEntrypoint = raw.policyEntrypoint;
    if (raw.mode !== undefined) config.mode = raw.mode;
    if (raw.logLevel !== undefined) config.logLevel = raw.logLevel;
    if (raw.logFormat !== undefined) config.logFormat = raw.logFormat;
    if (raw.admin !== undefined) config.admin = parseAdminAddress(raw.admin, '$.admin');
    if (raw.shutdownGraceSeconds !== undefined) config.shutdownGraceSeconds = raw.shutdownGraceSeconds;
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${file}: invalid configuration`, err.problems);
    throw err;
  }
  const names = new Set<string>();
  config.listeners.forEach((l, i) => {
    if (names.has(l.name)) {
      throw new ConfigError(`${file}: invalid configuration`, [{ path: `$.listeners[${i}].name`, reason: `listener name "${l.name}" is used twice` }]);
    }
    names.add(l.name);
  });
  // The distribution sections have their own parsers for what a schema cannot say (keys read
  // from files, min <= max); the schema has already checked their shape.
  const baseDir = path.dirname(file);
  try {
    if (raw.bundleService !== undefined) config.bundleService = parseBundleService(raw.bundleService, 'bundleService');
    if (raw.bundleSigning !== undefined) config.bundleSigning = parseBundleSigning(raw.bundleSigning, 'bundleSigning', baseDir);
    if (raw.decisionLogs !== undefined) config.decisionLogs = parseDecisionLogs(raw.decisionLogs, 'decisionLogs', baseDir);
  } catch (err) {
    if (!(err instanceof DistributionConfigError)) throw err;
    const at = err.message.indexOf(': ');
    throw new ConfigError(`${file}: invalid configuration`, [{ path: `$.${err.message.slice(0, at)}`, reason: err.message.slice(at + 2) }]);
  }
  if (config.bundleService && config.policy !== undefined) {
    throw new ConfigError(`${file}: invalid configuration`, [{ path: '$.bundleService', reason: 'policy and bundleService are exclusive: the policy comes from a file or from a bundle server' }]);
  }
  return config;
}

export interface CliOverrides {
  listen?: string;
  upstream?: string;
  policy?: string;
  entrypoint?: string;
  socketMode?: string;
  logLevel?: string;
  logFormat?: string;
  mode?: string;
  admin?: string;
}

/** Flags win over the file: --listen replaces the file's listeners with one named "default". */
export function applyOverrides(config: DockgateConfig, o: CliOverrides, listenPath: (url: string) => string): DockgateConfig {
  const out = { ...config, listeners: config.listeners.map((l) => ({ ...l, unix: { ...l.unix } })) };
  if (o.upstream !== undefined) out.upstream = o.upstream;
  if (o.policy !== undefined) {
    // --policy names the bundle: a configured bundle server is not polled.
    out.policy = path.resolve(o.policy);
    delete out.bundleService;
  }
  if (o.entrypoint !== undefined) out.policyEntrypoint = o.entrypoint;
  if (o.listen !== undefined) {
    out.listeners = [{ name: 'default', unix: { path: listenPath(o.listen), mode: DEFAULT_SOCKET_MODE }, identity: defaultIdentity() }];
  }
  if (o.socketMode !== undefined) {
    const mode = parseMode(o.socketMode, '--socket-mode');
    for (const l of out.listeners) l.unix.mode = mode;
  }
  if (o.logLevel !== undefined) {
    if (!LOG_LEVELS.includes(o.logLevel as LogLevel)) throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
    out.logLevel = o.logLevel as LogLevel;
  }
  if (o.logFormat !== undefined) {
    if (o.logFormat !== 'json' && o.logFormat !== 'pretty') throw new ConfigError('--log-format must be json or pretty');
    out.logFormat = o.logFormat;
  }
  if (o.mode !== undefined) {
    if (o.mode !== 'enforce' && o.mode !== 'audit') throw new ConfigError('--mode must be enforce or audit');
    out.mode = o.mode;
  }
  if (o.admin !== undefined) out.admin = parseAdminAddress(o.admin, '--admin');
  return out;
}
