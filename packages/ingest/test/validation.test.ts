import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { isIsoDate } from '../src/column-types.js';
import { isValidValue, parseManifest } from '../src/index.js';
import { parseIsoDate } from '../src/interval.js';
import { createUtf8Guard } from '../src/utf8-guard.js';

describe('isValidValue', () => {
  const cases: Array<[Parameters<typeof isValidValue>[0], string[], string[]]> = [
    ['integer', ['0', '-12', '+7', '2147483647'], ['1.5', 'x', '2147483648', '1e3']],
    ['bigint', ['9223372036854775807'], ['9223372036854775808']],
    ['numeric', ['1', '-1.50', '.5', '1e-3'], ['1,5', 'abc', '--1']],
    ['boolean', ['true', 'F', 'yes', '0'], ['maybe', '2']],
    ['date', ['2024-02-29'], ['2023-02-29', '2024/01/01', '2024-01-01T00:00:00']],
    [
      'timestamp',
      ['2024-01-01 10:00:00', '2024-01-01T10:00:00.123Z', '2024-01-01T10:00+02:00', '2024-01-01'],
      ['2024-01-01 25:00:00', 'noon'],
    ],
    ['uuid', ['123e4567-e89b-12d3-a456-426614174000'], ['123']],
    ['json', ['{"a":1}', '[1]', '"s"'], ['{a:1}']],
    ['text', ['anything'], []],
  ];
  for (const [type, good, bad] of cases) {
    it(type, () => {
      for (const v of good) expect(isValidValue(type, v), v).toBe(true);
      for (const v of bad) expect(isValidValue(type, v), v).toBe(false);
      expect(isValidValue(type, '')).toBe(true);
    });
  }
});

/** The reference: a Date.UTC round trip (years 0-99 are mapped to 1900+ by Date.UTC: refused). */
function referenceIsoDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

describe('isIsoDate (the date check without a Date round trip)', () => {
  it('agrees with a Date.UTC round trip on every month/day of years around the Gregorian and Date.UTC edges', () => {
    const pad = (n: number, w: number): string => String(n).padStart(w, '0');
    let checked = 0;
    for (const y of [0, 1, 99, 100, 101, 1582, 1600, 1700, 1900, 1999, 2000, 2023, 2024, 2100, 2400, 9999]) {
      for (let m = 0; m <= 13; m++) {
        for (let d = 0; d <= 32; d++) {
          const value = `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
          expect(isIsoDate(value), value).toBe(referenceIsoDate(value));
          expect(parseIsoDate(value) !== undefined, value).toBe(referenceIsoDate(value));
          if (referenceIsoDate(value)) expect(parseIsoDate(value)).toBe(Date.UTC(y, m - 1, d));
          checked++;
        }
      }
    }
    for (const value of [
      '2024-1-01',
      '２０２４-01-01',
      '2024-01-01 ',
      '+024-01-01',
      '2024/01/01',
      '2024-01-0a',
    ]) {
      expect(isIsoDate(value), value).toBe(false);
      expect(parseIsoDate(value)).toBeUndefined();
    }
    expect(checked).toBe(16 * 14 * 33);
  });
});

describe('utf8 guard', () => {
  const through = async (chunks: Buffer[]): Promise<string> => {
    const guard = createUtf8Guard({ source: 's', location: 'f.csv' });
    let out = '';
    await pipeline(Readable.from(chunks), guard, async (source: AsyncIterable<Buffer>) => {
      out = await text(source);
    });
    return out;
  };

  it('passes multi-byte characters split across chunks', async () => {
    const bytes = Buffer.from('a,b\n1,ʤ€😀\n');
    const chunks = Array.from(bytes, (_b, i) => bytes.subarray(i, i + 1));
    expect(await through(chunks)).toBe('a,b\n1,ʤ€😀\n');
  });

  it('fails with BAD_ENCODING and the line of the bad byte', async () => {
    const error = await through([Buffer.from('a\nb\n'), Buffer.from([0x63, 0x0a, 0xff, 0x0a])]).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'BAD_ENCODING', line: 4, location: 'f.csv' });
  });

  it('fails on a sequence truncated at end of input', async () => {
    const error = await through([Buffer.from('a\n'), Buffer.from([0xe2, 0x82])]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BAD_ENCODING', line: 2 });
  });
});

describe('parseManifest', () => {
  it('rejects non-JSON and wrong shapes with BAD_MANIFEST', () => {
    expect(() => parseManifest('{', 'k')).toThrow(expect.objectContaining({ code: 'BAD_MANIFEST' }));
    expect(() => parseManifest('{"version":2}', 'k')).toThrow(
      expect.objectContaining({ code: 'BAD_MANIFEST' }),
    );
  });
});
