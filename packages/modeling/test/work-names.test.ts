import { parseRunRelationName, runToken } from '@dataflow/pg';
import { describe, expect, it } from 'vitest';
import { newRunToken } from '../src/materialize.js';
import { workNames } from '../src/plan.js';

// A killed build leaves its temp and backup relations behind; a later run sweeps them only when
// their name says which run made them (@dataflow/pg's run-relation convention) and that run is dead.
describe('work relation names carry the run token the dead-run sweep reads', () => {
  const relation = { schema: 'analytics', identifier: 'fct_orders', sql: '"analytics"."fct_orders"' };

  it('temp and backup names parse back to the building run', () => {
    const names = workNames(relation, newRunToken('20261130T000000Z-abcd1234'));
    for (const [kind, rel] of [
      ['tmp', names.temp],
      ['bak', names.backup],
    ] as const) {
      expect(parseRunRelationName(rel.identifier)).toMatchObject({
        prefix: 'fct_orders',
        kind,
        token: runToken('20261130T000000Z-abcd1234'),
      });
    }
  });

  it('a 63-byte model name keeps its token whole', () => {
    const long = { ...relation, identifier: 'x'.repeat(63) };
    const temp = workNames(long, newRunToken('r1')).temp.identifier;
    expect(Buffer.byteLength(temp)).toBeLessThanOrEqual(63);
    expect(parseRunRelationName(temp)?.token).toBe(runToken('r1'));
  });
});
