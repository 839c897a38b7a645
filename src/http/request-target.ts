import { percentDecode } from './percent-decode.js';

// The request target (Node's req.url) taken apart the way dockerd's Go net/http + gorilla mux
// see it: the path is percent-decoded exactly once (`%2F` and `%63` decode and route), and a
// path that mux would answer with a redirect (`//`, `.`/`..` segments — also when they appear
// only after decoding) or that no route can match (trailing slash) is refused here instead of
// being forwarded. Only what a Docker client can legitimately send is accepted; everything
// odd is a 400 with a message, never a guess.

export type RequestTargetResult =
  | { readonly ok: true; readonly path: string; readonly rawQuery: string }
  | { readonly ok: false; readonly message: string };

function fail(message: string): RequestTargetResult {
  return { ok: false, message };
}

// Absolute-form (`http://host/path`, RFC 9112 3.2.2) as sent through HTTP proxies. Go takes the
// path from any scheme; only http and https are accepted here. The authority is checked against
// the RFC 3986 authority characters; the path must be present.
const ABSOLUTE_FORM_RE =
  /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]*)(\/.*)?$/s;

// Anything outside printable ASCII, and '#': a client percent-encodes these; raw, they would
// only be there to confuse a parser.
const RAW_UNSAFE_RE = /[^\x21\x22\x24-\x7e]/;
const CONTROL_RE = /[\x00-\x1f\x7f]/;
const DOT_SEGMENT_RE = /\/\.\.?(?:\/|$)/;

// `path` is decoded and starts with '/'. gorilla mux redirects `//` and dot segments (after
// path.Clean), and no dockerd route ends in '/' except GET /networks/ (a list) and
// catch-alls that would see an empty or '/'-ended name.
function uncleanReason(path: string): string | null {
  if (path.includes('//')) return 'an empty path segment ("//")';
  if (DOT_SEGMENT_RE.test(path)) return 'a "." or ".." path segment';
  if (path.length > 1 && path.charCodeAt(path.length - 1) === 0x2f) return 'a trailing slash';
  return null;
}

export function parseRequestTarget(rawTarget: string): RequestTargetResult {
  if (rawTarget.length === 0) return fail('empty request target');
  if (RAW_UNSAFE_RE.test(rawTarget)) {
    return rawTarget.includes('#')
      ? fail('request target contains a fragment ("#")')
      : fail('request target contains a character that must be percent-encoded');
  }

  const q = rawTarget.indexOf('?');
  let rawPath = q < 0 ? rawTarget : rawTarget.slice(0, q);
  const rawQuery = q < 0 ? '' : rawTarget.slice(q + 1);

  if (rawPath.charCodeAt(0) !== 0x2f /* / */) {
    const m = ABSOLUTE_FORM_RE.exec(rawPath);
    if (m === null) {
      return fail('request target must be a path ("/...") or an absolute http:// URL');
    }
    const scheme = m[1]!.toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') {
      return fail(`request target scheme "${m[1]}" is not accepted (only http and https)`);
    }
    if (m[3] === undefined) return fail('absolute request target has no path');
    rawPath = m[3];
  }

  const path = percentDecode(rawPath, false);
  if (path === null) {
    return fail('request path has an invalid percent-encoding or is not valid UTF-8');
  }
  // Only decoding can bring control characters in. (Go's `.` in mux patterns stops at '\n'.)
  if (path !== rawPath && CONTROL_RE.test(path)) {
    return fail('request path contains an encoded control character');
  }
  const unclean = uncleanReason(path);
  if (unclean !== null) {
    return fail(
      `request path "${path}" has ${unclean}; the Docker daemon would not run it as sent, ` +
        'use the plain path',
    );
  }
  return { ok: true, path, rawQuery };
}
