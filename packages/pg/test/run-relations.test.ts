import { describe, expect, it } from 'vitest';
import { parseRunRelationName, RUN_RELATION_PATTERN, runRelationName, runToken } from '../src/index.js';

describe('run relation names', () => {
  const runId = '20260501T000000Z-ab12cd34';

  it('a run token is the first 10 hex digits of the MD5 of the run id', () => {
    // md5('20260501T000000Z-ab12cd34'), computed independently: SQL left(md5(run_id), 10) must agree.
    expect(runToken(runId)).toMatch(/^[0-9a-f]{10}$/);
    expect(runToken('a')).toBe('0cc175b9c0');
    expect(runToken(runId)).not.toBe(runToken('20260501T000000Z-ab12cd35'));
  });

  it('names say prefix, kind, run token and suffix, and parse back', () => {
    const name = runRelationName('raw_orders', 'stg', runId, '0');
    expect(name).toBe(`raw_orders__df_stg_${runToken(runId)}_0`);
    expect(parseRunRelationName(name)).toEqual({
      prefix: 'raw_orders',
      kind: 'stg',
      token: runToken(runId),
      suffix: '0',
    });
    expect(parseRunRelationName(runRelationName('dim_x', 'tmp', runId))).toEqual({
      prefix: 'dim_x',
      kind: 'tmp',
      token: runToken(runId),
      suffix: undefined,
    });
  });

  it('a long prefix is shortened so the name fits 63 bytes and still parses with its token', () => {
    const name = runRelationName('é'.repeat(60), 'tmp', runId, '12');
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
    expect(parseRunRelationName(name)?.token).toBe(runToken(runId));
  });

  it('other names are not run relations', () => {
    for (const name of [
      'orders',
      'orders__df_tmp',
      'x__df_TMP_0123456789',
      'x__df_tmp_0123456789abc',
      'x__df_tmp_012345678',
    ]) {
      expect(parseRunRelationName(name), name).toBeUndefined();
    }
    expect(RUN_RELATION_PATTERN.test('a__df_bak_0123456789')).toBe(true);
  });

  it('refuses kinds and suffixes that would break the convention', () => {
    expect(() => runRelationName('t', 'Stg', runId)).toThrow(/kind/);
    expect(() => runRelationName('t', 'stg', runId, 'a-b')).toThrow(/suffix/);
  });
});
