// The dockgate command line (loaded by main.ts once the process is set up).
import { parseArgs } from 'node:util';
import { applyOverrides, ConfigError, defaultConfig, loadConfigFile } from '../config/config.js';
import { ListenerError } from '../listener/unix-socket.js';
import { PolicyError } from '../policy/policy-error.js';
import { AddressError, parseUnixListen } from '../upstream/address.js';
import { ensureHeapFloor } from '../runtime/heap-floor.js';
import { packageVersion } from './version.js';

const USAGE = `dockgate — admission proxy for the Docker Engine API

Usage:
  dockgate serve [--listen unix:///path/dockgate.sock] [--upstream unix:///var/run/docker.sock]
                 [--policy BUNDLE] [--entrypoint NAME] [--config FILE] [--socket-mode 0660] [--log-level info]
                 [--log-format json|pretty] [--mode enforce|audit] [--admin 127.0.0.1:9323|unix:///path]
  dockgate check-config FILE   validate a config file (schema, policy bundle) without starting
  dockgate eval [options] --request FILE | --compose FILE | -- docker run …   (dockgate eval --help)
  dockgate test [--policy BUNDLE] [--run REGEX] SUITE…   policy fixture cases (dockgate test --help)
  dockgate --help | --version

serve options (flags override the config file):
  --listen URL        where clients connect (default: unix:///run/dockgate/dockgate.sock as root,
                      else $XDG_RUNTIME_DIR/dockgate/dockgate.sock); replaces the config's listeners
  --upstream URL      the Docker daemon (default: $DOCKER_HOST if set, else unix:///var/run/docker.sock)
  --policy BUNDLE     a policy bundle (.tar.gz from 'opa build -t wasm', or .wasm);
                      default: the embedded bundle of the shipped profiles (baseline)
  --entrypoint NAME   the entrypoint to evaluate (default: the bundle's only one,
                      else dockgate/admission/decision)
  --config FILE       YAML configuration file (bundleService, bundleSigning, decisionLogs: see README)
  --socket-mode MODE  permissions of the listening socket (default 0660)
  --log-level LEVEL   fatal, error, warn, info, debug, trace or silent (default info)
  --log-format FMT    json (default: JSON lines on stderr) or pretty (human-readable, pino-pretty)
  --mode MODE         enforce (default) or audit: nothing is denied, would-be denials are logged and counted
  --admin ADDR        serve /metrics, /healthz and /readyz on a loopback HOST:PORT or unix:///path

The policy bundle is reloaded when its file changes and on SIGHUP (a bad bundle is rejected
and the old one keeps serving).
`;

async function main(argv: string[]): Promise<number> {
  // Subcommands with their own options, loaded on demand: a long-running `serve` does not keep
  // the offline judge, the capture daemon and the fixture runner in memory.
  if (argv[0] === 'eval') return (await import('./eval.js')).runEval(argv.slice(1));
  if (argv[0] === 'test') return (await import('./test.js')).runTest(argv.slice(1));
  if (argv[0] === 'check-config') return (await import('./check-config.js')).runCheckConfig(argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
      listen: { type: 'string' },
      upstream: { type: 'string' },
      policy: { type: 'string' },
      entrypoint: { type: 'string' },
      config: { type: 'string', short: 'c' },
      'socket-mode': { type: 'string' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      mode: { type: 'string' },
      admin: { type: 'string' },
    },
  });
  if (values.version) {
    process.stdout.write(`dockgate ${packageVersion()}\n`);
    return 0;
  }
  const command = positionals[0];
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(USAGE);
    return values.help || command === 'help' ? 0 : 2;
  }
  if (command !== 'serve') {
    process.stderr.write(`dockgate: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  // Before anything heavy is loaded: this may replace the process (src/runtime/heap-floor.ts).
  ensureHeapFloor();
  const base = values.config ? loadConfigFile(values.config) : defaultConfig();
  const config = applyOverrides(
    base,
    {
      ...(values.listen !== undefined ? { listen: values.listen } : {}),
      ...(values.upstream !== undefined ? { upstream: values.upstream } : {}),
      ...(values.policy !== undefined ? { policy: values.policy } : {}),
      ...(values.entrypoint !== undefined ? { entrypoint: values.entrypoint } : {}),
      ...(values['socket-mode'] !== undefined ? { socketMode: values['socket-mode'] } : {}),
      ...(values['log-level'] !== undefined ? { logLevel: values['log-level'] } : {}),
      ...(values['log-format'] !== undefined ? { logFormat: values['log-format'] } : {}),
      ...(values.mode !== undefined ? { mode: values.mode } : {}),
      ...(values.admin !== undefined ? { admin: values.admin } : {}),
    },
    parseUnixListen,
  );
  // Loaded here so that the re-execution above does not parse the whole proxy twice.
  const { serve } = await import('./serve.js');
  return serve(config);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const known = err instanceof ConfigError || err instanceof ListenerError || err instanceof AddressError || err instanceof PolicyError;
    const e = err as Error & { code?: string };
    if (known || e.code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`dockgate: ${e.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`dockgate: ${e.stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
