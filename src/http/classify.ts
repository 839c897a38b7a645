import type { RouteBody } from '../docker/body-kinds.js';
import { parseApiVersion } from './api-version.js';
import { firstValue, parseQuery, type Query } from './query.js';
import { parseRequestTarget } from './request-target.js';
import { matchRoute, type RouteMatch } from './route-matcher.js';
import type { RouteKind, RouteOperation } from './route-table.js';

// classify(method, rawTarget): the one place that decides which Engine API route a request is,
// exactly as dockerd would route it, or refuses it (400) when dockerd would not execute it as
// sent (redirects, case or trailing-slash 404s) or when we cannot be sure how it parses.
// Unknown routes are not refused here: they classify as kind/operation 'unknown' with a
// 'stream' body, and the policy decides.

export interface ClassifiedRoute {
  readonly kind: RouteKind;
  readonly operation: RouteOperation;
  // The decoded object id/name from the path (image names may contain '/' and ':').
  readonly target?: string;
  readonly body: RouteBody;
  readonly hijack: boolean;
  // Normalized "MAJOR.MINOR" from the /v prefix; null when the path has none (dockerd then
  // runs the request at its own newest API version).
  readonly apiVersion: string | null;
  // Decoded path without the version prefix, e.g. "/containers/create".
  readonly path: string;
  readonly query: Query;
  // The raw (still encoded) query string without '?', validated; '' when absent.
  readonly rawQuery: string;
}

export type ClassifyResult =
  | { readonly ok: true; readonly route: ClassifiedRoute }
  | { readonly ok: false; readonly status: 400 | 404; readonly message: string };

function refuse(message: string): ClassifyResult {
  return { ok: false, status: 400, message };
}

interface VersionSplit {
  readonly version: string | null;
  readonly rest: string;
}

// dockerd registers every route also as `/v{version:[0-9.]+}` + route: the prefix is only a
// version when `[0-9.]+` is followed by '/'. (`/v1.41` alone or `/v1x/...` are plain paths.)
function splitVersion(path: string): VersionSplit {
  if (path.charCodeAt(1) !== 0x76 /* v */) return { version: null, rest: path };
  let i = 2;
  while (i < path.length) {
    const code = path.charCodeAt(i);
    if (!((code >= 0x30 && code <= 0x39) || code === 0x2e)) break;
    i++;
  }
  if (i === 2 || i >= path.length || path.charCodeAt(i) !== 0x2f) {
    return { version: null, rest: path };
  }
  return { version: path.slice(2, i), rest: path.slice(i) };
}

function matchWithVersion(method: string, path: string): RouteMatch | null {
  return matchRoute(method, splitVersion(path).rest);
}

export function classify(method: string, rawTarget: string): ClassifyResult {
  const target = parseRequestTarget(rawTarget);
  if (!target.ok) return refuse(target.message);

  const { version, rest } = splitVersion(target.path);
  let apiVersion: string | null = null;
  if (version !== null) {
    const parsed = parseApiVersion(version);
    if (!parsed.ok) return refuse(parsed.message);
    apiVersion = parsed.version;
  }

  const parsedQuery = parseQuery(target.rawQuery);
  if (!parsedQuery.ok) return refuse(parsedQuery.message);
  const { query } = parsedQuery;

  const match = matchRoute(method, rest);
  if (match === null) {
    // Route literals are lower case: if the lower-cased path routes, the client got the case
    // wrong (dockerd answers 404). Say so instead of passing it on as an unknown route.
    const lower = target.path.toLowerCase();
    if (lower !== target.path && matchWithVersion(method, lower) !== null) {
      return refuse(
        `request path "${target.path}" does not match the Docker API's case; paths are ` +
          'case-sensitive (use lower case, e.g. /containers/create)',
      );
    }
    return {
      ok: true,
      route: {
        kind: 'unknown',
        operation: 'unknown',
        target: undefined,
        body: 'stream',
        hijack: false,
        apiVersion,
        path: rest,
        query,
        rawQuery: target.rawQuery,
      },
    };
  }

  const { route } = match;
  let operation: RouteOperation = route.operation;
  if (route.kind === 'image' && operation === 'pull') {
    // dockerd's POST /images/create pulls when the first fromImage value is non-empty and
    // imports (from fromSrc, possibly the request body) otherwise.
    const fromImage = firstValue(query, 'fromImage');
    operation = fromImage === undefined || fromImage === '' ? 'import' : 'pull';
  }
  return {
    ok: true,
    route: {
      kind: route.kind,
      operation,
      // Always present (possibly undefined) so every result has the same shape.
      target: match.target,
      body: route.body,
      hijack: route.hijack,
      apiVersion,
      path: rest,
      query,
      rawQuery: target.rawQuery,
    },
  };
}

// Characters a path segment keeps unencoded in canonicalTarget; dockerd decodes the rest back.
const PATH_SAFE_RE = /^[A-Za-z0-9\-._~!$&'()*+,=:@/]*$/;

// The origin-form target to forward for a classified request: the version prefix as we
// normalized it, the decoded path encoded again (so dockerd decodes it back to exactly
// route.path), and the validated raw query. Forwarding this instead of the client's bytes
// means dockerd routes what was judged, whatever form the client used.
export function canonicalTarget(route: ClassifiedRoute): string {
  const prefix = route.apiVersion === null ? '' : `/v${route.apiVersion}`;
  const path = PATH_SAFE_RE.test(route.path)
    ? route.path
    : route.path
        .split('/')
        .map((segment) =>
          encodeURIComponent(segment).replace(/%3A/g, ':').replace(/%40/g, '@'),
        )
        .join('/');
  const query = route.rawQuery === '' ? '' : `?${route.rawQuery}`;
  return prefix + path + query;
}
