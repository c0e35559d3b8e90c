import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import {
  type CsvIngestOptions,
  createFsStore,
  dailyInterval,
  type IngestError,
  ingestCsv,
} from '../src/index.js';
import { readObject, useTempDir } from './helpers.js';

const SPECTRUM = '/work/shared/fixtures/csv-spectrum';
const tempDir = useTempDir();
const interval = dailyInterval('2024-03-01');

/** A table as COPY … (FORMAT csv, HEADER) reads a part: unquoted empty → NULL, quoted empty → ''. */
type Table = Array<Array<string | null>>;

function copyRead(bytes: Buffer): Table {
  const rows = parse(bytes, {
    cast: (value: string, context: { quoting: boolean }) => (value === '' && !context.quoting ? null : value),
  }) as Table;
  // COPY stops at a line that is exactly `\.`: the data must never contain one.
  for (const line of bytes.toString('utf8').split('\n')) expect(line).not.toBe('\\.');
  return rows.slice(1);
}

const PATHS: Array<[string, CsvIngestOptions]> = [
  ['fast path', { parser: 'auto' }],
  ['csv-parse path', { parser: 'csv-parse' }],
  ['csv-parse path with rejects', { onBadRow: 'reject' }],
];

let n = 0;
/** Ingests `bytes` through one path; returns the table COPY would load from the stored part. */
async function tableVia(bytes: Buffer, options: CsvIngestOptions): Promise<{ table: Table; part: Buffer }> {
  const name = `t${n++}`;
  const dir = join(tempDir(), 'in');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${name}.csv`), bytes);
  const store = createFsStore({ root: join(tempDir(), 'lake') });
  const manifest = await ingestCsv({
    source: name,
    location: `${name}.csv`,
    cwd: dir,
    interval,
    store,
    options: { gzip: false, ...options },
  });
  expect(manifest.files).toHaveLength(1);
  const part = await readObject(store, manifest.files[0]?.key ?? '');
  return { table: copyRead(part), part };
}

/** Every path gives the same table; returns it. */
async function sameTableOnEveryPath(bytes: Buffer): Promise<Table> {
  const [first, ...rest] = await Promise.all(PATHS.map(([, o]) => tableVia(bytes, o)));
  for (const [i, other] of rest.entries()) expect(other?.table, PATHS[i + 1]?.[0]).toEqual(first?.table);
  return first?.table ?? [];
}

/** Deterministic random CSVs mixing quoted/unquoted empties, `\.`, quotes, commas, CRLF. */
function generated(seed: number): Buffer {
  let s = seed;
  const rand = (k: number) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % k;
  };
  const values = [
    '',
    '""',
    '\\.',
    '"\\."',
    'a',
    '"a,b"',
    '"say ""hi"""',
    '"x\ny"',
    '0',
    ' ',
    '"\\.\n"',
    '\\N',
  ];
  const columns = 1 + rand(4);
  const eol = rand(2) === 0 ? '\n' : '\r\n';
  let text = `${Array.from({ length: columns }, (_, i) => `c${i}`).join(',')}${eol}`;
  for (let r = 0; r < 40; r++) {
    const row = Array.from({ length: columns }, () => values[rand(values.length)]).join(',');
    // A lone unquoted empty field is a blank line, which every path skips: keep it out.
    text += (row === '' ? '""' : row) + eol;
  }
  return Buffer.from(text);
}

describe('COPY semantics are the same on every parsing path', () => {
  it('in the csv-parse path a quoted empty field "" stays the empty string and an unquoted one is NULL', async () => {
    const table = await sameTableOnEveryPath(Buffer.from('a,b,c\n1,"",\n2,,""\n'));
    expect(table).toEqual([
      ['1', '', null],
      ['2', null, ''],
    ]);
  });

  it('a lone \\. value loads as text on every path (quoted in the part so COPY does not stop)', async () => {
    const table = await sameTableOnEveryPath(Buffer.from('v\n1\n\\.\n"\\."\n2\n'));
    expect(table).toEqual([['1'], ['\\.'], ['\\.'], ['2']]);
    for (const [, o] of PATHS)
      expect((await tableVia(Buffer.from('v\n\\.\n'), o)).part.toString()).toBe('v\n"\\."\n');
  });

  const cases = readdirSync(join(SPECTRUM, 'csvs'))
    .filter((f) => f.endsWith('.csv') && f !== 'location_coordinates.csv')
    .sort();
  for (const file of cases) {
    it(`csv-spectrum ${file}: the same table on every path`, async () => {
      await sameTableOnEveryPath(readFileSync(join(SPECTRUM, 'csvs', file)));
    });
  }

  for (let seed = 1; seed <= 25; seed++) {
    it(`generated file ${seed}: the same table on every path`, async () => {
      await sameTableOnEveryPath(generated(seed));
    });
  }
});

describe('a NUL byte is refused where it is read', () => {
  const input = Buffer.from('id,name,note\n1,a,ok\n2,b\u0000c,ok\n');
  for (const [label, options] of PATHS.slice(0, 2)) {
    it(`${label}: a NUL byte in a field is BAD_VALUE naming file, line and column`, async () => {
      const error = (await tableVia(input, options).catch((e: unknown) => e)) as IngestError;
      expect(error).toMatchObject({ code: 'BAD_VALUE', line: 3, column: 'name' });
      expect(error.message).toMatch(/line 3 of .*\.csv: column name contains a NUL byte/);
    });
  }

  it('with on_bad_row reject the row is rejected and the rejects file holds no NUL byte', async () => {
    const name = 'nulrej';
    const dir = join(tempDir(), 'in');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${name}.csv`), input);
    const store = createFsStore({ root: join(tempDir(), 'lake') });
    const m = await ingestCsv({
      source: name,
      location: `${name}.csv`,
      cwd: dir,
      interval,
      store,
      options: { onBadRow: 'reject' },
    });
    expect(m.rows).toBe(1);
    expect(m.rejects?.rows).toBe(1);
    const rejects = await readObject(store, m.rejects?.key ?? '');
    expect(rejects.includes(0)).toBe(false);
    expect(parse(rejects)).toEqual([
      ['line', 'reason', 'raw'],
      ['3', 'BAD_VALUE', '2,b\\0c,ok'],
    ]);
  });
});
