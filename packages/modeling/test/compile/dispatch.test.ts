import { describe, expect, it } from 'vitest';
import { type DispatchSettings, dispatchCandidates, resolveDispatch } from '../../src/compile/dispatch.js';

const settings: DispatchSettings = {
  rootProject: 'shop',
  packages: new Set(['dbt_utils', 'dbt_date']),
  dispatch: [{ macro_namespace: 'dbt_date', search_order: ['shop', 'my_shim', 'dbt_date'] }],
  prefixes: ['postgres', 'default'],
};
const show = (name: string, ns: string | undefined) =>
  dispatchCandidates(name, ns, settings).map((c) => `${c.package ?? '*'}.${c.macro}`);

describe('dispatch search order (dbt adapter.dispatch)', () => {
  it('searches the root project then the package, postgres__ before default__ within each', () => {
    expect(show('star', 'dbt_utils')).toEqual([
      'shop.postgres__star',
      'shop.default__star',
      'dbt_utils.postgres__star',
      'dbt_utils.default__star',
    ]);
  });

  it('a configured search_order replaces the default', () => {
    expect(show('day_name', 'dbt_date')).toEqual([
      'shop.postgres__day_name',
      'shop.default__day_name',
      'my_shim.postgres__day_name',
      'my_shim.default__day_name',
      'dbt_date.postgres__day_name',
      'dbt_date.default__day_name',
    ]);
  });

  it("the dbt namespace searches the root project then the built-ins: a project's default__ beats the built-in postgres__", () => {
    expect(show('date_trunc', 'dbt')).toEqual([
      'shop.postgres__date_trunc',
      'shop.default__date_trunc',
      'dbt.postgres__date_trunc',
      'dbt.default__date_trunc',
    ]);
    expect(show('date_trunc', undefined)).toEqual(['*.postgres__date_trunc', '*.default__date_trunc']);
  });

  it('resolves to the first macro found and names every place searched when none is', () => {
    const macros = new Map([
      ['dbt_utils.default__star', 'pkg-default'],
      ['shop.default__star', 'root-default'],
      ['dbt_utils.postgres__star', 'pkg-postgres'],
    ]);
    expect(resolveDispatch('star', 'dbt_utils', settings, (p, m) => macros.get(`${p}.${m}`))).toBe(
      'root-default',
    );
    expect(() => resolveDispatch('nope', 'dbt_utils', settings, () => undefined)).toThrow(
      "In dispatch: No macro named 'nope' found within namespace: 'dbt_utils'\n    Searched for: 'shop.postgres__nope', 'shop.default__nope', 'dbt_utils.postgres__nope', 'dbt_utils.default__nope'",
    );
  });
});
