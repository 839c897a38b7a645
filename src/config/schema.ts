import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';

// The published JSON Schema of the YAML config (config/dockgate.schema.json, shipped in the
// package so editors complete and check it). dockgate validates every config file against this
// same file before reading a value, so the schema cannot drift from what is accepted.

export const CONFIG_SCHEMA_PATH = fileURLToPath(new URL('../../config/dockgate.schema.json', import.meta.url));

export interface SchemaProblem {
  /** Where in the document: `$.listeners[0].unix.path`. */
  path: string;
  reason: string;
}

let compiled: ValidateFunction | undefined;

export function loadConfigSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(CONFIG_SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
}

// ajv (~9 MiB resident once loaded) is loaded with the first config file to validate: a
// `dockgate serve` configured by flags alone does not carry it.
function validator(): ValidateFunction {
  if (compiled === undefined) {
    const { Ajv2020 } = createRequire(import.meta.url)('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
    compiled = new Ajv2020({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true }).compile(loadConfigSchema());
  }
  return compiled;
}

/** `/listeners/0/unix` → `$.listeners[0].unix` (JSON Pointer to the JSONPath operators read). */
function jsonPath(pointer: string, child?: string): string {
  const parts = pointer === '' ? [] : pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  return '$' + parts.map((p) => (/^\d+$/.test(p) ? `[${p}]` : /^[A-Za-z_][\w-]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`)).join('');
}

function describe(e: ErrorObject): SchemaProblem {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return { path: jsonPath(e.instancePath, String(p.additionalProperty)), reason: 'unknown setting' };
    case 'required':
      return { path: jsonPath(e.instancePath, String(p.missingProperty)), reason: 'required setting is missing' };
    case 'enum':
      return { path: jsonPath(e.instancePath), reason: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'minProperties':
      return { path: jsonPath(e.instancePath), reason: `must have at least ${String(p.limit)} ${p.limit === 1 ? 'entry' : 'entries'}` };
    case 'oneOf': {
      const description = (e.parentSchema as { description?: string } | undefined)?.description;
      return { path: jsonPath(e.instancePath), reason: `invalid value${description ? `: ${description}` : ''}` };
    }
    case 'pattern': {
      const examples = (e.parentSchema as { examples?: unknown[] } | undefined)?.examples;
      const like = examples?.length ? ` (like ${examples.map((x) => JSON.stringify(x)).join(' or ')})` : '';
      return { path: jsonPath(e.instancePath), reason: `must match /${String(p.pattern)}/${like}` };
    }
    default:
      return { path: jsonPath(e.instancePath), reason: e.message ?? e.keyword };
  }
}

/** Every problem with the document, in document order; empty when it is valid. */
export function validateConfigDocument(doc: unknown): SchemaProblem[] {
  const validate = validator();
  if (validate(doc)) return [];
  const errors = validate.errors ?? [];
  // A oneOf reports its failed branches too; the oneOf's own line says it once.
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf').map((e) => e.schemaPath);
  const kept = errors.filter((e) => !oneOfs.some((s) => e.schemaPath !== s && e.schemaPath.startsWith(s.slice(0, -'oneOf'.length) + 'oneOf/')));
  const seen = new Set<string>();
  const problems: SchemaProblem[] = [];
  for (const e of kept) {
    const problem = describe(e);
    const key = `${problem.path}\0${problem.reason}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  }
  return problems;
}
