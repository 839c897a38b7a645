import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { INSPECTED_BODY_KINDS } from '../../src/docker/body-kinds.js';
import { goFoldKey } from '../../src/docker/canonicalize.js';
import { BODY_SCHEMAS } from '../../src/docker/schema.js';
import type { SchemaNode, StructSchema } from '../../src/docker/schema-types.js';

const SPEC_DIR = '/work/shared/docker-api';

function struct(node: SchemaNode | undefined): StructSchema {
  if (node?.t !== 'struct') throw new Error(`expected a struct, got ${node?.t}`);
  return node;
}

function field(node: SchemaNode | undefined, path: string): SchemaNode | undefined {
  let cur = node;
  for (const name of path.split('.')) {
    while (cur?.t === 'array' || cur?.t === 'map') cur = cur.t === 'array' ? cur.items : cur.value;
    cur = struct(cur).fields[name];
  }
  return cur;
}

function* structs(node: SchemaNode, seen = new Set<SchemaNode>()): Generator<StructSchema> {
  if (seen.has(node)) return;
  seen.add(node);
  if (node.t === 'array') yield* structs(node.items, seen);
  else if (node.t === 'map') yield* structs(node.value, seen);
  else if (node.t === 'struct') {
    yield node;
    for (const sub of Object.values(node.fields)) yield* structs(sub, seen);
  }
}

describe('goFoldKey (encoding/json foldName)', () => {
  it('folds ASCII case, ſ and the Kelvin sign', () => {
    expect(goFoldKey('hostConfig')).toBe('HOSTCONFIG');
    expect(goFoldKey('Ho\u017ftConfig')).toBe('HOSTCONFIG');
    expect(goFoldKey('Oom\u212aillDisable')).toBe('OOMKILLDISABLE');
  });

  it('folds no other non-ASCII letter onto ASCII', () => {
    for (const key of ['Pr\u0131vileged', 'PR\u0130VILEGED', '\uff30rivileged', 'Privileged\u00e9']) {
      expect(goFoldKey(key)).toBeUndefined();
    }
  });
});

describe('generated body schema', () => {
  it('has a root for every inspected body kind', () => {
    for (const kind of INSPECTED_BODY_KINDS) expect(['struct', 'array']).toContain(BODY_SCHEMAS[kind].t);
    expect(BODY_SCHEMAS.pluginSet).toEqual({ t: 'array', items: { t: 'string' } });
  });

  it('has no two fields of one struct that Go would fold together', () => {
    for (const kind of INSPECTED_BODY_KINDS) {
      for (const s of structs(BODY_SCHEMAS[kind])) {
        const folded = Object.keys(s.fields).map((name) => goFoldKey(name));
        expect(new Set(folded).size).toBe(folded.length);
        expect(folded).not.toContain(undefined);
      }
    }
  });

  it('marks exactly the strslice.StrSlice fields', () => {
    const create = BODY_SCHEMAS.containerCreate;
    const strslices: string[] = [];
    for (const s of structs(create)) {
      for (const [name, sub] of Object.entries(s.fields)) if (sub.t === 'strslice') strslices.push(name);
    }
    expect(strslices.sort()).toEqual(['CapAdd', 'CapDrop', 'Cmd', 'Entrypoint', 'Shell']);
    expect(field(create, 'HostConfig.CapAdd')).toEqual({ t: 'strslice' });
    expect(field(BODY_SCHEMAS.containerCommit, 'Cmd')).toEqual({ t: 'strslice' });
    expect(field(BODY_SCHEMAS.execCreate, 'Cmd')).toEqual({ t: 'array', items: { t: 'string' } });
    expect(field(BODY_SCHEMAS.serviceCreate, 'TaskTemplate.ContainerSpec.Command')).toEqual({ t: 'array', items: { t: 'string' } });
  });

  it('flattens allOf: Resources fields are HostConfig fields, ContainerConfig fields are top-level', () => {
    const create = BODY_SCHEMAS.containerCreate;
    expect(field(create, 'HostConfig.Memory')).toEqual({ t: 'integer' });
    expect(field(create, 'HostConfig.Privileged')).toEqual({ t: 'boolean' });
    expect(field(create, 'Image')).toEqual({ t: 'string' });
    expect(field(create, 'NetworkingConfig.EndpointsConfig')?.t).toBe('map');
    expect(field(BODY_SCHEMAS.containerUpdate, 'RestartPolicy.Name')).toEqual({ t: 'string' });
    expect(field(BODY_SCHEMAS.containerUpdate, 'Init')).toBeUndefined(); // a HostConfig field, not UpdateConfig's
  });

  it('is the union of the spec versions', () => {
    const hc = struct(field(BODY_SCHEMAS.containerCreate, 'HostConfig'));
    expect(hc.fields.KernelMemory).toEqual({ t: 'integer' }); // gone from later specs, still read by old daemons
    expect(hc.fields.Annotations?.t).toBe('map'); // API 1.43+
    expect(BODY_SCHEMAS.volumeUpdate.t).toBe('struct'); // PUT /volumes/{name}: 1.42+
  });

  it('carries the Go type fixes', () => {
    const cluster = struct(field(BODY_SCHEMAS.volumeCreate, 'ClusterVolumeSpec'));
    expect(Object.keys(cluster.fields).sort()).toEqual([
      'AccessMode',
      'AccessibilityRequirements',
      'Availability',
      'CapacityRange',
      'Group',
      'Secrets',
    ]);
    expect(Object.keys(struct(cluster.fields.AccessMode).fields).sort()).toEqual(['BlockVolume', 'MountVolume', 'Scope', 'Sharing']);
    const plugin = struct(field(BODY_SCHEMAS.serviceCreate, 'TaskTemplate.PluginSpec'));
    expect(Object.keys(plugin.fields).sort()).toEqual(['Disabled', 'Env', 'Name', 'Privileges', 'Remote']);
    expect(field(BODY_SCHEMAS.execCreate, 'Detach')).toEqual({ t: 'boolean' });
    expect(field(BODY_SCHEMAS.swarmInit, 'AutoLockManagers')).toEqual({ t: 'boolean' });
    expect(field(BODY_SCHEMAS.containerCreate, 'HostConfig.Mounts.ClusterOptions')).toEqual({ t: 'struct', fields: {} });
    expect(field(BODY_SCHEMAS.serviceCreate, 'Mode.Global')).toEqual({ t: 'struct', fields: {} });
  });

  it.skipIf(!existsSync(`${SPEC_DIR}/swagger-v1.41.yaml`))('is what scripts/gen-schema.ts makes of the specs', () => {
    const script = fileURLToPath(new URL('../../scripts/gen-schema.ts', import.meta.url));
    const run = spawnSync(process.execPath, [script, '--check', SPEC_DIR], { encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  }, 60_000);
});
