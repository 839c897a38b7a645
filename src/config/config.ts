import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface Identity {
  username: string;
  groups: string[];
}

export interface ListenerConfig {
  name: string;
  unix: { path: string; mode: number; owner?: string | number; group?: string | number };
  identity: Identity;
  profile?: string;
  /** A tenant socket: its identity sees and touches only objects carrying its owner label. */
  ownership?: boolean;
}

export interface DockgateConfig {
  upstream: string;
  listeners: ListenerConfig[];
  /** Policy bundle (.tar.gz from `opa build` or .wasm); undefined = the embedded default. */
  policy?: string;
  /** Entrypoint to evaluate; default: the bundle's only one, else dockgate/admission/decision. */
  policyEntrypoint?: string;
  logLevel: LogLevel;
  /** The label that records an object's owner (stamped by the policy, filtered on by ownership). */
  ownerLabel: string;
  /** How long hijacked streams may run on after SIGTERM before they are cut. */
  shutdownGraceSeconds: number;
}

export class ConfigError extends Error {}

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
    logLevel: 'info',
    ownerLabel: 'dockgate.owner',
    shutdownGraceSeconds: 10,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseListener(raw: unknown, i: number): ListenerConfig {
  const where = `listeners[${i}]`;
  if (!isRecord(raw)) throw new ConfigError(`${where}: must be a mapping`);
  if (typeof raw.name !== 'string' || raw.name === '') throw new ConfigError(`${where}.name: required string`);
  const unix = raw.unix;
  if (!isRecord(unix) || typeof unix.path !== 'string' || !unix.path.startsWith('/')) {
    throw new ConfigError(`${where}.unix.path: required absolute path`);
  }
  const identityRaw = raw.identity ?? { username: raw.name, groups: [] };
  if (!isRecord(identityRaw) || typeof identityRaw.username !== 'string') {
    throw new ConfigError(`${where}.identity.username: required string`);
  }
  const groups = identityRaw.groups ?? [];
  if (!Array.isArray(groups) || groups.some((g) => typeof g !== 'string')) {
    throw new ConfigError(`${where}.identity.groups: must be a list of strings`);
  }
  const listener: ListenerConfig = {
    name: raw.name,
    unix: {
      path: unix.path,
      mode: unix.mode === undefined ? DEFAULT_SOCKET_MODE : parseMode(unix.mode, `${where}.unix.mode`),
      ...(unix.owner !== undefined ? { owner: unix.owner as string | number } : {}),
      ...(unix.group !== undefined ? { group: unix.group as string | number } : {}),
    },
    identity: { username: identityRaw.username, groups: groups as string[] },
  };
  if (raw.profile !== undefined) {
    if (typeof raw.profile !== 'string') throw new ConfigError(`${where}.profile: must be a string`);
    listener.profile = raw.profile;
  }
  if (raw.ownership !== undefined) {
    if (typeof raw.ownership !== 'boolean') throw new ConfigError(`${where}.ownership: must be true or false`);
    if (raw.ownership) listener.ownership = true;
  }
  return listener;
}

/** Reads a YAML config file onto the defaults. Unknown top-level keys are errors, not ignored. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): DockgateConfig {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file}: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (!isRecord(doc)) throw new ConfigError(`${file}: the top level must be a mapping`);
  const known = new Set(['upstream', 'listeners', 'policy', 'policyEntrypoint', 'logLevel', 'ownerLabel', 'shutdownGraceSeconds']);
  for (const key of Object.keys(doc)) {
    if (!known.has(key)) throw new ConfigError(`${file}: unknown setting "${key}"`);
  }
  const config = defaultConfig(env);
  if (doc.upstream !== undefined) {
    if (typeof doc.upstream !== 'string') throw new ConfigError(`${file}: upstream must be a string`);
    config.upstream = doc.upstream;
  }
  if (doc.listeners !== undefined) {
    if (!Array.isArray(doc.listeners) || doc.listeners.length === 0) {
      throw new ConfigError(`${file}: listeners must be a non-empty list`);
    }
    config.listeners = doc.listeners.map(parseListener);
    const names = new Set<string>();
    for (const l of config.listeners) {
      if (names.has(l.name)) throw new ConfigError(`${file}: listener name "${l.name}" is used twice`);
      names.add(l.name);
    }
  }
  if (doc.policy !== undefined) {
    if (typeof doc.policy !== 'string') throw new ConfigError(`${file}: policy must be a path`);
    config.policy = path.resolve(path.dirname(file), doc.policy);
  }
  if (doc.policyEntrypoint !== undefined) {
    if (typeof doc.policyEntrypoint !== 'string') throw new ConfigError(`${file}: policyEntrypoint must be a string`);
    config.policyEntrypoint = doc.policyEntrypoint;
  }
  if (doc.logLevel !== undefined) {
    if (!LOG_LEVELS.includes(doc.logLevel as LogLevel)) throw new ConfigError(`${file}: logLevel must be one of ${LOG_LEVELS.join(', ')}`);
    config.logLevel = doc.logLevel as LogLevel;
  }
  if (doc.ownerLabel !== undefined) {
    // Docker label keys: no '=' (filters split on it), no whitespace.
    if (typeof doc.ownerLabel !== 'string' || !/^[^=\s]+$/.test(doc.ownerLabel)) {
      throw new ConfigError(`${file}: ownerLabel must be a label key without "=" or spaces`);
    }
    config.ownerLabel = doc.ownerLabel;
  }
  if (doc.shutdownGraceSeconds !== undefined) {
    if (typeof doc.shutdownGraceSeconds !== 'number' || doc.shutdownGraceSeconds < 0) {
      throw new ConfigError(`${file}: shutdownGraceSeconds must be a non-negative number`);
    }
    config.shutdownGraceSeconds = doc.shutdownGraceSeconds;
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
}

/** Flags win over the file: --listen replaces the file's listeners with one named "default". */
export function applyOverrides(config: DockgateConfig, o: CliOverrides, listenPath: (url: string) => string): DockgateConfig {
  const out = { ...config, listeners: config.listeners.map((l) => ({ ...l, unix: { ...l.unix } })) };
  if (o.upstream !== undefined) out.upstream = o.upstream;
  if (o.policy !== undefined) out.policy = path.resolve(o.policy);
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
  return out;
}
