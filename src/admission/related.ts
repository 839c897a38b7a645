import type { JsonObject, JsonValue } from '../policy/contract.js';

/** A JSON object (not null, not an array). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strings(v: JsonValue | undefined): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * Named volumes a container create refers to (`Binds` with a non-path source, `Mounts` of type
 * volume). A volume created earlier with local bind/device options is a host bind in disguise,
 * so the policy must see each one as the daemon has it.
 */
export function referencedVolumes(object: JsonValue | undefined): string[] {
  if (!isObject(object)) return [];
  const hostConfig = object.HostConfig;
  if (!isObject(hostConfig)) return [];
  const names = new Set<string>();
  for (const bind of strings(hostConfig.Binds)) {
    const source = bind.split(':', 1)[0]!;
    if (source !== '' && !source.startsWith('/')) names.add(source);
  }
  const mounts = hostConfig.Mounts;
  if (Array.isArray(mounts)) {
    for (const m of mounts) {
      if (isObject(m) && typeof m.Type === 'string' && m.Type.toLowerCase() === 'volume' && typeof m.Source === 'string' && m.Source !== '') {
        names.add(m.Source);
      }
    }
  }
  return [...names];
}
