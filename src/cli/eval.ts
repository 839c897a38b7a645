// `dockgate eval`: judge requests offline with the proxy's own code path (src/offline/).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { LevelWithSilent } from 'pino';
import { defaultConfig, isTcpListener, loadConfigFile, unixIdentity, type DockgateConfig, type Identity } from '../config/config.js';
import { createLogger } from '../log/logger.js';
import type { PolicyUserInfo } from '../policy/contract.js';
import { loadPolicy } from '../policy/default-policy.js';
import { captureClient, CaptureError, findExecutable, type CaptureResult } from '../offline/capture.js';
import { OfflineJudge, type JudgedRequest } from '../offline/judge.js';
import { OfflineLookups } from '../offline/lookups.js';
import { describeRequest, exitCodeOf, isNoteworthy, overallOutcome, type OutputFormat } from '../offline/report.js';
import { parseRequestFile, RequestFileError } from '../offline/request-file.js';
import { parseUpstream } from '../upstream/address.js';
import { Upstream } from '../upstream/client.js';

export const EVAL_USAGE = `Usage:
  dockgate eval [options] --request FILE
  dockgate eval [options] --compose docker-compose.yml [--compose override.yml] [--project-name NAME]
  dockgate eval [options] -- docker run [flags] IMAGE [cmd]     (any client command honouring DOCKER_HOST)

Judges requests through the proxy's own pipeline (classify, canonicalize, lookup, decide) and
prints the decision, violations, warnings, patch and the body dockgate would forward.
Exit status: 0 all allowed, 1 something denied, 2 something could not be judged (or usage error).

Options:
  --policy BUNDLE       policy bundle (default: the config's, else the embedded baseline bundle)
  --entrypoint NAME     entrypoint to evaluate (default as for serve)
  --config FILE         dockgate config: policy and listeners (identity, profile)
  --listener NAME       judge as this listener of the config (default: its only listener)
  --identity USER[:GROUP,…]  the caller's username and groups (overrides the listener's)
  --profile NAME        the profile to judge with (overrides the listener's)
  --docker-host URL     a daemon to answer lookups (read-only GETs); default: none
  --api-version X.Y     API version the capture daemon announces (default 1.51: the client's newest)
  --format json|text    output (default: text on a terminal, else json)
  --show-input          include each policy input in the JSON output
  --log-level LEVEL     dockgate's own log lines on stderr (default silent)
`;

const DEFAULT_CAPTURE_API_VERSION = '1.51';

class UsageError extends Error {}

export function parseIdentity(text: string): { username: string; groups: string[] } {
  const colon = text.indexOf(':');
  const username = colon < 0 ? text : text.slice(0, colon);
  const groups = colon < 0 ? [] : text.slice(colon + 1).split(',').filter((g) => g !== '');
  if (username === '') throw new UsageError(`--identity ${JSON.stringify(text)}: expected USER or USER:GROUP,GROUP`);
  return { username, groups };
}

/** The identity a listener of the config gives its callers, as serve sets it on the gate. */
function identityFor(config: DockgateConfig, listenerName: string | undefined, given: Identity | undefined): PolicyUserInfo {
  const names = config.listeners.map((l) => l.name);
  const listener = listenerName !== undefined ? config.listeners.find((l) => l.name === listenerName) : config.listeners.length === 1 ? config.listeners[0] : undefined;
  if (!listener) {
    throw new UsageError(
      listenerName !== undefined ? `no listener named "${listenerName}" (the config has: ${names.join(', ')})` : `the config has ${names.length} listeners: pick one with --listener (${names.join(', ')})`,
    );
  }
  const tls = isTcpListener(listener);
  if (tls && given === undefined) {
    throw new UsageError(`listener ${listener.name} takes its callers' identity from their client certificates: give --identity USER[:GROUP,…]`);
  }
  if (!tls) return { ...unixIdentity(listener), ...(given ?? {}) };
  return {
    username: given!.username,
    groups: given!.groups,
    listener: listener.name,
    authenticatedBy: 'tls',
    ...(listener.profile !== undefined ? { profile: listener.profile } : {}),
  };
}

function print(format: OutputFormat, json: unknown, text: string): void {
  process.stdout.write(format === 'json' ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
}

export async function runEval(argv: string[]): Promise<number> {
  const dashdash = argv.indexOf('--');
  const command = dashdash < 0 ? [] : argv.slice(dashdash + 1);
  let values;
  try {
    ({ values } = parseArgs({
      args: dashdash < 0 ? argv : argv.slice(0, dashdash),
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        policy: { type: 'string' },
        entrypoint: { type: 'string' },
        config: { type: 'string', short: 'c' },
        request: { type: 'string' },
        compose: { type: 'string', multiple: true },
        'project-name': { type: 'string' },
        identity: { type: 'string' },
        listener: { type: 'string' },
        profile: { type: 'string' },
        'docker-host': { type: 'string' },
        'api-version': { type: 'string' },
        format: { type: 'string' },
        'show-input': { type: 'boolean' },
        'log-level': { type: 'string' },
      },
    }));
  } catch (err) {
    process.stderr.write(`dockgate eval: ${(err as Error).message}\n\n${EVAL_USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(EVAL_USAGE);
    return 0;
  }
  try {
    const modes = [values.request !== undefined, values.compose !== undefined, dashdash >= 0].filter(Boolean).length;
    if (modes !== 1) throw new UsageError('give exactly one of --request FILE, --compose FILE or -- COMMAND');
    if (dashdash >= 0 && command.length === 0) throw new UsageError('nothing after --: expected a client command like `docker run alpine`');
    if (values.format !== undefined && values.format !== 'json' && values.format !== 'text') throw new UsageError('--format must be json or text');
    if (values['api-version'] !== undefined && !/^1\.\d+$/.test(values['api-version'])) throw new UsageError('--api-version must look like 1.41');
    const format: OutputFormat = (values.format as OutputFormat | undefined) ?? (process.stdout.isTTY ? 'text' : 'json');

    const config = values.config !== undefined ? loadConfigFile(values.config) : defaultConfig();
    const flagsIdentity = values.config !== undefined || values.listener !== undefined || values.identity !== undefined || values.profile !== undefined;
    const identity = identityFor(config, values.listener, values.identity !== undefined ? parseIdentity(values.identity) : undefined);
    if (values.profile !== undefined) identity.profile = values.profile;

    const policy = values.policy ?? config.policy;
    const entrypoint = values.entrypoint ?? config.policyEntrypoint;
    const engine = await loadPolicy({
      ...(policy !== undefined ? { bundle: policy } : {}),
      ...(entrypoint !== undefined ? { entrypoint } : {}),
      // The configured signing keys check a given bundle as serve would (the embedded one is unsigned).
      ...(policy !== undefined && config.bundleSigning !== undefined ? { verification: config.bundleSigning } : {}),
    });
    const log = createLogger((values['log-level'] ?? 'silent') as LevelWithSilent);
    const daemon = values['docker-host'] !== undefined ? new Upstream(parseUpstream(values['docker-host'])) : undefined;
    try {
      if (values.request !== undefined) {
        const file = parseRequestFile(readFileSync(values.request, 'utf8'), values.request);
        let result: JudgedRequest;
        if (file.form === 'input') {
          const judge = new OfflineJudge({ evaluator: engine, identity, log, ownerLabel: config.ownerLabel, lookups: new OfflineLookups(() => ({ found: false, body: undefined }), undefined, '') });
          const input = flagsIdentity || !file.hasUserInfo ? { ...file.input, userInfo: identity } : file.input;
          result = await judge.judgeInput(input, values['show-input']);
        } else {
          const lookups = new OfflineLookups(
            (p) => (file.answers.has(p) ? { found: true, body: file.answers.get(p) } : { found: false, body: undefined }),
            daemon,
            'give it in the request file ("oldObject" for the request\'s target, "volumes": {"<name>": …}, or "lookups": {"<path>": …}; null = does not exist) or pass --docker-host',
          );
          const judge = new OfflineJudge({ evaluator: engine, identity, log, ownerLabel: config.ownerLabel, lookups });
          result = (await judge.judge(file.sent, values['show-input'])).result;
        }
        print(format, { allowed: result.outcome === 'allow', ...result }, describeRequest(result));
        return exitCodeOf([result.outcome]);
      }

      const clientCommand = values.compose !== undefined ? composeCommand(values.compose, values['project-name']) : dockerCommand(command);
      const apiVersion = values['api-version'] ?? (daemon ? await daemonApiVersion(daemon) : DEFAULT_CAPTURE_API_VERSION);
      const captured = await captureClient(clientCommand, {
        evaluator: engine,
        identity,
        log,
        ownerLabel: config.ownerLabel,
        apiVersion,
        ...(daemon ? { daemon } : {}),
        ...(values['show-input'] ? { showInput: true } : {}),
      });
      return printCapture(format, captured);
    } finally {
      daemon?.close();
      log.flush();
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`dockgate eval: ${err.message}\n\n${EVAL_USAGE}`);
      return 2;
    }
    if (err instanceof RequestFileError || err instanceof CaptureError) {
      process.stderr.write(`dockgate eval: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

// `docker` after -- means the docker CLI the tests and CI use (/usr/local/bin/docker first).
function dockerCommand(command: string[]): string[] {
  if (command[0] !== 'docker') return command;
  const docker = findExecutable('docker', ['/usr/local/bin/docker']);
  if (!docker) throw new CaptureError('the docker CLI is not installed (needed to translate `docker …` into API requests)');
  return [docker, ...command.slice(1)];
}

// `up --no-start --build` builds the services that have a build section (as on a fresh machine)
// and creates the networks, volumes and containers of every service; it starts nothing.
function composeCommand(files: string[], project: string | undefined): string[] {
  const compose = findExecutable('docker-compose');
  if (!compose) throw new CaptureError('docker-compose is not installed (needed to translate a compose file into API requests)');
  return [compose, ...files.flatMap((f) => ['--file', f]), ...(project !== undefined ? ['--project-name', project] : []), 'up', '--no-start', '--build'];
}

async function daemonApiVersion(daemon: Upstream): Promise<string> {
  try {
    const answer = await daemon.getJson('/version');
    const version = (answer.body as { ApiVersion?: unknown } | null)?.ApiVersion;
    if (answer.status === 200 && typeof version === 'string') return version;
    throw new Error(`answered ${answer.status}`);
  } catch (err) {
    throw new CaptureError(`cannot ask the daemon at --docker-host for its API version: ${(err as Error).message}`);
  }
}

function printCapture(format: OutputFormat, captured: CaptureResult): number {
  const { client, requests } = captured;
  const outcomes = requests.map((r) => r.outcome);
  let code = exitCodeOf(outcomes);
  // A client that failed without being refused ran into something the capture cannot answer:
  // what it would have sent next is unknown, so nothing can be concluded.
  const clientFailed = client.exitCode !== 0 && code === 0;
  if (clientFailed) code = 2;
  const outcome = clientFailed ? 'error' : overallOutcome(outcomes);
  const json = { allowed: code === 0, outcome, client: { ...client }, requests };
  const shown = requests.filter(isNoteworthy);
  const lines = shown.map(describeRequest);
  if (shown.length < requests.length) lines.push(`(${requests.length - shown.length} more requests allowed: reads such as _ping, inspect, list)`);
  if (requests.length === 0) lines.push('the client sent no requests');
  const status = client.signal ? `killed by ${client.signal}` : `exit ${client.exitCode}`;
  lines.push(`client: ${client.command.join(' ')} (${status})${client.exitCode !== 0 && client.stderr.trim() !== '' ? `\n  ${client.stderr.trim().replaceAll('\n', '\n  ')}` : ''}`);
  print(format, json, lines.join('\n'));
  return code;
}
