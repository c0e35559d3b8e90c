import { parseRunRelationName, runToken } from '@dataflow/pg';
import { describe, expect, it } from 'vitest';
import { buildListRetiredQuery, retiredPartitionName } from '../src/retired-partitions.js';

describe('retired partition names', () => {
  it('are run relation names of kind old carrying the run token, load id and index', () => {
    const name = retiredPartitionName('raw_orders', 'run-42', 7, 1);
    expect(name).toBe(`raw_orders__df_old_${runToken('run-42')}_7_1`);
    expect(parseRunRelationName(name)).toEqual({
      prefix: 'raw_orders',
      kind: 'old',
      token: runToken('run-42'),
      suffix: '7_1',
    });
  });

  it('stay within 63 bytes and keep their suffix for a long table name', () => {
    const name = retiredPartitionName('r'.repeat(70), 'run-42', 123456, 0);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
    expect(name.endsWith(`__df_old_${runToken('run-42')}_123456_0`)).toBe(true);
  });

  it('are what the sweep query matches: plain tables of the schema, never partitions', () => {
    const query = buildListRetiredQuery('raw');
    expect(query.parameters).toEqual(['raw']);
    expect(query.sql).toContain("c.relkind = 'r' AND NOT c.relispartition");
    const pattern = /'(__df_old_[^']+)'/.exec(query.sql)?.[1] as string;
    expect(new RegExp(pattern).test(retiredPartitionName('raw_orders', 'x', 7, 0))).toBe(true);
    // Staging tables and model backups of other kinds are not retired partitions.
    expect(new RegExp(pattern).test(`raw_orders__df_stg_${runToken('x')}_ab12cd_new`)).toBe(false);
    expect(new RegExp(pattern).test('raw_orders_p20240101_7')).toBe(false);
  });
});
