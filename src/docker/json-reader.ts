import { isUtf8 } from 'node:buffer';
import { type JsonObject, type JsonValue, setOwn } from './json-value.js';

// A strict pull reader for JSON text (RFC 8259, the grammar Go's encoding/json accepts), stricter
// than Go where Go silently repairs: invalid UTF-8 and lone UTF-16 surrogate escapes are refused
// (Go turns both into U+FFFD). The caller drives it value by value, so a body is decoded onto the
// schema in one pass without building an intermediate tree. It reads a JS string (the body
// validated and decoded once): slicing a string is far cheaper than decoding many small buffers.
// Offsets in messages count UTF-16 units of that text (bytes, for ASCII bodies).

/** What the next value is, from its first byte. */
export type JsonToken = 'object' | 'array' | 'string' | 'number' | 'true' | 'false' | 'null';

export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
}

export const DEFAULT_MAX_DEPTH = 256;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const END = -1;

/** The body as JSON text; invalid UTF-8 (overlongs, surrogates, beyond U+10FFFF) is refused. */
export function decodeJsonText(body: Buffer): string {
  if (!isUtf8(body)) throw new JsonSyntaxError('the body is not valid UTF-8');
  return body.toString('utf8');
}

export class JsonReader {
  private readonly text: string;
  private readonly maxDepth: number;
  private pos = 0;
  private depth = 0;
  // True right after `{` or `[`: the first member/element takes no comma.
  private first = false;
  // The character(s) the last escape sequence stood for (set by readEscape).
  private escaped = '';
  /** Whether the last number read was an integer literal (no fraction, no exponent). */
  numberIsInteger = false;

  constructor(text: string, maxDepth: number = DEFAULT_MAX_DEPTH) {
    this.text = text;
    this.maxDepth = maxDepth;
  }

  /** The kind of the next value (whitespace skipped, nothing consumed). */
  peek(): JsonToken {
    const c = this.skipWhitespace();
    switch (c) {
      case OPEN_BRACE:
        return 'object';
      case OPEN_BRACKET:
        return 'array';
      case QUOTE:
        return 'string';
      case 0x74: // t
        return 'true';
      case 0x66: // f
        return 'false';
      case 0x6e: // n
        return 'null';
      default:
        if (c === MINUS || (c >= ZERO && c <= NINE)) return 'number';
        throw this.unexpected(c, 'looking for beginning of value');
    }
  }

  /** Consumes `{`; then call nextKey until it returns undefined. */
  beginObject(): void {
    this.enter(OPEN_BRACE);
  }

  /** The next member's key (its `:` consumed), or undefined at the object's end (`}` consumed). */
  nextKey(): string | undefined {
    let c = this.skipWhitespace();
    if (c === CLOSE_BRACE) {
      this.leave();
      return undefined;
    }
    if (!this.first) {
      if (c !== COMMA) throw this.unexpected(c, 'after object key:value pair');
      this.pos++;
      c = this.skipWhitespace();
    }
    this.first = false;
    if (c !== QUOTE) throw this.unexpected(c, 'looking for beginning of object key string');
    const key = this.readString();
    c = this.skipWhitespace();
    if (c !== COLON) throw this.unexpected(c, 'after object key');
    this.pos++;
    return key;
  }

  /** Consumes `[`; then call nextElement until it returns false. */
  beginArray(): void {
    this.enter(OPEN_BRACKET);
  }

  /** True when an element follows (read it next); false at the array's end (`]` consumed). */
  nextElement(): boolean {
    const c = this.skipWhitespace();
    if (c === CLOSE_BRACKET) {
      this.leave();
      return false;
    }
    if (!this.first) {
      if (c !== COMMA) throw this.unexpected(c, 'after array element');
      this.pos++;
    }
    this.first = false;
    return true;
  }

  readString(): string {
    const text = this.text;
    if (this.skipWhitespace() !== QUOTE) throw this.unexpected(this.charAt(this.pos), 'looking for a string');
    const start = this.pos + 1;
    // Fast path: no escapes, one slice.
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        this.pos = i + 1;
        return text.slice(start, i);
      }
      if (c === BACKSLASH || c < 0x20) return this.readStringSlow(start, i);
    }
    throw this.unexpectedEnd('in string literal');
  }

  /** Reads a number literal and returns its exact text; sets numberIsInteger. */
  readNumberText(): string {
    const text = this.text;
    this.skipWhitespace();
    const start = this.pos;
    let i = start;
    let integer = true;
    if (text.charCodeAt(i) === MINUS) i++;
    let c = this.charAt(i);
    if (c === ZERO) {
      i++;
    } else if (c > ZERO && c <= NINE) {
      i = this.skipDigits(i + 1);
    } else {
      throw this.unexpected(c, 'in numeric literal', i);
    }
    if (text.charCodeAt(i) === 0x2e) {
      // .
      integer = false;
      c = this.charAt(i + 1);
      if (!(c >= ZERO && c <= NINE)) throw this.unexpected(c, 'after decimal point in numeric literal', i + 1);
      i = this.skipDigits(i + 2);
    }
    c = text.charCodeAt(i);
    if (c === 0x65 || c === 0x45) {
      // e E
      integer = false;
      i++;
      c = text.charCodeAt(i);
      if (c === 0x2b || c === MINUS) i++;
      c = this.charAt(i);
      if (!(c >= ZERO && c <= NINE)) throw this.unexpected(c, 'in exponent of numeric literal', i);
      i = this.skipDigits(i + 1);
    }
    this.pos = i;
    this.numberIsInteger = integer;
    return text.slice(start, i);
  }

  readBoolean(): boolean {
    const t = this.peek();
    if (t === 'true') {
      this.literal('true');
      return true;
    }
    if (t === 'false') {
      this.literal('false');
      return false;
    }
    throw this.unexpected(this.charAt(this.pos), 'looking for a boolean');
  }

  readNull(): null {
    if (this.peek() !== 'null') throw this.unexpected(this.charAt(this.pos), 'looking for null');
    this.literal('null');
    return null;
  }

  /** Validates and skips the next value (an unknown field's): Go rejects bad JSON anywhere. */
  skipValue(): void {
    switch (this.peek()) {
      case 'object':
        this.beginObject();
        while (this.nextKey() !== undefined) this.skipValue();
        return;
      case 'array':
        this.beginArray();
        while (this.nextElement()) this.skipValue();
        return;
      case 'string':
        this.readString();
        return;
      case 'number':
        this.readNumberText();
        return;
      case 'true':
        this.literal('true');
        return;
      case 'false':
        this.literal('false');
        return;
      case 'null':
        this.literal('null');
        return;
    }
  }

  /**
   * Reads any value as Go decodes it into interface{}: numbers as float64 (an integer literal
   * that is exact in a double stays a number; others are rounded, like Go), objects with their keys
   * as sent. Duplicate keys are refused.
   */
  readAny(): JsonValue {
    switch (this.peek()) {
      case 'object': {
        const out: JsonObject = {};
        this.beginObject();
        for (let key = this.nextKey(); key !== undefined; key = this.nextKey()) {
          if (Object.hasOwn(out, key)) throw new JsonSyntaxError(`duplicate key ${quoteForMessage(key)}`);
          setOwn(out, key, this.readAny());
        }
        return out;
      }
      case 'array': {
        const out: JsonValue[] = [];
        this.beginArray();
        while (this.nextElement()) out.push(this.readAny());
        return out;
      }
      case 'string':
        return this.readString();
      case 'number':
        return this.readFloat();
      case 'true':
        this.literal('true');
        return true;
      case 'false':
        this.literal('false');
        return false;
      case 'null':
        this.literal('null');
        return null;
    }
  }

  /** A number as Go's float64 fields take it: out of range (1e400) is an error, like Go's. */
  readFloat(): number {
    const text = this.readNumberText();
    const n = Number(text);
    if (!Number.isFinite(n)) throw new JsonSyntaxError(`number ${abbreviate(text)} is out of range`);
    return n;
  }

  /** Ends the document: only whitespace may follow the top-level value. */
  end(): void {
    const c = this.skipWhitespace();
    if (c !== END) throw this.unexpected(c, 'after top-level value');
  }

  private enter(open: number): void {
    const c = this.skipWhitespace();
    if (c !== open) throw this.unexpected(c, open === OPEN_BRACE ? 'looking for an object' : 'looking for an array');
    if (++this.depth > this.maxDepth) {
      throw new JsonSyntaxError(`nesting deeper than ${this.maxDepth} levels at offset ${this.pos}`);
    }
    this.pos++;
    this.first = true;
  }

  private leave(): void {
    this.pos++;
    this.depth--;
    this.first = false;
  }

  private literal(word: 'true' | 'false' | 'null'): void {
    for (let k = 0; k < word.length; k++) {
      const c = this.charAt(this.pos + k);
      if (c !== word.charCodeAt(k)) throw this.unexpected(c, `in literal ${word}`, this.pos + k);
    }
    this.pos += word.length;
  }

  private skipDigits(i: number): number {
    const text = this.text;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c < ZERO || c > NINE) break;
      i++;
    }
    return i;
  }

  // Strings with escapes: decoded run by run.
  private readStringSlow(start: number, from: number): string {
    const text = this.text;
    let out = '';
    let runStart = start;
    let i = from;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        out += text.slice(runStart, i);
        this.pos = i + 1;
        return out;
      }
      if (c === BACKSLASH) {
        out += text.slice(runStart, i);
        i = this.readEscape(i + 1);
        out += this.escaped;
        runStart = i;
        continue;
      }
      if (c < 0x20) throw this.unexpected(c, 'in string literal', i);
      i++;
    }
    throw this.unexpectedEnd('in string literal');
  }

  // Decodes the escape after a backslash at i-1 into this.escaped; returns the index after it.
  private readEscape(i: number): number {
    const c = this.charAt(i);
    switch (c) {
      case QUOTE:
        this.escaped = '"';
        return i + 1;
      case BACKSLASH:
        this.escaped = '\\';
        return i + 1;
      case 0x2f:
        this.escaped = '/';
        return i + 1;
      case 0x62:
        this.escaped = '\b';
        return i + 1;
      case 0x66:
        this.escaped = '\f';
        return i + 1;
      case 0x6e:
        this.escaped = '\n';
        return i + 1;
      case 0x72:
        this.escaped = '\r';
        return i + 1;
      case 0x74:
        this.escaped = '\t';
        return i + 1;
      case 0x75: {
        // u
        const unit = this.hex4(i + 1);
        if (unit >= 0xd800 && unit <= 0xdbff) {
          // A high surrogate must be followed by an escaped low one.
          if (this.text.charCodeAt(i + 5) === BACKSLASH && this.text.charCodeAt(i + 6) === 0x75) {
            const low = this.hex4(i + 7);
            if (low >= 0xdc00 && low <= 0xdfff) {
              this.escaped = String.fromCharCode(unit, low);
              return i + 11;
            }
          }
          throw new JsonSyntaxError(`unpaired UTF-16 surrogate escape at offset ${i - 1}`);
        }
        if (unit >= 0xdc00 && unit <= 0xdfff) {
          throw new JsonSyntaxError(`unpaired UTF-16 surrogate escape at offset ${i - 1}`);
        }
        this.escaped = String.fromCharCode(unit);
        return i + 5;
      }
      default:
        throw this.unexpected(c, 'in string escape code', i);
    }
  }

  private hex4(i: number): number {
    let v = 0;
    for (let k = i; k < i + 4; k++) {
      const c = this.charAt(k);
      let d: number;
      if (c >= ZERO && c <= NINE) d = c - ZERO;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
      else throw this.unexpected(c, 'in \\u hexadecimal character escape', k);
      v = v * 16 + d;
    }
    return v;
  }

  private skipWhitespace(): number {
    const text = this.text;
    let i = this.pos;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
        this.pos = i;
        return c;
      }
      i++;
    }
    this.pos = i;
    return END;
  }

  private charAt(i: number): number {
    return i < this.text.length ? this.text.charCodeAt(i) : END;
  }

  private unexpected(c: number, context: string, at: number = this.pos): JsonSyntaxError {
    if (c === END) return this.unexpectedEnd(context);
    const shown = c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
    return new JsonSyntaxError(`invalid character ${shown} at offset ${at} ${context}`);
  }

  private unexpectedEnd(context: string): JsonSyntaxError {
    return new JsonSyntaxError(`unexpected end of JSON input ${context}`);
  }
}

/** A key or value for an error message: JSON-quoted and cut short. */
export function quoteForMessage(s: string): string {
  return JSON.stringify(abbreviate(s));
}

function abbreviate(s: string): string {
  return s.length > 64 ? `${s.slice(0, 61)}...` : s;
}

/** Parses a whole document strictly (free-form values; duplicate keys refused). */
export function parseJson(body: Buffer, maxDepth: number = DEFAULT_MAX_DEPTH): JsonValue {
  const r = new JsonReader(decodeJsonText(body), maxDepth);
  const value = r.readAny();
  r.end();
  return value;
}
