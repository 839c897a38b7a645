// Percent-decoding with Go net/url semantics (unescape in path or query-component mode), for
// request targets already checked to be printable ASCII: `%XX` (either hex case) becomes the
// byte XX, in query components `+` becomes a space, everything else stays. Go keeps the bytes
// as they are; a JS string cannot, so bytes that are not valid UTF-8 are refused (null) rather
// than replaced, and so is a malformed escape (Go refuses those too).

// ignoreBOM: a decoded leading U+FEFF is data, not a byte-order mark to drop.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30; // 0-9
  if (code >= 0x41 && code <= 0x46) return code - 0x37; // A-F
  if (code >= 0x61 && code <= 0x66) return code - 0x57; // a-f
  return -1;
}

// Reused between calls (decoding is synchronous): allocating a typed array per call costs more
// than the decoding itself.
let scratch = new Uint8Array(256);

export function percentDecode(input: string, plusAsSpace: boolean): string | null {
  if (!input.includes('%') && !(plusAsSpace && input.includes('+'))) return input;
  if (scratch.length < input.length) {
    scratch = new Uint8Array(Math.max(input.length, scratch.length * 2));
  }
  const bytes = scratch;
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const code = input.charCodeAt(i);
    if (code === 0x25 /* % */) {
      const hi = i + 2 < input.length ? hexValue(input.charCodeAt(i + 1)) : -1;
      const lo = hi < 0 ? -1 : hexValue(input.charCodeAt(i + 2));
      if (lo < 0) return null;
      bytes[n++] = hi * 16 + lo;
      i += 2;
    } else if (code === 0x2b /* + */ && plusAsSpace) {
      bytes[n++] = 0x20;
    } else if (code > 0x7f) {
      // Callers pass ASCII only; anything else is a caller bug, not something to guess at.
      return null;
    } else {
      bytes[n++] = code;
    }
  }
  try {
    return UTF8.decode(bytes.subarray(0, n));
  } catch {
    return null;
  }
}
