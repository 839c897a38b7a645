import type { IncomingMessage } from 'node:http';

// Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the message: each side of
// the proxy sets its own. `expect` is answered by our own server already.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

/** Tokens listed in Connection headers name further hop-by-hop headers. */
function connectionTokens(raw: readonly string[]): Set<string> | null {
  let tokens: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'connection') continue;
    for (const t of raw[i + 1]!.split(',')) {
      const name = t.trim().toLowerCase();
      if (name !== '' && name !== 'close' && name !== 'keep-alive' && name !== 'upgrade') {
        (tokens ??= new Set()).add(name);
      }
    }
  }
  return tokens;
}

/** Whether a request's framing headers announce a body (a Content-Length of 0 does not). */
export function hasBody(req: Pick<IncomingMessage, 'headers'>): boolean {
  const cl = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
}

/** For HeaderFilter.drop: a body re-framed by the proxy gets a length of its own. */
export const CONTENT_LENGTH: ReadonlySet<string> = new Set(['content-length']);

export interface HeaderFilter {
  /** Also drop these (lower-case) names, e.g. content-length when the body is replaced. */
  drop?: ReadonlySet<string>;
  /** Keep the Upgrade/Connection pair (hijack requests forward them as sent). */
  keepUpgrade?: boolean;
}

/** A copy of a flat raw-header list (as in IncomingMessage.rawHeaders) without hop-by-hop headers. */
export function endToEndHeaders(raw: readonly string[], filter: HeaderFilter = {}): string[] {
  const extra = connectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (!(filter.keepUpgrade && (lower === 'connection' || lower === 'upgrade'))) continue;
    } else if (extra?.has(lower) || filter.drop?.has(lower)) {
      continue;
    }
    out.push(name, raw[i + 1]!);
  }
  return out;
}

/** First value of a header in a flat raw-header list, case-insensitively. */
export function rawHeader(raw: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === lowerName) return raw[i + 1];
  }
  return undefined;
}
