import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { BundleVerification } from '../policy/bundle-signature.js';
import type { PolicyUserInfo } from '../policy/contract.js';
import {
  DistributionConfigError,
  parseBundleService,
  parseBundleSigning,
  parseDecisionLogs,
  type BundleServiceConfig,
  type DecisionLogsConfig,
} from './distribution-config.js';
import { validateConfigDocument, type SchemaProblem } from './schema.js';

// The YAML parser (~8 MiB resident once loaded) is loaded only when a config file is read:
// `dockgate serve` configured by flags alone does not carry it.
function parseYaml(text: string): unknown {
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.parse(text);
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export type RolloutMode = 'enforce' | 'audit';
export type LogFormat = 'json' | 'pretty';

export type AdminAddress = { kind: 'tcp'; host: string; port: number; url: string } | { kind: 'unix'; path: string; url: string };

export interface Identity {
  username: string;
  groups: string[];
}

interface ListenerBase {
  name: string;
  profile?: string;
  /** Open connections the listener accepts at once; more are closed on accept. Undefined: no limit. */
  maxConnections?: number;
  /** How long a client may take to send a request's headers (slowloris), and a TLS handshake. */
  headersTimeoutSeconds: number;
  /** A tenant listener: each identity sees and touches only objects carrying its owner label. */
  ownership?: boolean;
}

/** A unix socket: whoever can open it is `identity`. */
export interface UnixListenerConfig extends ListenerBase {
  unix: { path: string; mode: number; owner?: string | number; group?: string | number };
  identity: Identity;
}

/** Which client certificates a rule takes: every field given must match. */
export interface CertificateMatch {
  commonName?: string;
  /** A subjectAltName, as `DNS:name`, `email:…`, `URI:…`, `IP Address:…`, or the bare value. */
  san?: string;
  ou?: string;
}

export interface IdentityRule {
  match: CertificateMatch;
  identity: Identity;
  /** Overrides the listener's profile for this identity. */
  profile?: string;
}

/** TCP with mutual TLS: the identity comes from the client certificate, through `identityFrom`. */
export interface TcpListenerConfig extends ListenerBase {
  tcp: { host: string; port: number; cert: string; key: string; clientCA: string };
  /** Ordered; the first rule that matches the certificate wins; none ⇒ the connection is refused. */
  identityFrom: IdentityRule[];
}

export type ListenerConfig = UnixListenerConfig | TcpListenerConfig;

export function isTcpListener(l: ListenerConfig): l is TcpListenerConfig {
  return 'tcp' in l;
}

/** The identity a unix listener gives every caller (fixed by the config, never by the client). */
export function unixIdentity(l: UnixListenerConfig): PolicyUserInfo {
  return {
    username: l.identity.username,
    groups: l.identity.groups,
    listener: l.name,
    authenticatedBy: 'unix',
    ...(l.profile !== undefined ? { profile: l.profile } : {}),
  };
}

export const DEFAULT_HEADERS_TIMEOUT_SECONDS = 60;

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
  /** The label that records an object's owner (stamped by the policy, filtered on by ownership). */
  ownerLabel: string;
  /** How long hijacked streams may run on after SIGTERM before they are cut. */
  shutdownGraceSeconds: number;
  /** Pull the policy from an OPA bundle server instead of a file. */
  bundleService?: BundleServiceConfig;
  /** Keys a bundle must be signed with (OPA .signatures.json); unset: unsigned bundles only. */
  bundleSigning?: BundleVerification;
  /** Ship decisions in OPA's decision-log format. */
  decisionLogs?: DecisionLogsConfig;
  /** Most worker threads evaluating the policy at once; 0 evaluates on the event loop (no deadline). */
  policyWorkers: number;
  /** How long one policy evaluation may run before it is stopped and the request denied. */
  policyDeadlineMs: number;
  /** Steps (wasm function calls and loop iterations) a decision may take on the event loop before it goes to a worker. */
  policyInlineSteps: number;
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

/** A parser's `where: reason` error as a problem at a JSON path. */
function asProblems(err: Error): SchemaProblem[] {
  if (err instanceof ConfigError && err.problems.length > 0) return err.problems;
  const at = err.message.indexOf(': ');
  if (at < 0) return [{ path: '$', reason: err.message }];
  const where = err.message.slice(0, at);
  return [{ path: where.startsWith('$') ? where : `$.${where}`, reason: err.message.slice(at + 2) }];
}

// Two workers at most, started on demand and stopped when idle (~17 MB each): one serves the
// normal flow, the second keeps requests moving while a slow evaluation runs out its deadline.
export const DEFAULT_POLICY_WORKERS = 2;
export const DEFAULT_POLICY_DEADLINE_MS = 2000;
// ~10× a typical container create's decision under the shipped profiles (~20 000), and at most a
// few milliseconds of the event loop (bench/FINDINGS.md, "Create").
export const DEFAULT_POLICY_INLINE_STEPS = 200_000;

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
  if (!/^0?[0-7]{3}$/.test(text)) throw new ConfigError(`${where}: socket mode must be octal like "0660", got ${JSON.stringify(value)}`);
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

function defaultListener(listenPath: string): UnixListenerConfig {
  return {
    name: 'default',
    unix: { path: listenPath, mode: DEFAULT_SOCKET_MODE },
    identity: defaultIdentity(),
    headersTimeoutSeconds: DEFAULT_HEADERS_TIMEOUT_SECONDS,
  };
}

function defaultIdentity(): Identity {
  return { username: 'default', groups: [] };
}

export function defaultConfig(env: NodeJS.ProcessEnv = process.env): DockgateConfig {
  return {
    upstream: defaultUpstream(env),
    listeners: [defaultListener(defaultListenPath(env))],
    mode: 'enforce',
    logLevel: 'info',
    logFormat: 'json',
    ownerLabel: 'dockgate.owner',
    shutdownGraceSeconds: 10,
    policyWorkers: DEFAULT_POLICY_WORKERS,
    policyDeadlineMs: DEFAULT_POLICY_DEADLINE_MS,
    policyInlineSteps: DEFAULT_POLICY_INLINE_STEPS,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(raw: Record<string, unknown>, known: readonly string[], where: string): void {
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) throw new ConfigError(`${where}: unknown setting "${key}" (expected one of ${known.join(', ')})`);
  }
}

function parseIdentity(raw: unknown, where: string): Identity {
  if (!isRecord(raw) || typeof raw.username !== 'string' || raw.username === '') {
    throw new ConfigError(`${where}.username: required string`);
  }
  checkKeys(raw, ['username', 'groups'], where);
  const groups = raw.groups ?? [];
  if (!Array.isArray(groups) || groups.some((g) => typeof g !== 'string')) {
    throw new ConfigError(`${where}.groups: must be a list of strings`);
  }
  return { username: raw.username, groups: groups as string[] };
}

function optionalString(raw: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = raw[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new ConfigError(`${where}.${key}: must be a non-empty string`);
  return v;
}

function positiveInteger(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new ConfigError(`${where}: must be a positive integer`);
  return v;
}

/** host:port, with IPv6 hosts in brackets ([::1]:2376). */
export function parseTcpAddress(text: unknown, where: string): { host: string; port: number } {
  const m = typeof text === 'string' ? /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text) : null;
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`${where}: expected host:port like "127.0.0.1:2376", got ${JSON.stringify(text)}`);
  return { host: (m[1] ?? m[2])!, port };
}

function parseRule(raw: unknown, where: string): IdentityRule {
  if (!isRecord(raw)) throw new ConfigError(`${where}: must be a mapping`);
  checkKeys(raw, ['match', 'identity', 'profile'], where);
  const match = raw.match;
  if (!isRecord(match)) throw new ConfigError(`${where}.match: required mapping of commonName, san, ou`);
  checkKeys(match, ['commonName', 'san', 'ou'], `${where}.match`);
  const out: CertificateMatch = {};
  for (const key of ['commonName', 'san', 'ou'] as const) {
    const v = optionalString(match, key, `${where}.match`);
    if (v !== undefined) out[key] = v;
  }
  // An empty match would take every certificate the CA signed: say so explicitly instead.
  if (Object.keys(out).length === 0) throw new ConfigError(`${where}.match: give at least one of commonName, san, ou`);
  const rule: IdentityRule = { match: out, identity: parseIdentity(raw.identity, `${where}.identity`) };
  const profile = optionalString(raw, 'profile', where);
  if (profile !== undefined) rule.profile = profile;
  return rule;
}

function parseListener(raw: unknown, i: number, baseDir: string): ListenerConfig {
  const where = `listeners[${i}]`;
  if (!isRecord(raw)) throw new ConfigError(`${where}: must be a mapping`);
  if (typeof raw.name !== 'string' || raw.name === '') throw new ConfigError(`${where}.name: required string`);
  const common = ['name', 'profile', 'maxConnections', 'headersTimeoutSeconds', 'ownership'];
  const base: ListenerBase = { name: raw.name, headersTimeoutSeconds: DEFAULT_HEADERS_TIMEOUT_SECONDS };
  const profile = optionalString(raw, 'profile', where);
  if (profile !== undefined) base.profile = profile;
  if (raw.maxConnections !== undefined) base.maxConnections = positiveInteger(raw.maxConnections, `${where}.maxConnections`);
  if (raw.headersTimeoutSeconds !== undefined) {
    const t = raw.headersTimeoutSeconds;
    if (typeof t !== 'number' || !(t > 0) || t > 3600) throw new ConfigError(`${where}.headersTimeoutSeconds: must be a number of seconds in (0, 3600]`);
    base.headersTimeoutSeconds = t;
  }
  if (raw.ownership !== undefined) {
    if (typeof raw.ownership !== 'boolean') throw new ConfigError(`${where}.ownership: must be true or false`);
    if (raw.ownership) base.ownership = true;
  }
  if (raw.unix !== undefined && raw.tcp !== undefined) throw new ConfigError(`${where}: give either unix or tcp, not both`);

  if (raw.tcp !== undefined) {
    checkKeys(raw, [...common, 'tcp', 'identityFrom'], where);
    const tcp = raw.tcp;
    if (!isRecord(tcp)) throw new ConfigError(`${where}.tcp: must be a mapping of address, cert, key, clientCA`);
    checkKeys(tcp, ['address', 'cert', 'key', 'clientCA'], `${where}.tcp`);
    const file = (key: string) => {
      const v = optionalString(tcp, key, `${where}.tcp`);
      // Plain TCP would let anyone who can reach the port act as the listener's identity.
      if (v === undefined) throw new ConfigError(`${where}.tcp.${key}: required (TCP listeners use mutual TLS)`);
      return path.resolve(baseDir, v);
    };
    if (!Array.isArray(raw.identityFrom) || raw.identityFrom.length === 0) {
      throw new ConfigError(`${where}.identityFrom: required non-empty list of rules (a TCP listener takes its identity from the client certificate)`);
    }
    return {
      ...base,
      tcp: { ...parseTcpAddress(tcp.address, `${where}.tcp.address`), cert: file('cert'), key: file('key'), clientCA: file('clientCA') },
      identityFrom: raw.identityFrom.map((r, j) => parseRule(r, `${where}.identityFrom[${j}]`)),
    };
  }

  checkKeys(raw, [...common, 'unix', 'identity'], where);
  const unix = raw.unix;
  if (!isRecord(unix) || typeof unix.path !== 'string' || !unix.path.startsWith('/')) {
    throw new ConfigError(`${where}.unix.path: required absolute path (or give tcp)`);
  }
  checkKeys(unix, ['path', 'mode', 'owner', 'group'], `${where}.unix`);
  return {
    ...base,
    unix: {
      path: unix.path,
      mode: unix.mode === undefined ? DEFAULT_SOCKET_MODE : parseMode(unix.mode, `${where}.unix.mode`),
      ...(unix.owner !== undefined ? { owner: unix.owner as string | number } : {}),
      ...(unix.group !== undefined ? { group: unix.group as string | number } : {}),
    },
    identity: raw.identity === undefined ? { username: raw.name, groups: [] } : parseIdentity(raw.identity, `${where}.identity`),
  };
}

/**
 * Reads a YAML config file onto the defaults. The document is checked against
 * config/dockgate.schema.json first (unknown keys are errors at any depth), then by the section
 * parsers for what a schema cannot say (unix xor tcp, files read, min <= max). Every problem is
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
  try {
    return readDocument(doc as Record<string, unknown>, file, env);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof DistributionConfigError) {
      throw new ConfigError(`${file}: invalid configuration`, asProblems(err));
    }
    throw err;
  }
}

/** A document that passed the schema, onto the defaults. */
function readDocument(doc: Record<string, unknown>, file: string, env: NodeJS.ProcessEnv): DockgateConfig {
  const config = defaultConfig(env);
  const baseDir = path.dirname(path.resolve(file));
  if (doc.upstream !== undefined) config.upstream = doc.upstream as string;
  if (Array.isArray(doc.listeners)) {
    config.listeners = doc.listeners.map((l, i) => parseListener(l, i, baseDir));
    const names = new Set<string>();
    config.listeners.forEach((l, i) => {
      if (names.has(l.name)) throw ConfigError.at(`$.listeners[${i}].name`, `listener name "${l.name}" is used twice`);
      names.add(l.name);
    });
  }
  if (doc.policy !== undefined) config.policy = path.resolve(baseDir, doc.policy as string);
  if (doc.policyEntrypoint !== undefined) config.policyEntrypoint = doc.policyEntrypoint as string;
  if (doc.mode !== undefined) config.mode = doc.mode as RolloutMode;
  if (doc.logLevel !== undefined) config.logLevel = doc.logLevel as LogLevel;
  if (doc.logFormat !== undefined) config.logFormat = doc.logFormat as LogFormat;
  if (doc.ownerLabel !== undefined) config.ownerLabel = doc.ownerLabel as string;
  if (doc.admin !== undefined) config.admin = parseAdminAddress(doc.admin as string, '$.admin');
  if (doc.shutdownGraceSeconds !== undefined) config.shutdownGraceSeconds = doc.shutdownGraceSeconds as number;
  if (doc.policyWorkers !== undefined) config.policyWorkers = doc.policyWorkers as number;
  if (doc.policyDeadlineMs !== undefined) config.policyDeadlineMs = doc.policyDeadlineMs as number;
  if (doc.policyInlineSteps !== undefined) config.policyInlineSteps = doc.policyInlineSteps as number;
  if (doc.bundleService !== undefined) config.bundleService = parseBundleService(doc.bundleService, 'bundleService');
  if (doc.bundleSigning !== undefined) config.bundleSigning = parseBundleSigning(doc.bundleSigning, 'bundleSigning', baseDir);
  if (doc.decisionLogs !== undefined) config.decisionLogs = parseDecisionLogs(doc.decisionLogs, 'decisionLogs', baseDir);
  if (config.bundleService && config.policy !== undefined) {
    throw ConfigError.at('$.bundleService', 'policy and bundleService are exclusive: the policy comes from a file or from a bundle server');
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
  const out = { ...config, listeners: config.listeners.map((l) => (isTcpListener(l) ? { ...l } : { ...l, unix: { ...l.unix } })) };
  if (o.upstream !== undefined) out.upstream = o.upstream;
  if (o.policy !== undefined) {
    // --policy names the bundle: a configured bundle server is not polled.
    out.policy = path.resolve(o.policy);
    delete out.bundleService;
  }
  if (o.entrypoint !== undefined) out.policyEntrypoint = o.entrypoint;
  if (o.listen !== undefined) {
    out.listeners = [defaultListener(listenPath(o.listen))];
  }
  if (o.socketMode !== undefined) {
    const mode = parseMode(o.socketMode, '--socket-mode');
    for (const l of out.listeners) if (!isTcpListener(l)) l.unix.mode = mode;
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
