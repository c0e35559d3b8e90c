import { describe, expect, it } from 'vitest';
import { capSample, createRunLog, MIGRATIONS, RunlogError } from '../src/index.js';
import { pendingMigrations } from '../src/migrations.js';

describe('migrations', () => {
  it('version 1 creates the four tables in the quoted schema', () => {
    const sql = MIGRATIONS[0]?.statements('my"schema') ?? [];
    const tables = sql.flatMap(
      (s) => /^create table ("(?:[^"]|"")+")\.(\w+)/.exec(s)?.slice(1, 3).join('.') ?? [],
    );
    expect(tables).toEqual([
      '"my""schema".run_history',
      '"my""schema".job_status',
      '"my""schema".row_counts',
      '"my""schema".test_results',
    ]);
    expect(sql[0]).toContain("status in ('running','success','failed','aborted','skipped')");
  });

  it('versions are strictly increasing', () => {
    const versions = MIGRATIONS.map((m) => m.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
  });

  it("version 2 allows status 'abandoned' for runs and jobs", () => {
    const sql = MIGRATIONS[1]?.statements('dataflow') ?? [];
    expect(sql).toEqual([
      'alter table "dataflow".run_history drop constraint if exists run_history_status_check',
      `alter table "dataflow".run_history add constraint run_history_status_check check (status in ('running','success','failed','aborted','skipped','abandoned'))`,
      'alter table "dataflow".job_status drop constraint if exists job_status_status_check',
      `alter table "dataflow".job_status add constraint job_status_status_check check (status in ('running','success','failed','aborted','skipped','warn','abandoned'))`,
    ]);
  });

  it('pendingMigrations keeps the order and skips what is applied', () => {
    expect(pendingMigrations([]).map((m) => m.version)).toEqual([1, 2, 3]);
    expect(pendingMigrations([1]).map((m) => m.version)).toEqual([2, 3]);
    expect(pendingMigrations([2, 1, 3])).toEqual([]);
  });

  it('rejects a schema name that is not a plain identifier', () => {
    const pool = {} as Parameters<typeof createRunLog>[0];
    expect(() => createRunLog(pool, { schema: 'x; drop table y' })).toThrow(RunlogError);
    try {
      createRunLog(pool, { schema: '1bad' });
    } catch (e) {
      expect((e as RunlogError).code).toBe('INVALID_SCHEMA_NAME');
    }
  });
});

describe('capSample', () => {
  it('keeps at most maxRows rows and flags truncation', () => {
    const sample = Array.from({ length: 25 }, (_, i) => ({ id: i }));
    const { rows, truncated } = capSample(sample);
    expect(rows).toHaveLength(10);
    expect(rows[9]).toEqual({ id: 9 });
    expect(truncated).toBe(true);
  });

  it('cuts long strings and stops at the byte budget', () => {
    const big = 'x'.repeat(1000);
    const { rows, truncated } = capSample([{ v: big }, { v: big }, { v: big }], {
      maxValueChars: 100,
      maxBytes: 250,
    });
    expect(rows).toHaveLength(2);
    expect(String(rows[0]?.v).length).toBe(101);
    expect(truncated).toBe(true);
  });

  it('turns bigint into text so it can be stored as JSON', () => {
    expect(capSample([{ n: 12n }])).toEqual({ rows: [{ n: '12' }], truncated: false });
  });
});
