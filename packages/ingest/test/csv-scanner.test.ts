import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CsvError, parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { bytesValidator, type ColumnType, isValidValue, valueValidator } from '../src/column-types.js';
import { CsvScanner, type FieldCheck } from '../src/csv-scanner.js';
import { IngestError } from '../src/index.js';

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs the scanner over `input` split into random chunks; returns header + records as csv-parse reads its output. */
function scan(
  input: Buffer,
  random: () => number,
  maxBatch = 64,
  declared?: Record<string, ColumnType>,
): { header: string[]; rows: string[][]; batches: number } {
  const scanner = new CsvScanner(
    { source: 's', location: 'f.csv' },
    maxBatch,
    declared ? (header) => typeChecks(header, declared) : undefined,
  );
  const out: Buffer[] = [];
  let rows = 0;
  let batches = 0;
  let i = 0;
  while (i < input.length) {
    const n = 1 + Math.floor(random() * 40);
    for (const b of scanner.push(input.subarray(i, i + n))) {
      out.push(b.bytes);
      rows += b.rows;
      batches++;
    }
    i += n;
  }
  for (const b of scanner.end()) {
    out.push(b.bytes);
    rows += b.rows;
    batches++;
  }
  const body = Buffer.concat(out);
  expect(body.length === 0 || body[body.length - 1] === 0x0a).toBe(true);
  const parsed = body.length === 0 ? [] : (parse(body) as string[][]);
  expect(parsed).toHaveLength(rows);
  return { header: scanner.header ?? [], rows: parsed, batches };
}

/** What the csv-parse path accepts: header + records, or the error line. */
function reference(input: Buffer): { header: string[]; rows: string[][] } | { line: number } {
  try {
    const all = parse(input, { bom: true, relax_quotes: false, skip_empty_lines: true }) as string[][];
    return { header: all[0] ?? [], rows: all.slice(1) };
  } catch (error) {
    if (error instanceof CsvError) return { line: (error as unknown as { lines: number }).lines };
    throw error;
  }
}

/** The checks ingestCsv hands the scanner for declared types (BAD_VALUE naming line and column). */
function typeChecks(header: string[], declared: Record<string, ColumnType>): FieldCheck[] {
  return Object.entries(declared).map(([name, type]) => ({
    index: header.indexOf(name),
    valid: valueValidator(type),
    validBytes: bytesValidator(type),
    fail: (line: number) => new IngestError('BAD_VALUE', `line ${line}`, { line, column: name }),
  }));
}

/**
 * What the csv-parse path reports for declared types: records, or the first error in file order —
 * its code, line and column. (The streaming csv-parse path may instead report a malformed row
 * that follows a bad value in the same chunk; the fast path reports the first.)
 */
function typedReference(
  input: Buffer,
  declared: Record<string, ColumnType>,
): { header: string[]; rows: string[][] } | { code: string; line: number; column?: string } {
  let header: string[] | undefined;
  let badValue: { code: string; line: number; column: string } | undefined;
  const rows: string[][] = [];
  try {
    parse(input, {
      bom: true,
      skip_empty_lines: true,
      on_record: (record: string[], context: { lines: number }) => {
        if (header === undefined) header = record;
        else if (badValue === undefined) {
          for (const [name, type] of Object.entries(declared)) {
            if (!isValidValue(type, record[header.indexOf(name)] ?? '')) {
              badValue = { code: 'BAD_VALUE', line: context.lines, column: name };
              break;
            }
          }
          rows.push(record);
        }
        return record;
      },
    });
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    return badValue ?? { code: 'BAD_ROW', line: (error as unknown as { lines: number }).lines };
  }
  return badValue ?? { header: header ?? [], rows };
}

const TYPED_VALUES: Partial<Record<ColumnType, { good: string[]; bad: string[] }>> = {
  integer: {
    good: ['0', '-12', '+7', '2147483647', '-2147483648', '-0', '007', ''],
    bad: ['1.5', 'x', '2147483648', '-2147483649', '1e3', '+', '-', ' 1', '12345678901234567890', '１'],
  },
  smallint: { good: ['32767', '-32768', ''], bad: ['32768', '-32769', '1_0'] },
  bigint: {
    good: ['9223372036854775807', '-9223372036854775808', '123456789012345', '+1234567890123456'],
    bad: ['9223372036854775808', '-9223372036854775809', '1.0'],
  },
  numeric: {
    good: ['1', '-1.50', '.5', '1.', '1e-3', '+2E+10', '0.000', ''],
    bad: ['.', 'e5', '1e', '1e+', '1,5', '--1', 'NaN', '1.2.3', ' 1'],
  },
  date: {
    good: ['2024-02-29', '2000-02-29', '0100-01-01', '9999-12-31', ''],
    bad: [
      '2023-02-29',
      '1900-02-29',
      '0099-12-31',
      '2024-13-01',
      '2024-00-10',
      '2024-1-01',
      '2024-01-32',
      '2024/01/01',
      'x',
    ],
  },
  boolean: { good: ['true', 'F', 'yes', '0', ''], bad: ['maybe', '2'] },
  json: { good: ['{"a":1}', '[1,"x"]', '"s"', ''], bad: ['{a:1}', '['] },
};

const ALPHABET = ['a', 'b', 'Z', '1', ' ', ',', '"', '\n', '\r\n', 'ʤ', '€', '😀', ''];

function randomField(random: () => number): string {
  const len = Math.floor(random() * 6);
  let s = '';
  for (let i = 0; i < len; i++) s += ALPHABET[Math.floor(random() * ALPHABET.length)];
  return s;
}

function encodeField(value: string, random: () => number): string {
  const needs = /[",\r\n]/.test(value) || value === '';
  return needs || random() < 0.2 ? `"${value.replaceAll('"', '""')}"` : value;
}

describe('CsvScanner (fast path) agrees with csv-parse', () => {
  it('valid random CSVs: same header and records, any chunking, LF or CRLF, BOM, blank lines', () => {
    const random = rng(42);
    for (let round = 0; round < 300; round++) {
      const cols = 1 + Math.floor(random() * 4);
      const records = Array.from({ length: Math.floor(random() * 8) }, () =>
        Array.from({ length: cols }, () => randomField(random)),
      );
      const header = Array.from({ length: cols }, (_, i) => `c${i}`);
      const eol = random() < 0.5 ? '\n' : '\r\n';
      let text = random() < 0.2 ? '\uFEFF' : '';
      text += header.join(',') + eol;
      for (const r of records) {
        // A lone empty field would be a blank line: quote it, as any writer must.
        text += (cols === 1 && r[0] === '' ? '""' : r.map((v) => encodeField(v, random)).join(',')) + eol;
        if (random() < 0.1) text += eol; // blank line
      }
      if (random() < 0.3) text = text.slice(0, -eol.length); // no final terminator
      const input = Buffer.from(text);
      const ref = reference(input);
      const got = scan(input, random, 1 + Math.floor(random() * 100));
      expect(ref).toEqual({ header, rows: records });
      expect(got.header).toEqual(header);
      expect(got.rows).toEqual(records);
    }
  });

  it('malformed random CSVs: both reject, at the same line', () => {
    const random = rng(7);
    const breakers = ['a"b', '"x"y', '"unclosed', 'a,b,c,d,e', '"unclosed\r\nover lines'];
    const pick = (xs: string[]): string => xs[Math.floor(random() * xs.length)] as string;
    let compared = 0;
    for (let round = 0; round < 300; round++) {
      const lines = ['h1,h2'];
      const n = 1 + Math.floor(random() * 6);
      // csv-parse counts a quoted CRLF as two lines, so the scanner must too.
      const multi = (): string => pick(['"multi\nline"', '"multi\r\nline"', '"a\rb\r\n\nc"']);
      for (let i = 0; i < n; i++) lines.push(random() < 0.3 ? `${multi()},${i}` : `${i},x`);
      const at = 1 + Math.floor(random() * n);
      lines[at] = `${breakers[Math.floor(random() * breakers.length)]},1`;
      const input = Buffer.from(`${lines.join('\n')}\n`);
      const ref = reference(input);
      if (!('line' in ref)) continue;
      let line: number | undefined;
      try {
        scan(input, random);
      } catch (error) {
        expect(error).toBeInstanceOf(IngestError);
        expect((error as IngestError).code).toBe('BAD_ROW');
        line = (error as IngestError).line;
      }
      expect(line, JSON.stringify(input.toString())).toBe(ref.line);
      compared++;
    }
    expect(compared).toBeGreaterThan(200);
  });

  it('every csv-spectrum file: same records as csv-parse, or the same failing line', () => {
    const dir = '/work/shared/fixtures/csv-spectrum/csvs';
    for (const f of readdirSync(dir)) {
      const input = readFileSync(join(dir, f));
      const ref = reference(input);
      if ('line' in ref) {
        expect(() => scan(input, rng(1))).toThrow(
          expect.objectContaining({ code: 'BAD_ROW', line: ref.line }),
        );
      } else {
        const got = scan(input, rng(1));
        expect({ header: got.header, rows: got.rows }, f).toEqual(ref);
      }
    }
  });

  it('passes valid bytes through unchanged except CRLF record terminators → LF', () => {
    const scanner = new CsvScanner({ source: 's', location: 'f' }, 1 << 20);
    const out = [...scanner.push(Buffer.from('a,b\r\n"q""x",2\r\n"in\r\nside",3\r\n')), ...scanner.end()];
    expect(Buffer.concat(out.map((b) => b.bytes)).toString()).toBe('"q""x",2\n"in\r\nside",3\n');
    expect(out.reduce((n, b) => n + b.rows, 0)).toBe(2);
  });

  it('cuts batches at record boundaries once they reach maxBatchBytes', () => {
    const scanner = new CsvScanner({ source: 's', location: 'f' }, 10);
    const batches = [...scanner.push(Buffer.from('h\n1234\n5678\n9012\n3456\n7\n')), ...scanner.end()];
    expect(batches.map((b) => b.bytes.toString())).toEqual(['1234\n5678\n', '9012\n3456\n', '7\n']);
  });

  it('a lone CR outside quotes is rejected', () => {
    const scanner = new CsvScanner({ source: 's', location: 'f' }, 10);
    expect(() => scanner.push(Buffer.from('a,b\n1\r2,3\n'))).toThrow(
      expect.objectContaining({ code: 'BAD_ROW', line: 2 }),
    );
  });
});

describe('CsvScanner with declared types agrees with the csv-parse path', () => {
  const TYPES = Object.keys(TYPED_VALUES) as ColumnType[];

  it('random typed CSVs, valid and invalid values, quoted or not: same records, or the same code, line and column', () => {
    const random = rng(2026);
    const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)] as T;
    let failures = 0;
    let valid = 0;
    for (let round = 0; round < 400; round++) {
      const cols = 1 + Math.floor(random() * 5);
      const types = Array.from({ length: cols }, () => (random() < 0.25 ? 'text' : pick(TYPES)));
      const header = types.map((_, i) => `c${i}`);
      const declared: Record<string, ColumnType> = {};
      // Declaration order differs from column order: it decides which of two bad values is reported.
      for (const i of [...header.keys()].sort(() => random() - 0.5)) {
        if (types[i] !== 'text' || random() < 0.5) declared[`c${i}`] = types[i] as ColumnType;
      }
      const badRate = random() < 0.5 ? 0 : 0.05;
      const eol = random() < 0.5 ? '\n' : '\r\n';
      let text = (random() < 0.2 ? '\uFEFF' : '') + header.join(',') + eol;
      const rows = Math.floor(random() * 12);
      for (let r = 0; r < rows; r++) {
        const fields = types.map((type) => {
          if (type === 'text') return encodeField(randomField(random), random);
          const values = TYPED_VALUES[type] as { good: string[]; bad: string[] };
          const value = random() < badRate ? pick(values.bad) : pick(values.good);
          return encodeField(value, random);
        });
        text += (cols === 1 && fields[0] === '' ? '""' : fields.join(',')) + eol;
        if (random() < 0.05) text += eol;
      }
      if (random() < 0.05) text += `1,2,3,4,5,6${eol}`; // wrong field count after the values
      if (random() < 0.3) text = text.slice(0, -eol.length);
      const input = Buffer.from(text);
      const ref = typedReference(input, declared);
      const label = JSON.stringify({ text, declared });
      if ('code' in ref) {
        failures++;
        let got: unknown;
        try {
          scan(input, random, 1 + Math.floor(random() * 100), declared);
        } catch (error) {
          got = error;
        }
        expect(got, label).toBeInstanceOf(IngestError);
        const e = got as IngestError;
        expect(
          { code: e.code, line: e.line, ...(e.column !== undefined ? { column: e.column } : {}) },
          label,
        ).toEqual(ref);
      } else {
        valid++;
        const got = scan(input, random, 1 + Math.floor(random() * 100), declared);
        expect({ header: got.header, rows: got.rows }, label).toEqual(ref);
      }
    }
    expect(failures).toBeGreaterThan(80);
    expect(valid).toBeGreaterThan(80);
  });

  it('byte-level checks give the same answers as the string checks', () => {
    const random = rng(99);
    const chars = ['0', '1', '2', '9', '-', '+', '.', 'e', 'E', ' ', 'x', '2024-', '02-', '29', '0000'];
    for (const type of Object.keys(TYPED_VALUES) as ColumnType[]) {
      const onBytes = bytesValidator(type);
      if (!onBytes) continue;
      const { good, bad } = TYPED_VALUES[type] as { good: string[]; bad: string[] };
      const samples = [...good, ...bad].filter((v) => v !== '');
      for (let i = 0; i < 3000; i++) {
        const n = 1 + Math.floor(random() * 6);
        samples.push(Array.from({ length: n }, () => chars[Math.floor(random() * chars.length)]).join(''));
      }
      for (const value of samples) {
        const b = Buffer.from(`,${value},`);
        expect(onBytes(b, 1, b.length - 1), `${type} ${value}`).toBe(valueValidator(type)(value));
      }
    }
  });
});
