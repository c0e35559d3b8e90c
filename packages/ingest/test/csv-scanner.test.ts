import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CsvError, parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CsvScanner } from '../src/csv-scanner.js';
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
): { header: string[]; rows: string[][]; batches: number } {
  const scanner = new CsvScanner({ source: 's', location: 'f.csv' }, maxBatch);
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
    const breakers = ['a"b', '"x"y', '"unclosed', 'a,b,c,d,e'];
    let compared = 0;
    for (let round = 0; round < 300; round++) {
      const lines = ['h1,h2'];
      const n = 1 + Math.floor(random() * 6);
      for (let i = 0; i < n; i++) lines.push(random() < 0.3 ? `"multi\nline",${i}` : `${i},x`);
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
