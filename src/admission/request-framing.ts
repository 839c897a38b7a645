import type { IncomingMessage } from 'node:http';

// Request properties that are refused on every route, before any body is read:
// - a Content-Encoding: dockgate would judge the compressed bytes, not what dockerd reads;
// - form bodies: Go's form parsing lets body parameters override the query on query-driven
//   routes (/build, /images/create, rename, tag, prune…), so what we judged would not be what runs.
const FORM_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data'];

export function framingProblem(req: Pick<IncomingMessage, 'headers'>): string | null {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity' && encoding.trim() !== '') {
    return `Content-Encoding "${encoding}" is not accepted: send the body uncompressed`;
  }
  const type = req.headers['content-type'];
  if (type !== undefined) {
    const media = type.split(';', 1)[0]!.trim().toLowerCase();
    if (FORM_TYPES.includes(media)) return `Content-Type ${media} is not accepted: form bodies override query parameters in dockerd`;
  }
  return null;
}

// Clients send these on body-less routes (dockerode posts `{}` to start); dockerd ignores them.
const EMPTY_BODIES = new Set(['', '{}', 'null']);

/** True when a body sent to a route that takes none says nothing (and can be dropped). */
export function isEmptyBody(body: Buffer): boolean {
  return body.length <= 16 && EMPTY_BODIES.has(body.toString('latin1').replace(/\s+/g, ''));
}
