import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, parseJson } from '../../src/docker/json-reader.js';
import { isRawJsonNumber, type JsonValue, rawJsonNumber } from '../../src/docker/json-value.js';
import { JsonWriteError, serializeJson } from '../../src/docker/json-writer.js';

const parse = (text: string): JsonValue => parseJson(Buffer.from(text, 'utf8'));

function syntaxError(text: string | Buffer): string {
  try {
    parseJson(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  } catch (err) {
    expect(err).toBeInstanceOf(JsonSyntaxError);
    return (err as Error).message;
  }
  throw new Error(`expected a syntax error for ${String(text)}`);
}

describe('parseJson (strict JSON reader)', () => {
  it('reads every RFC 8259 value form', () => {
    expect(parse(' {"a" : [1, -2.5e+3, 0.5E-1, -0, true, false, null, "x", {}, []]} ')).toEqual({
      a: [1, -2500, 0.05, -0, true, false, null, 'x', {}, []],
    });
  });

  it('decodes every escape', () => {
    expect(parse('"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac\\ud83d\\ude00"')).toBe('"\\/\b\f\n\r\tA\u00e9\u20ac\u{1f600}');
    expect(parse('"\\u0000"')).toBe('\u0000');
  });

  it('keeps raw non-ASCII text', () => {
    expect(parse('"h\u00e9\u4e16\u{1f600}"')).toBe('h\u00e9\u4e16\u{1f600}');
  });

  it('reads free-form numbers as Go does for interface{} (float64)', () => {
    expect(parse('[9007199254740993, 1e2, 123456789012345678901234567890]')).toEqual([
      9007199254740992, 100, 1.2345678901234568e29,
    ]);
    expect(syntaxError('[1e400]')).toContain('out of range');
  });

  it('refuses duplicate keys in free-form objects', () => {
    expect(syntaxError('{"a":1,"a":2}')).toContain('duplicate key "a"');
    expect(parse('{"a":1,"A":2}')).toEqual({ a: 1, A: 2 });
  });

  it('keeps "__proto__" as an own key', () => {
    const value = parse('{"__proto__":{"polluted":true}}') as Record<string, JsonValue>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['', 'unexpected end of JSON input'],
    ['{"a":1', 'unexpected end'],
    ['{"a":1,}', "invalid character '}'"],
    ['[1,]', "invalid character ']'"],
    ['[,1]', "invalid character ','"],
    ['[1 2]', "invalid character '2' at offset 3 after array element"],
    ['{"a":1 "b":2}', 'after object key:value pair'],
    ['{"a" 1}', 'after object key'],
    ['{1:1}', 'looking for beginning of object key string'],
    ['{"a":{}"b":1}', 'after object key:value pair'],
    ['[[]1]', 'after array element'],
    ['01', 'after top-level value'],
    ['1.', 'after decimal point'],
    ['1e', 'in exponent'],
    ['1e+', 'in exponent'],
    ['-', 'in numeric literal'],
    ['-a', 'in numeric literal'],
    ['nul', 'in literal null'],
    ['truex', 'after top-level value'],
    ['"\\u12G4"', 'hexadecimal character escape'],
    ['"\\a"', 'in string escape code'],
    ['"a\nb"', 'in string literal'],
    ['"\\ud800"', 'unpaired UTF-16 surrogate'],
    ['"\\udfff"', 'unpaired UTF-16 surrogate'],
    ['\u00a0[]', 'U+00A0'],
  ])('refuses %j', (text, message) => {
    expect(syntaxError(text)).toContain(message);
  });

  it('refuses invalid UTF-8 anywhere', () => {
    expect(syntaxError(Buffer.from([0x5b, 0x22, 0xc3, 0x22, 0x5d]))).toContain('not valid UTF-8');
    expect(syntaxError(Buffer.from([0x5b, 0x5d, 0x20, 0xff]))).toContain('not valid UTF-8');
    expect(syntaxError(Buffer.from([0x22, 0xf4, 0x90, 0x80, 0x80, 0x22]))).toContain('not valid UTF-8'); // > U+10FFFF
  });

  it('limits nesting', () => {
    expect(parseJson(Buffer.from('[[[]]]'), 3)).toEqual([[[]]]);
    expect(() => parseJson(Buffer.from('[[[[]]]]'), 3)).toThrow(/nesting deeper than 3 levels/);
    expect(() => parseJson(Buffer.from('{"a":{"b":{"c":{}}}}'), 3)).toThrow(/nesting deeper/);
  });
});

describe('serializeJson', () => {
  it('writes compact JSON in insertion order', () => {
    expect(serializeJson({ b: [1, 'x', null, true], a: { c: -0.5 }, s: 'quote " and \u2028 and \u{1f600}' })).toBe(
      '{"b":[1,"x",null,true],"a":{"c":-0.5},"s":"quote \\" and \u2028 and \u{1f600}"}',
    );
  });

  it('writes raw integers digit for digit', () => {
    const big = rawJsonNumber('-9223372036854775808');
    expect(isRawJsonNumber(big)).toBe(true);
    expect(isRawJsonNumber({ rawJSON: '1' })).toBe(false); // a look-alike object is an object
    expect(serializeJson({ Memory: big, Look: { rawJSON: '1' } })).toBe(
      '{"Memory":-9223372036854775808,"Look":{"rawJSON":"1"}}',
    );
  });

  it('writes "__proto__" own keys', () => {
    const value = parse('{"__proto__":"x"}');
    expect(serializeJson(value)).toBe('{"__proto__":"x"}');
  });

  it.each([
    ['NaN', { a: Number.NaN }],
    ['Infinity', [Number.POSITIVE_INFINITY]],
    ['undefined', { a: undefined }],
    ['a bigint', { a: 1n }],
    ['a function', { a: () => 1 }],
    ['a hole', [1, , 3]], // eslint-disable-line no-sparse-arrays
    ['toJSON', { toJSON: () => 'x' }],
  ])('refuses %s instead of writing something else', (_name, value) => {
    expect(() => serializeJson(value as unknown as JsonValue)).toThrow(JsonWriteError);
  });
});
