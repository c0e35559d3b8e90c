import { describe, expect, it } from 'vitest';
import {
  buildAttachPartitionSql,
  buildCreateFreshPartitionSql,
  buildCreateLoadsTableSql,
  buildDropStampDefaultsSql,
  buildInsertLoadSql,
  partitionBound,
  partitionTableName,
} from '../src/partition-sql.js';

const stamp = { loadId: 42, partitionDate: '2024-01-01', loadedAt: '2024-01-02 03:04:05.123456+00' };

describe('partition SQL (golden)', () => {
  it('a fresh partition takes the parent columns, the load constants as defaults and the bound as CHECK', () => {
    expect(
      buildCreateFreshPartitionSql(
        '"raw"."raw_orders_p20240101_42"',
        [
          { name: 'id', type: 'integer' },
          { name: '_load_id', type: 'integer' },
          { name: '_partition', type: 'date' },
          { name: '_loaded_at', type: 'timestamp with time zone' },
        ],
        stamp,
      ),
    ).toBe(
      'CREATE TABLE "raw"."raw_orders_p20240101_42" ("id" integer, "_load_id" integer DEFAULT 42, ' +
        `"_partition" date DEFAULT '2024-01-01', "_loaded_at" timestamp with time zone DEFAULT '2024-01-02 03:04:05.123456+00', ` +
        `CHECK ("_partition" IS NOT NULL AND "_partition" = '2024-01-01'::date))`,
    );
    expect(buildDropStampDefaultsSql('"raw"."p"')).toBe(
      'ALTER TABLE "raw"."p" ALTER COLUMN "_load_id" DROP DEFAULT, ALTER COLUMN "_partition" DROP DEFAULT, ' +
        'ALTER COLUMN "_loaded_at" DROP DEFAULT',
    );
  });

  it('attaches for the day, with the bound PostgreSQL prints', () => {
    expect(buildAttachPartitionSql('"raw"."raw_orders"', '"raw"."p"', '2024-01-01')).toBe(
      `ALTER TABLE "raw"."raw_orders" ATTACH PARTITION "raw"."p" FOR VALUES IN ('2024-01-01')`,
    );
    expect(partitionBound('2024-01-01')).toBe("FOR VALUES IN ('2024-01-01')");
    expect(() => partitionBound("2024-01-01') OR (1=1")).toThrow(/YYYY-MM-DD/);
  });

  it('names partitions per load, hashing names that would pass 63 bytes', () => {
    expect(partitionTableName('raw_orders', '2024-01-01', 42)).toBe('raw_orders_p20240101_42');
    const long = partitionTableName('t'.repeat(63), '2024-01-01', 123456);
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^t+_[0-9a-f]{6}_p20240101_123456$/);
    expect(partitionTableName('t'.repeat(63), '2024-01-01', 1)).not.toBe(
      partitionTableName(`${'t'.repeat(62)}u`, '2024-01-01', 1),
    );
  });

  it('the load table and its row', () => {
    expect(buildCreateLoadsTableSql('raw')).toContain('CREATE TABLE IF NOT EXISTS "raw"."_dataflow_loads" (');
    expect(
      buildInsertLoadSql('raw', stamp, {
        table: 'raw_orders',
        source: 'orders',
        disposition: 'replace_partition',
        runId: 'r1',
        files: ['a.csv', 'b.csv'],
        rowsLoaded: 10,
        rowsRejected: 1,
      }),
    ).toEqual({
      sql:
        'INSERT INTO "raw"."_dataflow_loads" (load_id, table_name, source, disposition, partition, run_id, source_files, ' +
        'rows_loaded, rows_rejected, loaded_at) VALUES ($1, $2, $3, $4, $5::date, $6, $7, $8, $9, $10::timestamptz)',
      parameters: [
        42,
        'raw_orders',
        'orders',
        'replace_partition',
        '2024-01-01',
        'r1',
        ['a.csv', 'b.csv'],
        10,
        1,
        stamp.loadedAt,
      ],
    });
  });
});
