import { describe, expect, it } from 'vitest';
import { advisoryLockKey, buildCopySql, buildCreateTableSql, buildPublishStatements } from '../src/index.js';
import {
  buildCreateStagingSql,
  buildDuplicateKeyCheck,
  buildDuplicateKeyRowsQuery,
  buildMetadataDefaultsSql,
  buildNullKeyCheck,
  buildNullKeyRowsQuery,
  derivedName,
} from '../src/sql.js';

const files = [
  { staging: '"raw"."_stg_0"', sourceFile: 'orders/dt=2024-01-01/part-00000-1.csv' },
  { staging: '"raw"."_stg_1"', sourceFile: 'orders/dt=2024-01-01/part-00001-1.csv' },
];
const base = {
  target: '"raw"."raw_orders"',
  columns: ['id', 'amount'],
  files,
  partition: 'dt=2024-01-01',
  runId: 'run-1',
};
const insertCols = '"id", "amount", "_run_id", "_partition", "_source_file", "_loaded_at"';

describe('buildPublishStatements (golden SQL)', () => {
  it('append inserts each staged file with its metadata', () => {
    expect(buildPublishStatements({ ...base, disposition: 'append' })).toEqual([
      {
        sql: `INSERT INTO "raw"."raw_orders" (${insertCols}) SELECT "id", "amount", $1::text, $2::text, $3::text, now() FROM "raw"."_stg_0"`,
        parameters: ['run-1', 'dt=2024-01-01', 'orders/dt=2024-01-01/part-00000-1.csv'],
      },
      {
        sql: `INSERT INTO "raw"."raw_orders" (${insertCols}) SELECT "id", "amount", $1::text, $2::text, $3::text, now() FROM "raw"."_stg_1"`,
        parameters: ['run-1', 'dt=2024-01-01', 'orders/dt=2024-01-01/part-00001-1.csv'],
      },
    ]);
  });

  it('replace deletes every row first', () => {
    const statements = buildPublishStatements({ ...base, disposition: 'replace' });
    expect(statements[0]).toEqual({ sql: 'DELETE FROM "raw"."raw_orders"', parameters: [] });
    expect(statements).toHaveLength(3);
  });

  it('replace_partition deletes only the partition, bound as a parameter', () => {
    const statements = buildPublishStatements({ ...base, disposition: 'replace_partition' });
    expect(statements[0]).toEqual({
      sql: 'DELETE FROM "raw"."raw_orders" WHERE "_partition" = $1',
      parameters: ['dt=2024-01-01'],
    });
    expect(statements.slice(1).map((s) => s.sql.startsWith('INSERT INTO "raw"."raw_orders"'))).toEqual([
      true,
      true,
    ]);
  });

  it('merge upserts all files in one statement on the key', () => {
    expect(buildPublishStatements({ ...base, disposition: 'merge', primaryKey: ['id'] })).toEqual([
      {
        sql:
          `INSERT INTO "raw"."raw_orders" (${insertCols}) ` +
          'SELECT "id", "amount", $1::text, $2::text, $3::text, now() FROM "raw"."_stg_0" UNION ALL ' +
          'SELECT "id", "amount", $4::text, $5::text, $6::text, now() FROM "raw"."_stg_1" ' +
          'ON CONFLICT ("id") DO UPDATE SET "amount" = EXCLUDED."amount", "_run_id" = EXCLUDED."_run_id", ' +
          '"_partition" = EXCLUDED."_partition", "_source_file" = EXCLUDED."_source_file", "_loaded_at" = EXCLUDED."_loaded_at"',
        parameters: [
          'run-1',
          'dt=2024-01-01',
          'orders/dt=2024-01-01/part-00000-1.csv',
          'run-1',
          'dt=2024-01-01',
          'orders/dt=2024-01-01/part-00001-1.csv',
        ],
      },
    ]);
  });

  it('merge without a key is refused', () => {
    expect(() => buildPublishStatements({ ...base, disposition: 'merge' })).toThrowError(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });

  it('publishes rejects and clears the superseded ones of the partition', () => {
    const statements = buildPublishStatements({
      ...base,
      files: [],
      disposition: 'replace_partition',
      rejects: { table: '"raw"."raw_orders__rejects"', staging: '"raw"."_stg_rej"', clear: true },
    });
    expect(statements).toEqual([
      { sql: 'DELETE FROM "raw"."raw_orders" WHERE "_partition" = $1', parameters: ['dt=2024-01-01'] },
      { sql: 'DELETE FROM "raw"."raw_orders__rejects" WHERE partition = $1', parameters: ['dt=2024-01-01'] },
      {
        sql:
          'INSERT INTO "raw"."raw_orders__rejects" (run_id, partition, source_file, line, raw_row, error, sqlstate, rejected_at) ' +
          'SELECT $1::text, $2::text, source_file, line, raw_row, error, sqlstate, now() FROM "raw"."_stg_rej"',
        parameters: ['run-1', 'dt=2024-01-01'],
      },
    ]);
  });
});

describe('other SQL builders', () => {
  it('creates the table with metadata columns', () => {
    expect(
      buildCreateTableSql('"raw"."t"', [
        { name: 'id', type: 'integer' },
        { name: 'name', type: 'text' },
      ]),
    ).toBe(
      'CREATE TABLE IF NOT EXISTS "raw"."t" ("id" integer, "name" text, ' +
        '"_load_id" integer, "_partition" date, "_loaded_at" timestamptz) PARTITION BY LIST ("_partition")',
    );
    expect(buildCreateTableSql('"raw"."t"', [{ name: 'id', type: 'integer' }], { plain: true })).toBe(
      'CREATE TABLE IF NOT EXISTS "raw"."t" ("id" integer, "_load_id" integer, "_partition" date, "_loaded_at" timestamptz)',
    );
  });

  it('stamps staged rows of a current-layout table with the load constants, and never deletes', () => {
    const load = { loadId: 7, partitionDate: '2024-01-01', loadedAt: '2024-01-02 03:04:05.123456+00' };
    expect(
      buildPublishStatements({ ...base, files: files.slice(0, 1), disposition: 'append', load }),
    ).toEqual([
      {
        sql:
          'INSERT INTO "raw"."raw_orders" ("id", "amount", "_load_id", "_partition", "_loaded_at") ' +
          'SELECT "id", "amount", $1::integer, $2::date, $3::timestamptz FROM "raw"."_stg_0"',
        parameters: [7, '2024-01-01', '2024-01-02 03:04:05.123456+00'],
      },
    ]);
    const merge = buildPublishStatements({ ...base, disposition: 'merge', primaryKey: ['id'], load });
    expect(merge).toHaveLength(1);
    expect(merge[0]?.sql).toContain(
      'ON CONFLICT ("id") DO UPDATE SET "amount" = EXCLUDED."amount", "_load_id" = EXCLUDED."_load_id", ' +
        '"_partition" = EXCLUDED."_partition", "_loaded_at" = EXCLUDED."_loaded_at"',
    );
    expect(
      buildPublishStatements({ ...base, disposition: 'replace_partition', load }).some((st) =>
        st.sql.startsWith('DELETE'),
      ),
    ).toBe(false);
  });

  it('adds FREEZE to COPY when asked', () => {
    expect(
      buildCopySql('"raw"."t_p20240101_7"', ['id'], { format: 'csv', header: 'match', freeze: true }),
    ).toBe('COPY "raw"."t_p20240101_7" ("id") FROM STDIN WITH (FORMAT csv, FREEZE true, HEADER MATCH)');
  });

  it('gives metadata columns defaults read from the load settings', () => {
    expect(buildMetadataDefaultsSql('"raw"."t"')).toBe(
      'ALTER TABLE "raw"."t" ' +
        `ALTER COLUMN "_run_id" SET DEFAULT nullif(current_setting('dataflow.run_id', true), ''), ` +
        `ALTER COLUMN "_partition" SET DEFAULT nullif(current_setting('dataflow.partition', true), ''), ` +
        `ALTER COLUMN "_source_file" SET DEFAULT nullif(current_setting('dataflow.source_file', true), ''), ` +
        'ALTER COLUMN "_loaded_at" SET DEFAULT now()',
    );
  });

  it('builds COPY with escaped option literals', () => {
    expect(buildCopySql('"t"', ['a', 'b'], { format: 'csv', header: 'match' })).toBe(
      'COPY "t" ("a", "b") FROM STDIN WITH (FORMAT csv, HEADER MATCH)',
    );
    expect(buildCopySql('"t"', undefined, { format: 'text', delimiter: "'", nullString: '\\N' })).toBe(
      "COPY \"t\" FROM STDIN WITH (FORMAT text, DELIMITER '''', NULL '\\N')",
    );
    expect(buildCopySql('"t"', ['a'], { header: true, forceNull: ['a'] })).toBe(
      'COPY "t" ("a") FROM STDIN WITH (FORMAT csv, HEADER true, FORCE_NULL ("a"))',
    );
  });

  it('checks null and duplicate keys across staged files', () => {
    expect(buildNullKeyCheck(files, ['id', 'day'])).toEqual({
      sql:
        'SELECT $1::text AS source_file, count(*)::bigint AS rows FROM "raw"."_stg_0" WHERE "id" IS NULL OR "day" IS NULL UNION ALL ' +
        'SELECT $2::text AS source_file, count(*)::bigint AS rows FROM "raw"."_stg_1" WHERE "id" IS NULL OR "day" IS NULL',
      parameters: files.map((f) => f.sourceFile),
    });
    expect(buildDuplicateKeyCheck(files, ['id']).sql).toBe(
      'SELECT count(*)::bigint AS keys, coalesce(sum(n), 0)::bigint AS rows FROM (SELECT count(*) AS n FROM (' +
        'SELECT "id" FROM "raw"."_stg_0" UNION ALL SELECT "id" FROM "raw"."_stg_1") s GROUP BY "id" HAVING count(*) > 1) d',
    );
  });

  it('stages into an index-less UNLOGGED table numbering records with a cached identity', () => {
    expect(
      buildCreateStagingSql('"raw"."_stg_0"', [
        { name: 'id', type: 'integer' },
        { name: 'note', type: 'text' },
      ]),
    ).toBe(
      'CREATE UNLOGGED TABLE "raw"."_stg_0" ("id" integer, "note" text, ' +
        '"_dataflow_record" bigint GENERATED BY DEFAULT AS IDENTITY (CACHE 10000))',
    );
  });

  it('names the first rows with a NULL key part per file by record number, not value', () => {
    expect(buildNullKeyRowsQuery(files, ['id', 'day'], 5)).toEqual({
      sql:
        'SELECT file, record FROM (' +
        '(SELECT 0 AS file, "_dataflow_record" AS record FROM "raw"."_stg_0" WHERE "id" IS NULL OR "day" IS NULL ORDER BY "_dataflow_record" LIMIT 5) UNION ALL ' +
        '(SELECT 1 AS file, "_dataflow_record" AS record FROM "raw"."_stg_1" WHERE "id" IS NULL OR "day" IS NULL ORDER BY "_dataflow_record" LIMIT 5)' +
        ') r ORDER BY file, record',
      parameters: [],
    });
    expect(() => buildNullKeyRowsQuery(files, ['id'], 0)).toThrowError(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });

  it('names the rows of the first repeated key values by record number, not value', () => {
    expect(buildDuplicateKeyRowsQuery(files, ['id', 'day'], 5, 3)).toEqual({
      sql:
        'WITH s AS (SELECT 0 AS "_dataflow_file", "_dataflow_record", "id", "day" FROM "raw"."_stg_0" UNION ALL ' +
        'SELECT 1 AS "_dataflow_file", "_dataflow_record", "id", "day" FROM "raw"."_stg_1"), ' +
        'k AS (SELECT "id", "day", count(*) AS "_dataflow_rows", row_number() OVER (ORDER BY min(ARRAY["_dataflow_file"::bigint, "_dataflow_record"])) AS "_dataflow_key" ' +
        'FROM s GROUP BY "id", "day" HAVING count(*) > 1 ORDER BY "_dataflow_key" LIMIT 5) ' +
        'SELECT key, file, record, rows FROM (SELECT k."_dataflow_key" AS key, s."_dataflow_file" AS file, s."_dataflow_record" AS record, k."_dataflow_rows" AS rows, ' +
        'row_number() OVER (PARTITION BY k."_dataflow_key" ORDER BY s."_dataflow_file", s."_dataflow_record") AS n FROM k JOIN s USING ("id", "day")) r ' +
        'WHERE n <= 3 ORDER BY key, file, record',
      parameters: [],
    });
  });

  it('derives suffixed names within 63 bytes without collisions', () => {
    expect(derivedName('orders', '__rejects')).toBe('orders__rejects');
    const a = derivedName(`${'x'.repeat(60)}a`, '__rejects');
    const b = derivedName(`${'x'.repeat(60)}b`, '__rejects');
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
    expect(a.endsWith('__rejects')).toBe(true);
  });

  it('lock keys are stable signed 64-bit integers, distinct per partition', () => {
    const k1 = advisoryLockKey('"raw"."t"', 'dt=2024-01-01');
    expect(k1).toBe(advisoryLockKey('"raw"."t"', 'dt=2024-01-01'));
    expect(k1).not.toBe(advisoryLockKey('"raw"."t"', 'dt=2024-01-02'));
    const n = BigInt(k1);
    expect(n >= -(2n ** 63n) && n < 2n ** 63n).toBe(true);
  });
});
