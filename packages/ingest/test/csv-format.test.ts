import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { csvLine } from '../src/index.js';

const SPECTRUM = '/work/shared/fixtures/csv-spectrum/csvs';

describe('csvLine', () => {
  it('quotes only when needed and doubles quotes', () => {
    expect(csvLine(['a', 'b,c', 'say "hi"', 'x\ny', 'r\rs', ''])).toBe(
      'a,"b,c","say ""hi""","x\ny","r\rs",\n',
    );
  });

  it('writes a lone empty field as "" so the row is not a blank line', () => {
    expect(csvLine([''])).toBe('""\n');
    expect(parse(`h\n${csvLine([''])}`, { skip_empty_lines: true })).toEqual([['h'], ['']]);
  });

  it('is byte-identical to csv-stringify defaults on every csv-spectrum record and tricky values', () => {
    const records: string[][] = [];
    for (const f of readdirSync(SPECTRUM)) {
      records.push(
        ...(parse(readFileSync(join(SPECTRUM, f)), { bom: true, relax_quotes: true }) as string[][]),
      );
    }
    records.push([' lead', 'trail ', '\t', 'ʤ€😀', '"', '""', ',', '\r\n', 'a"b']);
    for (const record of records) expect(csvLine(record)).toBe(stringify([record]));
  });

  it('round-trips through csv-parse', () => {
    const record = ['1', 'he said "no, thanks"\r\nbye', '', 'ʤ'];
    expect(parse(csvLine(record))).toEqual([record]);
  });
});
