import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfigFile } from '../../src/config/config.js';
import { loadConfigSchema, validateConfigDocument } from '../../src/config/schema.js';
import { REPO_ROOT } from '../support/repo.js';
import { parse as parseYaml } from 'yaml';

// The published schema is the single list of settings: the loader validates against it, and the
// README's configuration table must list exactly its keys (a key added to one and not the other
// fails here).

type SchemaNode = { properties?: Record<string, SchemaNode>; items?: SchemaNode; additionalProperties?: SchemaNode | boolean };

/** Leaf settings as the README names them: `listeners[].unix.path`, `bundleSigning.keys.<id>.key`. */
function schemaKeys(node: SchemaNode, prefix = ''): string[] {
  if (node.items?.properties) return schemaKeys(node.items, `${prefix}[]`);
  if (typeof node.additionalProperties === 'object' && node.additionalProperties.properties) {
    return schemaKeys(node.additionalProperties, `${prefix}.<id>`);
  }
  if (!node.properties) return [prefix];
  return Object.entries(node.properties).flatMap(([k, child]) => schemaKeys(child, prefix ? `${prefix}.${k}` : k));
}

function readmeSection(): string {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Configuration\n');
  expect(start).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

/** The first column of the table headed `| setting | default | meaning |`. */
function readmeTableKeys(): string[] {
  const lines = readmeSection().split('\n');
  const header = lines.findIndex((line) => line.startsWith('| setting |'));
  expect(header).toBeGreaterThan(0);
  const rows = lines.slice(header + 2);
  const table = rows.slice(0, rows.findIndex((line) => !line.startsWith('|')));
  return table.map((line) => /^\| `([^`]+)`/.exec(line)?.[1] ?? `unparsed row: ${line}`);
}

function writeTemp(text: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dgcfg-'));
  const file = path.join(dir, 'dockgate.yaml');
  writeFileSync(file, text);
  return file;
}

function problemsOf(yamlText: string): { path: string; reason: string }[] {
  try {
    loadConfigFile(writeTemp(yamlText), {});
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('config schema', () => {
  test('the README configuration table lists exactly the schema keys', () => {
    const keys = schemaKeys(loadConfigSchema() as SchemaNode).sort();
    const documented = readmeTableKeys();
    expect(new Set(documented).size).toBe(documented.length);
    expect([...documented].sort()).toEqual(keys);
  });

  test('every example configuration in the README section is valid', () => {
    const examples = [...readmeSection().matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(examples.length).toBeGreaterThan(0);
    for (const example of examples) expect({ example, problems: validateConfigDocument(parseYaml(example)) }).toEqual({ example, problems: [] });
  });

  test('every shipped example config (deploy/**/dockgate.yaml) is valid', () => {
    const found: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (/\.ya?ml$/.test(entry.name) && /dockgate/.test(entry.name)) found.push(full);
      }
    };
    walk(path.join(REPO_ROOT, 'deploy'));
    expect(found.length).toBeGreaterThan(0);
    for (const file of found) {
      expect({ file, problems: validateConfigDocument(parseYaml(readFileSync(file, 'utf8'))) }).toEqual({ file, problems: [] });
    }
  });

  test('a full valid file loads with its values', () => {
    const file = writeTemp(`
upstream: unix:///run/docker.sock
policy: bundles/p.tar.gz
mode: audit
logLevel: debug
logFormat: pretty
admin: 127.0.0.1:9323
shutdownGraceSeconds: 3
listeners:
  - name: team-a
    unix: { path: /run/dockgate/a.sock, mode: "0600", group: docker }
    identity: { username: alice, groups: [dev] }
    profile: restricted
`);
    const config = loadConfigFile(file, {});
    expect(config.mode).toBe('audit');
    expect(config.logFormat).toBe('pretty');
    expect(config.admin).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 9323, url: '127.0.0.1:9323' });
    expect(config.policy).toBe(path.join(path.dirname(file), 'bundles/p.tar.gz'));
    expect(config.listeners[0]).toMatchObject({ unix: { mode: 0o600 }, identity: { username: 'alice', groups: ['dev'] } });
  });

  test('defaults: enforce mode, JSON logs, no admin listener, 10 s grace', () => {
    const config = loadConfigFile(writeTemp(''), {});
    expect(config).toMatchObject({ mode: 'enforce', logFormat: 'json', shutdownGraceSeconds: 10 });
    expect(config.admin).toBeUndefined();
  });

  test('unknown keys are rejected at any depth, each with its JSON path', () => {
    expect(problemsOf(`
logLevl: info
listeners:
  - name: a
    unix: { path: /run/a.sock, perms: "0600" }
    identity: { username: a, group: [x] }
`)).toEqual([
      { path: '$.logLevl', reason: 'unknown setting' },
      { path: '$.listeners[0].unix.perms', reason: 'unknown setting' },
      { path: '$.listeners[0].identity.group', reason: 'unknown setting' },
    ]);
  });

  test('every wrong value is reported with path and reason, not only the first', () => {
    const problems = problemsOf(`
mode: permissive
shutdownGraceSeconds: -1
admin: 0.0.0.0:9323
listeners:
  - name: a
    unix: { path: relative.sock, mode: "0999" }
  - unix: { path: /run/b.sock }
`);
    expect(problems).toEqual([
      { path: '$.mode', reason: 'must be one of "enforce", "audit"' },
      { path: '$.admin', reason: expect.stringMatching(/^must match .* \(like "127\.0\.0\.1:9323"/) },
      { path: '$.shutdownGraceSeconds', reason: 'must be >= 0' },
      { path: '$.listeners[0].unix.path', reason: expect.stringMatching(/^must match \/\^\/\//) },
      { path: '$.listeners[0].unix.mode', reason: expect.stringMatching(/^invalid value: Octal permissions/) },
      { path: '$.listeners[1].name', reason: 'required setting is missing' },
    ]);
  });

  test('a listener name used twice is refused', () => {
    expect(problemsOf(`
listeners:
  - { name: a, unix: { path: /run/a.sock } }
  - { name: a, unix: { path: /run/b.sock } }
`)).toEqual([{ path: '$.listeners[1].name', reason: 'listener name "a" is used twice' }]);
  });

  test('the error message names the file and lists every problem on its own line', () => {
    const file = writeTemp('mode: x\nfoo: 1\n');
    expect(() => loadConfigFile(file, {})).toThrow(`${file}: invalid configuration:\n  $.foo: unknown setting\n  $.mode: must be one of "enforce", "audit"`);
  });
});
