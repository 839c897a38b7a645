import { percentDecode } from '../http/percent-decode.js';

/**
 * `rawQuery` (validated, without '?') with every `name` parameter removed and one `name=value`
 * appended. Replacing, never appending to what the client sent: dockerd reads the first value, so
 * an added second value would be ignored. Keys are compared decoded (`%66ilters` is `filters`).
 */
export function replaceQueryParam(rawQuery: string, name: string, value: string): string {
  const kept = rawQuery === '' ? [] : rawQuery.split('&').filter((pair) => {
    if (pair === '') return false;
    const eq = pair.indexOf('=');
    return percentDecode(eq < 0 ? pair : pair.slice(0, eq), true) !== name;
  });
  kept.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  return kept.join('&');
}
