import { describe, expect, it } from 'vitest';
import { addExternalRelations, type NameTable, relationOf, seedNodes } from '../../src/compile/names.js';
import { testContext } from './context.js';

describe('name table', () => {
  it('seeds claim their names with their relation; a second claim is a DUPLICATE_NAME', () => {
    const ctx = testContext();
    const names: NameTable = new Map();
    const seed = (name: string, file: string, layers = [{}]) => ({
      name,
      file,
      absPath: `/p/${file}`,
      layers,
      tests: [],
    });
    const nodes = seedNodes(
      ctx,
      [
        seed('raw', 'seeds/raw.csv', [{ schema: 'landing', column_types: { id: 'text' } }]),
        seed('raw', 'seeds/x/raw.csv'),
      ],
      names,
    );
    expect(nodes).toEqual([
      expect.objectContaining({
        uniqueId: 'seed.shop.raw',
        relation: { schema: 'a_landing', identifier: 'raw', sql: '"a_landing"."raw"' },
        columnTypes: { id: 'text' },
        seedPath: '/p/seeds/raw.csv',
      }),
    ]);
    expect(names.get('raw')?.uniqueId).toBe('seed.shop.raw');
    expect(ctx.diagnostics.list).toEqual([
      expect.objectContaining({
        code: 'DUPLICATE_NAME',
        node: 'raw',
        file: 'seeds/x/raw.csv',
        message: 'two resources are named raw: seeds/raw.csv and seeds/x/raw.csv',
      }),
    ]);
  });

  it('external relations take only unclaimed names; an over-long name is reported and cut like PostgreSQL', () => {
    const ctx = testContext();
    const names: NameTable = new Map();
    const long = 'x'.repeat(70);
    seedNodes(ctx, [{ name: long, file: `seeds/${long}.csv`, absPath: '/p', layers: [], tests: [] }], names);
    expect(ctx.diagnostics.list.map((d) => d.code)).toEqual(['NAME_TOO_LONG']);
    expect(names.get(long)?.relation.sql).toBe(`"a"."${'x'.repeat(63)}"`);
    addExternalRelations(names, [
      { name: long, schema: 'public', identifier: 'other' },
      { name: 'raw_orders', schema: 'public', identifier: 'raw_orders' },
    ]);
    expect(names.get(long)?.uniqueId).toBe(`seed.shop.${long}`);
    expect(names.get('raw_orders')).toEqual({ uniqueId: '', relation: relationOf('public', 'raw_orders') });
    expect(relationOf('s', 't', 'db').sql).toBe('"db"."s"."t"');
  });
});
