import { useTestDatabase } from '@dataflow/testkit';
import { describe, expect, it } from 'vitest';
import { JinjaEnvironment, type RenderScope } from '../src/jinja.js';

const db = useTestDatabase();

const scope: RenderScope = {
  ref: (n) => n,
  source: (s, t) => `${s}.${t}`,
  config: () => {},
  var: () => null,
  thisRelation: '"analytics"."m"',
  isIncremental: false,
};

/** Renders `expression` with the built-in dbt macros and selects it on PostgreSQL. */
async function value(expression: string): Promise<unknown> {
  const sql = new JinjaEnvironment({ schema: 'analytics' }).render(
    `select {{ ${expression} }} as v`,
    'm.sql',
    scope,
  );
  const { rows } = await db.pool.query<{ v: unknown }>(sql);
  return rows[0]?.v;
}

async function rows(template: string): Promise<unknown[]> {
  const sql = new JinjaEnvironment({ schema: 'analytics' }).render(template, 'm.sql', scope);
  return (await db.pool.query(sql)).rows;
}

describe('the built-in dbt cross-database macros on PostgreSQL', () => {
  it('date_trunc, dateadd, last_day', async () => {
    expect(await value(`'(' ~ dbt.date_trunc('month', "date '2024-03-17'") ~ ')::date'`)).toEqual(
      new Date('2024-03-01T00:00:00'),
    );
    expect(await value(`'(' ~ dbt.dateadd('day', 3, "date '2024-02-27'") ~ ')::date'`)).toEqual(
      new Date('2024-03-01T00:00:00'),
    );
    expect(await value(`dbt.last_day("date '2024-02-10'", 'month')`)).toEqual(
      new Date('2024-02-29T00:00:00'),
    );
    expect(await value(`dbt.last_day("date '2024-05-10'", 'quarter')`)).toEqual(
      new Date('2024-06-30T00:00:00'),
    );
  });

  it.each([
    ['year', 1],
    ['quarter', 4],
    ['month', 14],
    ['week', 62],
    ['day', 434],
    ['hour', 434 * 24 + 2],
    ['minute', (434 * 24 + 2) * 60 + 30],
  ])('datediff by %s counts boundaries crossed', async (part, expected) => {
    const diff = await value(
      `dbt.datediff("timestamp '2023-01-01 00:00'", "timestamp '2024-03-10 02:30'", '${part}')`,
    );
    expect(Number(diff)).toBe(expected);
  });

  it('strings: concat, hash, split_part (also negative), position, replace, right, length, quotes', async () => {
    expect(await value(`dbt.concat(["'a'", "'b'", "'c'"])`)).toBe('abc');
    expect(await value(`dbt.hash("'x'")`)).toBe('9dd4e461268c8034f5c8564e155c67a6');
    expect(await value(`dbt.split_part("'a-b-c'", "'-'", 2)`)).toBe('b');
    expect(await value(`dbt.split_part("'a-b-c'", "'-'", -1)`)).toBe('c');
    expect(await value(`dbt.position("'c'", "'abc'")`)).toBe(3);
    expect(await value(`dbt.replace("'abc'", "'b'", "'x'")`)).toBe('axc');
    expect(await value(`dbt.right("'abcdef'", 2)`)).toBe('ef');
    expect(await value(`dbt.length("'abcd'")`)).toBe(4);
    expect(await value(`dbt.string_literal(dbt.escape_single_quotes("it's"))`)).toBe("it's");
    expect(await value(`dbt.cast_bool_to_text('true')`)).toBe('true');
  });

  it('types and casts', async () => {
    expect(await value(`dbt.cast("'12'", dbt.type_int())`)).toBe(12);
    expect(await value(`dbt.safe_cast("'2.5'", dbt.type_numeric())`)).toBe('2.500000');
    expect(await value(`dbt.cast("'1'", dbt.type_boolean())`)).toBe(true);
    expect(await value(`"'x'::" ~ dbt.type_string()`)).toBe('x');
    expect(await value(`"'2024-01-02 03:04:05'::" ~ dbt.type_timestamp()`)).toEqual(
      new Date('2024-01-02T03:04:05'),
    );
  });

  it('aggregates: listagg (ordered, limited), any_value, bool_or', async () => {
    const from = `from (values (2, 'b', false), (1, 'a', true), (3, 'c', false)) as t(n, s, f)`;
    expect(await rows(`select {{ dbt.listagg('s', "', '", 'order by n') }} as v ${from}`)).toEqual([
      { v: 'a, b, c' },
    ]);
    expect(await rows(`select {{ dbt.listagg('s', "','", 'order by n desc', 2) }} as v ${from}`)).toEqual([
      { v: 'c,b' },
    ]);
    expect(await rows(`select {{ dbt.any_value('n') }} as v, {{ dbt.bool_or('f') }} as b ${from}`)).toEqual([
      { v: 1, b: true },
    ]);
  });

  it('set operators, arrays, current_timestamp', async () => {
    expect(await rows(`select 1 as x union all select 2 {{ dbt.except() }} select 2`)).toEqual([{ x: 1 }]);
    expect(await rows(`select 1 as x {{ dbt.intersect() }} select 1`)).toEqual([{ x: 1 }]);
    expect(
      await value(
        `dbt.array_concat(dbt.array_append(dbt.array_construct([1, 2]), 3), dbt.array_construct([4]))`,
      ),
    ).toEqual([1, 2, 3, 4]);
    expect(await value(`dbt.array_construct([], 'text')`)).toEqual([]);
    expect(await value(`dbt.current_timestamp() ~ ' is not null'`)).toBe(true);
  });

  it('generate_series (both implementations) and date_spine', async () => {
    expect(await rows(`{{ dbt.generate_series(5) }}`)).toEqual(
      [1, 2, 3, 4, 5].map((n) => ({ generated_number: n })),
    );
    expect(await rows(`{{ dbt.default__generate_series(5) }}`)).toEqual(
      [1, 2, 3, 4, 5].map((n) => ({ generated_number: n })),
    );
    const spine = await rows(`{{ dbt.date_spine('day', "date '2024-02-27'", "date '2024-03-02'") }}`);
    expect(spine.map((r) => (r as { date_day: Date }).date_day.getDate())).toEqual([27, 28, 29, 1]);
  });
});
