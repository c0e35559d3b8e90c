import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type CsvIncrementalOptions,
  type CursorState,
  createFsStore,
  dailyInterval,
  IngestError,
  ingestCsv,
  type ObjectStore,
  readManifest,
  windowPartition,
} from '../src/index.js';
import { readCsvRecords, useTempDir } from './helpers.js';

const tempDir = useTempDir();
const day = dailyInterval('2024-05-01');
const incremental: CsvIncrementalOptions = { cursorColumn: 'seq', initialValue: 0, primaryKey: ['id'] };

const ingest = (
  store: ObjectStore,
  file: string,
  cursorState?: CursorState,
  over: Partial<CsvIncrementalOptions> = {},
) =>
  ingestCsv({
    source: 'events',
    location: file,
    interval: day,
    store,
    partition: windowPartition(),
    incremental: { ...incremental, ...over },
    ...(cursorState ? { cursorState } : {}),
  });

const rowsOf = async (store: ObjectStore, keys: string[]) =>
  (await Promise.all(keys.map((k) => readCsvRecords(store, k)))).flatMap((records) => records.slice(1));

describe('incremental CSV feeds (append-only, cursor column)', () => {
  it('run 2 lands only appended rows; rows new at the boundary value land, its duplicates do not', async () => {
    const file = join(tempDir(), 'events.csv');
    const store = createFsStore({ root: join(tempDir(), 'lake-csv') });
    await writeFile(file, 'id,seq,kind\n1,1,open\n2,2,"click, twice"\n3,3,close\n4,3,close\n');
    const first = await ingest(store, file);
    expect(
      await rowsOf(
        store,
        first.files.map((f) => f.key),
      ),
    ).toEqual([
      ['1', '1', 'open'],
      ['2', '2', 'click, twice'],
      ['3', '3', 'close'],
      ['4', '3', 'close'],
    ]);
    expect(first.cursor).toEqual({
      path: 'seq',
      from: 0,
      to: '3',
      boundaryKeys: ['["3"]', '["4"]'],
      duplicatesDropped: 0,
    });

    await appendFile(file, '5,3,late\n6,10,open\n');
    const second = await ingest(store, file, {
      lastValue: '3',
      boundaryKeys: first.cursor?.boundaryKeys ?? [],
    });
    expect(
      await rowsOf(
        store,
        second.files.map((f) => f.key),
      ),
    ).toEqual([
      ['5', '3', 'late'],
      ['6', '10', 'open'],
    ]);
    expect(second.cursor).toEqual({
      path: 'seq',
      from: '3',
      to: '10',
      boundaryKeys: ['["6"]'],
      duplicatesDropped: 2,
    });
    expect(await readManifest(store, 'events', day, first.partition)).toEqual(first);
  });

  it('stops reading at the end value when rows are in order, and names the line of a row without a cursor', async () => {
    const file = join(tempDir(), 'ordered.csv');
    const store = createFsStore({ root: join(tempDir(), 'lake-ordered') });
    await writeFile(file, 'id,seq\n1,1\n2,2\n3,5\n4,\n');
    const m = await ingest(store, file, undefined, { endValue: 5, rowOrder: 'asc' });
    expect(m.rows).toBe(2);
    const error = await ingest(store, file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IngestError);
    expect((error as IngestError).message).toBe(
      `events: line 5 of ${file} has no cursor value at seq (set on_cursor_value_missing: include or exclude to accept it)`,
    );
    expect(error).toMatchObject({ code: 'BAD_VALUE', line: 5, column: 'seq' });
    const missing = await ingest(store, file, undefined, { cursorColumn: 'nope' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(missing).toMatchObject({ code: 'BAD_HEADER', column: 'nope' });
  });
});
