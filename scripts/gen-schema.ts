// Derives src/docker/schema.ts — the body schema the canonicalizer decodes onto — from the Engine
// API swagger files. The schema is the UNION of all given spec versions: a field any version
// documents is a field the daemon may know, and an unknown field is dropped from what we forward.
//
//   node scripts/gen-schema.ts [--check] [spec-dir]
//
// (Node ≥ 23.6 runs this file directly by stripping the types.) `--check` writes nothing and exits
// 1 when the committed file differs from what the specs give. The output is sorted, so the same
// specs always give the same bytes.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { InspectedBodyKind } from '../src/docker/body-kinds.js';

const SPEC_VERSIONS = ['1.41', '1.44', '1.56'];
const DEFAULT_SPEC_DIR = '/work/shared/docker-api';
const OUTPUT = fileURLToPath(new URL('../src/docker/schema.ts', import.meta.url));

// Where each body kind is documented: the route's body parameter. A route missing from a spec
// version (PUT /volumes/{name} before 1.42) is skipped for that version.
const ROUTES: Record<InspectedBodyKind, { method: 'post' | 'put'; path: string }> = {
  containerCreate: { method: 'post', path: '/containers/create' },
  containerUpdate: { method: 'post', path: '/containers/{id}/update' },
  containerCommit: { method: 'post', path: '/commit' },
  execCreate: { method: 'post', path: '/containers/{id}/exec' },
  execStart: { method: 'post', path: '/exec/{id}/start' },
  volumeCreate: { method: 'post', path: '/volumes/create' },
  volumeUpdate: { method: 'put', path: '/volumes/{name}' },
  networkCreate: { method: 'post', path: '/networks/create' },
  networkConnect: { method: 'post', path: '/networks/{id}/connect' },
  networkDisconnect: { method: 'post', path: '/networks/{id}/disconnect' },
  serviceCreate: { method: 'post', path: '/services/create' },
  serviceUpdate: { method: 'post', path: '/services/{id}/update' },
  secretCreate: { method: 'post', path: '/secrets/create' },
  secretUpdate: { method: 'post', path: '/secrets/{id}/update' },
  configCreate: { method: 'post', path: '/configs/create' },
  configUpdate: { method: 'post', path: '/configs/{id}/update' },
  nodeUpdate: { method: 'post', path: '/nodes/{id}/update' },
  swarmInit: { method: 'post', path: '/swarm/init' },
  swarmJoin: { method: 'post', path: '/swarm/join' },
  swarmUpdate: { method: 'post', path: '/swarm/update' },
  swarmUnlock: { method: 'post', path: '/swarm/unlock' },
  pluginPrivileges: { method: 'post', path: '/plugins/pull' },
  pluginSet: { method: 'post', path: '/plugins/{name}/set' },
};

// Where the Go types dockerd decodes into differ from what the swagger says. Found by comparing
// the generated schema with moby's api/types (v20.10.24, v28.5.2, moby/moby/api v1.56.1) by
// reflection; keyed by swagger definition name, or by body kind for inline request schemas.
// Each fix is applied to every spec version that has the definition and the path (dot-separated
// struct fields), so a spec that later gets it right is no error.
type GoType =
  | 'string'
  | 'integer'
  | 'boolean'
  | 'emptyStruct' // Go struct{}: wants an object, ignores what is in it
  | { array: GoType }
  | { struct: Record<string, GoType> };
type GoFix =
  // strslice.StrSlice has its own UnmarshalJSON that also takes a bare string (dockerd ≤ 28).
  | { op: 'strslice'; path: string }
  // A field Go has and the swagger lacks.
  | { op: 'add'; path: string; type: GoType }
  // A free-form object in the swagger that is a Go struct with fields.
  | { op: 'struct'; path: string; type: GoType }
  // A field the swagger puts in the wrong place.
  | { op: 'move'; from: string; to: string }
  // A swagger field Go does not have (a wrong name): dropped like any unknown field.
  | { op: 'drop'; path: string };

const GO_FIXES: Record<string, GoFix[]> = {
  ContainerConfig: [
    { op: 'strslice', path: 'Cmd' },
    { op: 'strslice', path: 'Entrypoint' },
    { op: 'strslice', path: 'Shell' },
  ],
  HostConfig: [
    { op: 'strslice', path: 'CapAdd' },
    { op: 'strslice', path: 'CapDrop' },
    { op: 'add', path: 'Umask', type: 'integer' }, // *uint32 in moby/moby/api 1.56
  ],
  Mount: [{ op: 'add', path: 'ClusterOptions', type: 'emptyStruct' }],
  ClusterVolumeSpec: [
    // The spec nests these four under AccessMode; volume.ClusterVolumeSpec has them at the top.
    { op: 'move', from: 'AccessMode.Secrets', to: 'Secrets' },
    { op: 'move', from: 'AccessMode.AccessibilityRequirements', to: 'AccessibilityRequirements' },
    { op: 'move', from: 'AccessMode.CapacityRange', to: 'CapacityRange' },
    { op: 'move', from: 'AccessMode.Availability', to: 'Availability' },
    { op: 'add', path: 'AccessMode.BlockVolume', type: 'emptyStruct' }, // volume.TypeBlock
    {
      op: 'struct', // volume.TypeMount
      path: 'AccessMode.MountVolume',
      type: { struct: { FsType: 'string', MountFlags: { array: 'string' } } },
    },
  ],
  ServiceSpec: [
    { op: 'struct', path: 'Mode.Global', type: 'emptyStruct' },
    { op: 'struct', path: 'Mode.GlobalJob', type: 'emptyStruct' },
  ],
  TaskSpec: [
    { op: 'struct', path: 'ContainerSpec.Configs.Runtime', type: 'emptyStruct' },
    // swarm runtime.PluginSpec (json tags name, remote, privileges, disabled, env): the spec's
    // `PluginPrivilege` is not read by the daemon, `privileges` is.
    { op: 'drop', path: 'PluginSpec.PluginPrivilege' },
    {
      op: 'add',
      path: 'PluginSpec.Privileges',
      type: {
        array: { struct: { Name: 'string', Description: 'string', Value: { array: 'string' } } },
      },
    },
    { op: 'add', path: 'PluginSpec.Env', type: { array: 'string' } },
  ],
  // Init is a HostConfig field; the spec's Resources carries it, UpdateConfig does not.
  'kind:containerUpdate': [{ op: 'drop', path: 'Init' }],
  'kind:execCreate': [{ op: 'add', path: 'Detach', type: 'boolean' }],
  'kind:swarmInit': [
    { op: 'add', path: 'AutoLockManagers', type: 'boolean' },
    { op: 'add', path: 'Availability', type: 'string' },
  ],
  'kind:swarmJoin': [{ op: 'add', path: 'Availability', type: 'string' }],
};

interface SwaggerSchema {
  $ref?: string;
  type?: string;
  properties?: Record<string, SwaggerSchema>;
  additionalProperties?: SwaggerSchema | boolean;
  items?: SwaggerSchema;
  allOf?: SwaggerSchema[];
  enum?: unknown[];
}
interface SwaggerDoc {
  definitions: Record<string, SwaggerSchema>;
  paths: Record<string, Record<string, { parameters?: { in: string; schema?: SwaggerSchema }[] }>>;
}

type Leaf = 'string' | 'integer' | 'number' | 'boolean' | 'any' | 'strslice';
type Node =
  | { t: Leaf }
  | { t: 'array'; items: Node }
  | { t: 'map'; value: Node }
  | { t: 'struct'; fields: Map<string, Node>; names: string[] };
type StructNode = Extract<Node, { t: 'struct' }>;

class SpecConverter {
  private readonly definitions = new Map<string, Node>();
  private readonly inProgress = new Set<string>();
  private readonly doc: SwaggerDoc;
  readonly version: string;

  // (No parameter properties: Node's type stripping does not support them.)
  constructor(doc: SwaggerDoc, version: string) {
    this.doc = doc;
    this.version = version;
  }

  bodySchema(kind: InspectedBodyKind): SwaggerSchema | undefined {
    const { method, path } = ROUTES[kind];
    const op = this.doc.paths[path]?.[method];
    if (!op) return undefined;
    const bodies = (op.parameters ?? []).filter((p) => p.in === 'body');
    if (bodies.length !== 1 || !bodies[0]?.schema) {
      throw new Error(`v${this.version} ${method} ${path}: expected one body parameter`);
    }
    return bodies[0].schema;
  }

  convert(s: SwaggerSchema, where: string): Node {
    if (s.$ref !== undefined) return this.definition(refName(s.$ref), where);
    if (s.allOf !== undefined) return this.flattenAllOf(s.allOf, where);
    if (s.type === 'object' || (s.type === undefined && s.properties !== undefined)) {
      if (s.properties !== undefined) {
        if (s.additionalProperties !== undefined && s.additionalProperties !== false) {
          throw new Error(`${where}: properties with additionalProperties is not supported`);
        }
        const fields = new Map<string, Node>();
        for (const [name, sub] of Object.entries(s.properties)) {
          fields.set(name, this.convert(sub, `${where}.${name}`));
        }
        return struct(fields, []);
      }
      if (s.additionalProperties !== undefined && s.additionalProperties !== false) {
        const value =
          s.additionalProperties === true
            ? { t: 'any' as const }
            : this.convert(s.additionalProperties, `${where}{}`);
        return { t: 'map', value };
      }
      // `enum: [{}]` is how the spec spells Go's struct{} (Volumes, ExposedPorts values): Go
      // wants an object and ignores what is in it.
      if (s.enum?.length === 1 && isEmptyObject(s.enum[0])) return struct(new Map(), []);
      return { t: 'any' }; // free-form: kept as parsed
    }
    switch (s.type) {
      case 'array':
        return { t: 'array', items: s.items ? this.convert(s.items, `${where}[]`) : { t: 'any' } };
      case 'string':
      case 'integer':
      case 'number':
      case 'boolean':
        return { t: s.type };
      case undefined:
        return { t: 'any' };
      default:
        throw new Error(`${where}: unsupported type ${s.type}`);
    }
  }

  private definition(name: string, where: string): Node {
    const done = this.definitions.get(name);
    if (done) return done;
    if (this.inProgress.has(name)) throw new Error(`${where}: recursive definition ${name}`);
    const def = this.doc.definitions[name];
    if (!def) throw new Error(`${where}: missing definition ${name}`);
    this.inProgress.add(name);
    let node = this.convert(def, name);
    this.inProgress.delete(name);
    if (node.t === 'struct') node = struct(new Map(node.fields), [name]);
    applyGoFixes(name, node);
    this.definitions.set(name, node);
    return node;
  }

  // allOf = Go struct embedding: the parts' fields are promoted into one struct.
  private flattenAllOf(parts: SwaggerSchema[], where: string): Node {
    // A single part is the spec's way to put a description next to a $ref (Mount.Type).
    if (parts.length === 1 && parts[0]) return this.convert(parts[0], where);
    const structs: StructNode[] = [];
    parts.forEach((part, i) => {
      const node = this.convert(part, `${where}/allOf${i}`);
      if (node.t === 'any' && part.type === 'object') return; // an example-only part
      if (node.t !== 'struct') throw new Error(`${where}/allOf${i}: not an object`);
      structs.push(node);
    });
    if (structs.length === 1 && structs[0]) return structs[0]; // ServiceSpec + an example
    const fields = new Map<string, Node>();
    for (const node of structs) {
      for (const [name, sub] of node.fields) {
        const before = fields.get(name);
        if (before && nodeKey(before) !== nodeKey(sub)) {
          throw new Error(`${where}: allOf parts disagree on ${name}`);
        }
        fields.set(name, sub);
      }
    }
    return struct(fields, []); // a new struct: the parts' names are not its name
  }
}

function applyGoFixes(owner: string, node: Node): void {
  for (const fix of GO_FIXES[owner] ?? []) {
    const where = `${owner}: ${fix.op} ${'path' in fix ? fix.path : `${fix.from} → ${fix.to}`}`;
    if (fix.op === 'move') {
      const from = locate(node, fix.from);
      const moved = from?.parent.fields.get(from.name);
      if (!from || !moved) continue;
      const to = locate(node, fix.to);
      if (!to) throw new Error(`${where}: no such parent`);
      if (to.parent.fields.has(to.name)) throw new Error(`${where}: target exists`);
      from.parent.fields.delete(from.name);
      to.parent.fields.set(to.name, moved);
      continue;
    }
    const at = locate(node, fix.path);
    if (!at) continue; // this version lacks the parent struct
    const before = at.parent.fields.get(at.name);
    switch (fix.op) {
      case 'strslice':
        if (!before) continue;
        if (before.t !== 'array' || before.items.t !== 'string') throw new Error(`${where}: not string[]`);
        at.parent.fields.set(at.name, { t: 'strslice' });
        break;
      case 'add': {
        const added = fromGoType(fix.type);
        if (before && nodeKey(before) !== nodeKey(added)) throw new Error(`${where}: spec disagrees`);
        at.parent.fields.set(at.name, added);
        break;
      }
      case 'struct':
        if (!before) continue;
        if (before.t !== 'any') throw new Error(`${where}: expected a free-form object`);
        at.parent.fields.set(at.name, fromGoType(fix.type));
        break;
      case 'drop':
        at.parent.fields.delete(at.name);
        break;
    }
    checkFolding(at.parent.fields);
  }
}

// The struct holding the last segment of `path`, descending through arrays and maps.
function locate(node: Node, path: string): { parent: StructNode; name: string } | undefined {
  const parts = path.split('.');
  const name = parts.pop() as string;
  let cur: Node | undefined = node;
  for (const part of parts) {
    while (cur?.t === 'array' || cur?.t === 'map') cur = cur.t === 'array' ? cur.items : cur.value;
    cur = cur?.t === 'struct' ? cur.fields.get(part) : undefined;
  }
  while (cur?.t === 'array' || cur?.t === 'map') cur = cur.t === 'array' ? cur.items : cur.value;
  return cur?.t === 'struct' ? { parent: cur, name } : undefined;
}

function fromGoType(g: GoType): Node {
  if (g === 'emptyStruct') return struct(new Map(), []);
  if (typeof g === 'string') return { t: g };
  if ('array' in g) return { t: 'array', items: fromGoType(g.array) };
  return struct(new Map(Object.entries(g.struct).map(([k, v]) => [k, fromGoType(v)])), []);
}

function struct(fields: Map<string, Node>, names: string[]): StructNode {
  checkFolding(fields);
  return { t: 'struct', fields, names };
}

// Go folds keys (ASCII case, plus ſ/K which fold onto ASCII s/k): two field names equal under
// folding would make a key ambiguous.
function checkFolding(fields: Map<string, Node>): void {
  const folded = new Set<string>();
  for (const name of fields.keys()) {
    if (!/^[\x21-\x7e]+$/.test(name)) throw new Error(`non-ASCII field name ${name}`);
    const f = name.toUpperCase();
    if (folded.has(f)) throw new Error(`field names collide under case folding: ${name}`);
    folded.add(f);
  }
}

// Union of one body kind across spec versions.
function merge(a: Node, b: Node, where: string): Node {
  if (a.t !== b.t) throw new Error(`${where}: versions disagree (${a.t} vs ${b.t})`);
  if (a.t === 'array' && b.t === 'array') return { t: 'array', items: merge(a.items, b.items, `${where}[]`) };
  if (a.t === 'map' && b.t === 'map') return { t: 'map', value: merge(a.value, b.value, `${where}{}`) };
  if (a.t === 'struct' && b.t === 'struct') {
    const fields = new Map(a.fields);
    for (const [name, sub] of b.fields) {
      const before = fields.get(name);
      fields.set(name, before ? merge(before, sub, `${where}.${name}`) : sub);
    }
    return struct(fields, [...new Set([...a.names, ...b.names])]);
  }
  return a;
}

// A structural identity: nodes with the same key are emitted once and shared. (Not cached: the
// fixes above edit nodes in place.)
function nodeKey(n: Node): string {
  switch (n.t) {
    case 'array':
      return `[${nodeKey(n.items)}]`;
    case 'map':
      return `{*:${nodeKey(n.value)}}`;
    case 'struct':
      return `{${sortedNames(n.fields)
        .map((name) => `${name}:${nodeKey(n.fields.get(name) as Node)}`)
        .join(',')}}`;
    default:
      return n.t;
  }
}

function sortedNames(fields: Map<string, Node>): string[] {
  return [...fields.keys()].sort(compareStrings);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function refName(ref: string): string {
  const prefix = '#/definitions/';
  if (!ref.startsWith(prefix)) throw new Error(`unsupported $ref ${ref}`);
  return ref.slice(prefix.length);
}

function isEmptyObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}

const LEAF_CONSTS: Record<Leaf, string> = {
  string: 'str',
  integer: 'int',
  number: 'num',
  boolean: 'bool',
  any: 'any',
  strslice: 'strslice',
};

class Emitter {
  private readonly nameByKey = new Map<string, string>();
  private readonly usedNames = new Set<string>(Object.values(LEAF_CONSTS));
  private readonly decls: string[] = [];
  readonly freeForm: string[] = [];

  // Emits the structs under `n` (dependencies first) and returns the expression for `n`.
  expr(n: Node, hint: string, path: string): string {
    switch (n.t) {
      case 'array':
        return `{ t: 'array', items: ${this.expr(n.items, hint, `${path}[]`)} }`;
      case 'map':
        return `{ t: 'map', value: ${this.expr(n.value, `${hint}Value`, `${path}{}`)} }`;
      case 'struct':
        return this.structConst(n, hint);
      default:
        if (n.t === 'any') this.freeForm.push(path);
        return LEAF_CONSTS[n.t];
    }
  }

  private structConst(n: StructNode, hint: string): string {
    const key = nodeKey(n);
    const known = this.nameByKey.get(key);
    if (known !== undefined) return known;
    const lines: string[] = [];
    const ownName = [...n.names].sort(compareStrings)[0] ?? (n.fields.size === 0 ? 'EmptyStruct' : hint);
    for (const name of sortedNames(n.fields)) {
      const sub = n.fields.get(name) as Node;
      const subHint = sub.t === 'struct' && sub.names.length > 0 ? '' : `${ownName}_${name}`;
      lines.push(`    ${propertyName(name)}: ${this.expr(sub, subHint, `${ownName}.${name}`)},`);
    }
    let constName = ownName.replace(/[^A-Za-z0-9_]/g, '_');
    for (let i = 2; this.usedNames.has(constName); i++) constName = `${ownName}_${i}`;
    this.usedNames.add(constName);
    this.nameByKey.set(key, constName);
    const body = lines.length === 0 ? '{}' : `{\n${lines.join('\n')}\n  }`;
    this.decls.push(`const ${constName}: StructSchema = {\n  t: 'struct',\n  fields: ${body},\n};\n`);
    return constName;
  }

  declarations(): string {
    return this.decls.join('\n');
  }
}

function propertyName(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}

function generate(specDir: string): string {
  const converters = SPEC_VERSIONS.map((v) => {
    const doc = parse(readFileSync(`${specDir}/swagger-v${v}.yaml`, 'utf8')) as SwaggerDoc;
    return new SpecConverter(doc, v);
  });
  const emitter = new Emitter();
  const roots: string[] = [];
  for (const kind of Object.keys(ROUTES) as InspectedBodyKind[]) {
    let root: Node | undefined;
    for (const c of converters) {
      const schema = c.bodySchema(kind);
      if (!schema) continue;
      const node = c.convert(schema, `${kind}@v${c.version}`);
      applyGoFixes(`kind:${kind}`, node);
      root = root ? merge(root, node, kind) : node;
    }
    if (!root) throw new Error(`${kind}: no spec version documents ${ROUTES[kind].path}`);
    if (root.t !== 'struct' && root.t !== 'array') throw new Error(`${kind}: body is not an object or array`);
    const hint = `${kind[0]?.toUpperCase()}${kind.slice(1)}Body`;
    roots.push(`  ${kind}: ${emitter.expr(root, hint, kind)},`);
  }
  const freeForm = [...new Set(emitter.freeForm)].sort(compareStrings);
  return [
    `// GENERATED by scripts/gen-schema.ts from the Engine API swagger v${SPEC_VERSIONS.join(', v')} — do not edit.`,
    '// Regenerate with `node scripts/gen-schema.ts`.',
    '//',
    '// Free-form fields (kept as parsed, keys not folded):',
    ...(freeForm.length > 0 ? freeForm.map((p) => `//   ${p}`) : ['//   (none)']),
    "import type { BodySchemas, IntegerSchema, ScalarSchema, StrSliceSchema, StructSchema } from './schema-types.js';",
    '',
    "const str: ScalarSchema = { t: 'string' };",
    "const int: IntegerSchema = { t: 'integer' };",
    "const num: ScalarSchema = { t: 'number' };",
    "const bool: ScalarSchema = { t: 'boolean' };",
    "const any: ScalarSchema = { t: 'any' };",
    "const strslice: StrSliceSchema = { t: 'strslice' };",
    '',
    emitter.declarations(),
    'export const BODY_SCHEMAS: BodySchemas = {',
    ...roots,
    '};',
    '',
  ].join('\n');
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const specDir = argv.find((a) => !a.startsWith('--')) ?? DEFAULT_SPEC_DIR;
  const text = generate(specDir);
  let current: string | undefined;
  try {
    current = readFileSync(OUTPUT, 'utf8');
  } catch {
    current = undefined;
  }
  if (check) {
    if (current === text) return 0;
    process.stderr.write(`${OUTPUT} is out of date: run node scripts/gen-schema.ts\n`);
    return 1;
  }
  if (current !== text) writeFileSync(OUTPUT, text);
  process.stdout.write(`wrote ${OUTPUT} (${text.length} bytes)\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
