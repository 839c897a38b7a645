// Masking of configured input/result paths before an event leaves the process (OPA's "erase"):
// JSON pointers (RFC 6901) like /input/object/Env. Only the containers along the path are copied,
// so the request's own objects are never touched.

type Json = unknown;

export function parsePointer(pointer: string): string[] {
  return pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

// Returns a copy of `node` without the value at `path`, or undefined when there is none.
function without(node: Json, path: readonly string[]): Json | undefined {
  if (typeof node !== 'object' || node === null || path.length === 0) return undefined;
  const [head, ...rest] = path as [string, ...string[]];
  if (Array.isArray(node)) {
    if (!/^(0|[1-9]\d*)$/.test(head) || Number(head) >= node.length) return undefined;
    const i = Number(head);
    if (rest.length === 0) return [...node.slice(0, i), ...node.slice(i + 1)];
    const child = without(node[i], rest);
    if (child === undefined) return undefined;
    const copy = [...node];
    copy[i] = child;
    return copy;
  }
  const obj = node as Record<string, Json>;
  if (!Object.hasOwn(obj, head)) return undefined;
  const copy: Record<string, Json> = { ...obj };
  if (rest.length === 0) {
    delete copy[head];
    return copy;
  }
  const child = without(obj[head], rest);
  if (child === undefined) return undefined;
  copy[head] = child;
  return copy;
}

/** Erases each path that is present from `event` (which holds `input` and `result`); returns the erased pointers. */
export function erasePaths(event: Record<string, Json>, pointers: readonly string[]): string[] {
  const erased: string[] = [];
  for (const pointer of pointers) {
    const [root, ...rest] = parsePointer(pointer);
    if (root === undefined || !Object.hasOwn(event, root)) continue;
    if (rest.length === 0) {
      delete event[root];
      erased.push(pointer);
      continue;
    }
    const next = without(event[root], rest);
    if (next !== undefined) {
      event[root] = next;
      erased.push(pointer);
    }
  }
  return erased;
}
