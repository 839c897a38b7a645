// The HAProxy peer, set up the way the most used Docker socket proxy (Tecnativa's
// docker-socket-proxy) sets it up: HTTP mode, `option http-server-close`, a method gate (only
// GET unless POST is enabled), one url-decoded path regex ACL per API section switched on by an
// environment variable, deny everything else, and a separate backend without server timeout for
// /events. Here it listens on a unix socket (the project's image listens on TCP 2375) and its
// backend is our private daemon's socket. Sections the benchmark uses are enabled.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startChild, waitUntilServing, type Child } from './processes.js';

// API sections with their own switch, as in docker-socket-proxy (all off by default there).
const SECTIONS = [
  'auth', 'build', 'commit', 'configs', 'containers', 'distribution', 'events', 'exec', 'grpc', 'images',
  'info', 'networks', 'nodes', '_ping', 'plugins', 'secrets', 'services', 'session', 'swarm', 'system',
  'tasks', 'version', 'volumes',
] as const;

/** Switches the benchmark turns on: what its requests need, like a user would. */
const ENABLED = ['POST', 'CONTAINERS', 'BUILD', 'IMAGES', 'EXEC', 'PING', 'VERSION', 'INFO', 'EVENTS', 'VOLUMES', 'NETWORKS'];

const switchName = (section: string) => section.replace(/^_/, '').toUpperCase();

// Same shape as the upstream regexes: optional /vX.Y prefix, optional one-word prefix, section.
const sectionAcl = (section: string) => `{ path,url_dec -m reg -i ^(/v[\\d\\.]+)?(/\\w+)?/${section} }`;

export function haproxyConfig(listenSocket: string, daemonSocket: string): string {
  const allow = SECTIONS.map((s) => `    http-request allow if ${sectionAcl(s)} { env(${switchName(s)}) -m bool }`);
  return [
    'global',
    '    log stdout format raw daemon info',
    '    maxconn 4000',
    '',
    'defaults',
    '    mode http',
    '    log global',
    '    option httplog',
    '    option dontlognull',
    '    option http-server-close',
    '    option redispatch',
    '    retries 3',
    '    timeout http-request 10s',
    '    timeout queue 1m',
    '    timeout connect 10s',
    '    timeout client 10m',
    '    timeout server 10m',
    '    timeout http-keep-alive 10s',
    '    timeout check 10s',
    '    maxconn 3000',
    '',
    'backend dockerbackend',
    `    server dockersocket ${daemonSocket}`,
    '',
    'backend docker-events',
    `    server dockersocket ${daemonSocket}`,
    '    timeout server 0',
    '',
    'frontend dockerfrontend',
    `    bind ${listenSocket} mode 600`,
    '    http-request deny unless METH_GET || { env(POST) -m bool }',
    // The restart/start/stop switches of docker-socket-proxy are subsumed by CONTAINERS=1 here.
    ...allow,
    '    http-request deny',
    '    default_backend dockerbackend',
    `    use_backend docker-events if ${sectionAcl('events')}`,
    '',
  ].join('\n');
}

export interface HaproxyPeer {
  socketPath: string;
  process: Child;
  version: string;
}

export async function startHaproxy(dir: string, daemonSocket: string, version: string): Promise<HaproxyPeer> {
  const socketPath = path.join(dir, 'haproxy.sock');
  const cfg = path.join(dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyConfig(socketPath, daemonSocket));
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const s of SECTIONS) env[switchName(s)] = '0';
  env.POST = '0';
  for (const s of ENABLED) env[s] = '1';
  // -db: stay in the foreground, so the process we stop is HAProxy itself.
  const since = process.hrtime.bigint();
  const child = startChild('haproxy', 'haproxy', ['-db', '-f', cfg], path.join(dir, 'haproxy.log'), env);
  await waitUntilServing(child, socketPath, '/_ping', since);
  return { socketPath, process: child, version };
}
