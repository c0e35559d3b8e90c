import { parseRunRelationName, runToken } from '@dataflow/pg';
import { describe, expect, it } from 'vitest';
import { helperBase } from '../src/strategies/load-run.js';

// UNLOGGED staging tables survive a killed load; their names say which run made them, so the
// next run's sweep (@dataflow/pg sweepDeadRunRelations) can drop them once that run is dead.
describe('staging table names', () => {
  it('carry the loading run token, and two loads of one table in a run differ', () => {
    const a = helperBase('raw_orders', 'run-1');
    const b = helperBase('raw_orders', 'run-1');
    const parsed = parseRunRelationName(a.name('0'));
    expect(parsed).toMatchObject({ prefix: 'raw_orders', kind: 'stg', token: runToken('run-1') });
    expect(parsed?.suffix).toMatch(/^[0-9a-f]{6}_0$/);
    expect(a.name('0')).not.toBe(b.name('0'));
    expect(parseRunRelationName(a.name('rej'))?.suffix).toMatch(/_rej$/);
  });

  it('fit 63 bytes for the longest table names', () => {
    const name = helperBase('t'.repeat(63), 'run-1').name('12');
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
    expect(parseRunRelationName(name)?.token).toBe(runToken('run-1'));
  });
});
