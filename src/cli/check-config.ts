// `dockgate check-config FILE`: the checks `serve --config FILE` makes before it starts (schema,
// listener names, addresses, and that the policy bundle loads), offline: no socket, no daemon.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from '../config/config.js';
import { CONFIG_SCHEMA_PATH } from '../config/schema.js';
import { loadPolicy } from '../policy/default-policy.js';
import { policySelection } from '../policy/distribution.js';
import { PolicyError } from '../policy/policy-error.js';

export const CHECK_CONFIG_USAGE = `Usage:
  dockgate check-config FILE

Validates a YAML configuration file against the published schema (config/dockgate.schema.json)
and loads the policy bundle it names, as 'dockgate serve --config FILE' would before starting.
Prints each problem with its JSON path. Exit status: 0 valid, 2 invalid (or usage error).
`;

export async function runCheckConfig(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, strict: true, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    process.stderr.write(`dockgate check-config: ${(err as Error).message}\n\n${CHECK_CONFIG_USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(CHECK_CONFIG_USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    process.stderr.write(`dockgate check-config: expected exactly one FILE\n\n${CHECK_CONFIG_USAGE}`);
    return 2;
  }
  const file = parsed.positionals[0]!;
  try {
    const config = loadConfigFile(file);
    const listeners = config.listeners.map((l) => l.name).join(', ');
    let policy: string;
    if (config.bundleService) {
      // Offline: the bundle server is not asked; its bundle is checked when dockgate pulls it.
      policy = `bundle server ${config.bundleService.url} (not fetched)`;
    } else {
      const engine = await loadPolicy({
        ...(config.policy !== undefined ? { bundle: config.policy } : {}),
        ...policySelection(config),
      });
      policy = `${config.policy ?? 'embedded'}, entrypoint ${engine.entrypoint}`;
    }
    process.stdout.write(`${file}: valid (mode ${config.mode}; listeners ${listeners}; policy ${policy})\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError) && !(err instanceof PolicyError)) throw err;
    process.stderr.write(`dockgate check-config: ${err.message}\n`);
    if (err instanceof ConfigError && err.problems.length > 0) process.stderr.write(`(schema: ${CONFIG_SCHEMA_PATH})\n`);
    return 2;
  }
}
