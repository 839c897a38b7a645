// The `/v{version}` path prefix. dockerd routes any `[0-9.]+` there (`/v1.41.0`, `/v001.044`) and
// compares versions part by part with strconv.Atoi (a part that does not parse counts as 0,
// missing parts count as 0). So `1.41.0` and `001.041` behave exactly like `1.41`.
//
// What we accept: MAJOR.MINOR with optional extra parts that are all zero, every part 1-9
// digits. It is normalized to "MAJOR.MINOR" without leading zeros (`1.41.0` -> "1.41",
// `001.044` -> "1.44"). Refused with a message: a single part (`1`), empty parts (`1..41`,
// `.41`, `1.41.`), a non-zero third part (`1.41.1`: no client sends it and it sits between two
// API versions), over-long parts, and anything below MIN_API_VERSION.
//
// Why 1.24: below it dockerd keeps legacy behaviours that bypass create-time admission, most
// notably POST /containers/{id}/start applying a HostConfig from its body. 1.24 is also the
// oldest version current daemons accept at all.
export const MIN_API_VERSION = '1.24';
const MIN_MAJOR = 1;
const MIN_MINOR = 24;

export type ApiVersionResult =
  | { readonly ok: true; readonly version: string }
  | { readonly ok: false; readonly message: string };

const VERSION_RE = /^([0-9]{1,9})\.([0-9]{1,9})((?:\.[0-9]{1,9})*)$/;

// Clients repeat the same few version strings: remember the answers, within a bound since the
// strings come from the client.
const CACHE = new Map<string, ApiVersionResult>();
const CACHE_LIMIT = 64;

export function parseApiVersion(raw: string): ApiVersionResult {
  let result = CACHE.get(raw);
  if (result === undefined) {
    result = parseUncached(raw);
    if (CACHE.size < CACHE_LIMIT) CACHE.set(raw, result);
  }
  return result;
}

function parseUncached(raw: string): ApiVersionResult {
  const m = VERSION_RE.exec(raw);
  if (m === null) {
    return {
      ok: false,
      message: `API version "${raw}" in the path is not of the form MAJOR.MINOR (e.g. /v1.41)`,
    };
  }
  if (m[3] !== '' && !/^(?:\.0+)+$/.test(m[3]!)) {
    return {
      ok: false,
      message: `API version "${raw}" in the path is not supported: use MAJOR.MINOR (e.g. /v1.41)`,
    };
  }
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major < MIN_MAJOR || (major === MIN_MAJOR && minor < MIN_MINOR)) {
    return {
      ok: false,
      message:
        `API version ${major}.${minor} is too old: ` +
        `the minimum accepted is ${MIN_API_VERSION}`,
    };
  }
  return { ok: true, version: `${major}.${minor}` };
}
