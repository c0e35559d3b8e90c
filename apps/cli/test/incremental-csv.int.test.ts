import { appendFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { testServices, useTestDatabase } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tempProject } from './helpers.js';

// An append-only CSV feed read past a cursor column, through the CLI.

const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

describe('incremental CSV feeds through the CLI', () => {
  const db = useTestDatabase();
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    env = { DATABASE_URL: testServices().databaseUrl };
    dir = await tempProject({
      'data/feed.csv': 'seq,amount\n1,10\n2,20\n3,30\n',
      'dataflow.yml': `name: feed
warehouse:
  url: \${DATABASE_URL}
  schema: ${db.schema}
metadata:
  schema: ${db.schema}_meta
sources:
  feed:
    type: csv
    location: data/feed.csv
    incremental: { cursor_column: seq, initial_value: 0 }
    columns: { seq: integer, amount: integer }
    primary_key: [seq]
    disposition: append
`,
    });
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const run = (argv: string[]) => cli([...argv, '--project', dir], { env });
  const seqs = async () =>
    (await db.pool.query<{ seq: number }>(`SELECT seq FROM "${db.schema}".raw_feed ORDER BY seq`)).rows.map(
      (r) => r.seq,
    );

  it('appends only the rows past the last published cursor', async () => {
    const first = await run(['run', '--date', yesterday]);
    expect(first.code, first.stderr).toBe(0);
    expect(await seqs()).toEqual([1, 2, 3]);
    await appendFile(join(dir, 'data/feed.csv'), '4,40\n5,50\n');
    const second = await run(['run', '--date', yesterday]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.summary).toMatchObject({ rows_loaded: 2 });
    // CSV cursor values are the file's text; the boundary row (seq 3) came again and was dropped.
    expect(second.summary?.cursors).toEqual([
      expect.objectContaining({ from: '3', to: '5', duplicates_dropped: 1, state: 'advanced' }),
    ]);
    expect(await seqs()).toEqual([1, 2, 3, 4, 5]);
    const state = await run(['state', 'show', '--source', 'feed']);
    expect(JSON.parse(state.stdout)).toMatchObject({ last_value: '5', boundary_keys: 1 });
  });
});
