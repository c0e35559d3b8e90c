import { describe, expect, it } from 'vitest';
import { declaredType } from '../src/column-types.js';
import { describeCause } from '../src/errors.js';
import type { PartitionManifest } from '../src/lake.js';
import { checkManifest, resolveLoadOptions } from '../src/load-options.js';
import { chooseStrategy } from '../src/load-partition.js';
import { storableText } from '../src/rejects.js';
import { layoutOf } from '../src/target-table.js';

const base = {
  store: {} as never,
  source: 'orders',
  interval: { start: '2024-01-01', end: '2024-01-02' },
  runId: 'r',
};

describe('load options', () => {
  it('resolves defaults', () => {
    expect(resolveLoadOptions(base)).toEqual({
      table: 'raw_orders',
      partition: 'dt=2024-01-01',
      partitionDate: '2024-01-01',
      disposition: 'replace_partition',
      maxRejects: 0,
      lockTimeoutMs: 600_000,
      swapLockTimeoutMs: 1000,
      rejects: 'table',
    });
  });

  it('refuses bad options before any SQL', () => {
    expect(() => resolveLoadOptions({ ...base, runId: '' })).toThrow(/runId/);
    expect(() => resolveLoadOptions({ ...base, disposition: 'merge' })).toThrow(/primaryKey/);
    expect(() => resolveLoadOptions({ ...base, swapLockTimeoutMs: 0 })).toThrow(/swapLockTimeoutMs/);
    expect(() => resolveLoadOptions({ ...base, columns: { id: 'int; drop table x' } })).toThrow(
      /not a plain type/,
    );
  });

  it('refuses manifest columns that collide with current or legacy metadata', () => {
    const manifest = { columns: ['id', '_load_id'] } as PartitionManifest;
    expect(() => checkManifest(manifest, [], 't', false)).toThrow(/collides with a metadata column/);
    expect(() => checkManifest({ columns: ['_source_file'] } as PartitionManifest, [], 't', false)).toThrow(
      /collides/,
    );
    expect(() => checkManifest({ columns: ['id'] } as PartitionManifest, ['key'], 't', false)).toThrow(
      /primary key/,
    );
  });
});

describe('strategy and layout', () => {
  it('names the strategy per layout and disposition', () => {
    expect(chooseStrategy('partitioned', 'replace_partition', undefined)).toBe('swap-partition');
    expect(chooseStrategy('partitioned', 'replace', 'staging')).toBe('swap-partition');
    expect(chooseStrategy('partitioned', 'append', undefined)).toBe('stage-and-publish');
    expect(chooseStrategy('plain', 'merge', undefined)).toBe('stage-and-publish');
    expect(chooseStrategy('legacy', 'replace_partition', undefined)).toBe('legacy-direct');
    expect(chooseStrategy('legacy', 'replace_partition', 'staging')).toBe('stage-and-publish');
    expect(chooseStrategy('legacy', 'merge', undefined)).toBe('stage-and-publish');
  });

  it('tells the layouts apart and names a missing metadata column', () => {
    const col = (name: string) => ({ name, type: 'text', hasDefault: false });
    const current = ['id', '_load_id', '_partition', '_loaded_at'].map(col);
    expect(layoutOf({ kind: 'p', columns: current }, 't', 't')).toBe('partitioned');
    expect(layoutOf({ kind: 'r', columns: current }, 't', 't')).toBe('plain');
    const legacy = ['id', '_run_id', '_partition', '_source_file', '_loaded_at'].map(col);
    expect(layoutOf({ kind: 'r', columns: legacy }, 't', 't')).toBe('legacy');
    expect(() => layoutOf({ kind: 'r', columns: ['id', '_partition'].map(col) }, 't', 't')).toThrow(
      expect.objectContaining({ code: 'SCHEMA_DRIFT', column: '_load_id' }),
    );
  });

  it('maps the documented type double to double precision', () => {
    expect(declaredType('double', 'amount')).toBe('double precision');
    expect(declaredType('numeric(12,2)', 'amount')).toBe('numeric(12,2)');
  });
});

describe('messages keep the cause, never a row value', () => {
  it('names the cause of an environment failure', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(describeCause(refused)).toBe('connect ECONNREFUSED 127.0.0.1:5432');
    const missing = Object.assign(new Error('no such object orders/x.csv'), { code: 'NOT_FOUND' });
    expect(describeCause(missing)).toBe('no such object orders/x.csv (NOT_FOUND)');
  });

  it('gives only SQLSTATE and column for a data error', () => {
    const bad = Object.assign(new Error('invalid input syntax for type integer: "SECRET"'), {
      code: '22P02',
      column: 'id',
    });
    expect(describeCause(bad)).toBe('data error SQLSTATE 22P02 in column "id"');
  });

  it('makes a NUL byte storable in a rejects row', () => {
    expect(storableText('a\u0000b')).toBe('a\\x00b');
    expect(storableText('plain')).toBe('plain');
  });
});
