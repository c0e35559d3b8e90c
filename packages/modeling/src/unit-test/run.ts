import { qualify, quoteIdent } from '@dataflow/pg';
import type pg from 'pg';
import { ModelingError } from '../errors.js';
import type { RelationInfo } from '../graph.js';
import { assertUniqueKeys } from '../key-check.js';
import type { Logger } from '../materialize.js';
import { planIncremental } from '../plan.js';
import { formatRowDiff, planRowDiff, type RowDiff } from './diff.js';
import { type Fixture, type FixtureValue, inferColumnType } from './fixture.js';
import type { UnitTestInput, UnitTestSpec } from './spec.js';

/** Outcome of one unit test. */
export interface UnitTestResult {
  name: string;
  uniqueId?: string;
  model: string;
  /** `pass`: rows as expected; `fail`: they differ (see `diff`); `error`: the test could not run. */
  status: 'pass' | 'fail' | 'error';
  durationMs: number;
  diff?: RowDiff;
  /** `fail`: the diff as a table; `error`: what went wrong. */
  message?: string;
  /** `error`: the cause (a `ModelingError` `UNIT_TEST_INVALID`, or the PostgreSQL error). */
  error?: unknown;
}

/** Options of {@link runUnitTest}. */
export interface UnitTestRunOptions {
  /** How long a statement may wait for a lock (reading a real relation's column types). Default 60 s. */
  lockTimeoutMs?: number;
  /** At most this many rows of each side of the diff are fetched. Default 1,000. */
  diffLimit?: number;
  logger?: Logger;
}

type Column = { name: string; type: string };

const COLUMNS_OF = `select a.attname as name, pg_catalog.format_type(a.atttypid, a.atttypmod) as type
from pg_catalog.pg_attribute a where a.attrelid = $1::pg_catalog.regclass and a.attnum > 0 and not a.attisdropped
order by a.attnum`;
const BATCH = 500;

const temp = (name: string) => qualify('pg_temp', name);

function invalid(spec: UnitTestSpec, message: string): ModelingError {
  return new ModelingError(
    'UNIT_TEST_INVALID',
    `unit test ${spec.name} (model ${spec.model.name}): ${message}`,
    {
      ...(spec.uniqueId ? { node: spec.uniqueId } : {}),
      ...(spec.file ? { file: spec.file } : {}),
    },
  );
}

async function columnsOf(client: pg.ClientBase, relationSql: string): Promise<Column[]> {
  return (await client.query<Column>(COLUMNS_OF, [relationSql])).rows;
}

/** Column types of the real relation, when it exists (catalog only: its rows are never read). */
async function realColumns(
  client: pg.ClientBase,
  relation: RelationInfo | undefined,
): Promise<Column[] | undefined> {
  if (!relation) return undefined;
  const exists = await client.query<{ oid: string | null }>('select to_regclass($1)::oid as oid', [
    relation.sql,
  ]);
  return exists.rows[0]?.oid ? columnsOf(client, relation.sql) : undefined;
}

/** Inserts fixture rows with bound values, typed by the table's columns. */
async function insertRows(
  client: pg.ClientBase,
  table: string,
  columns: string[],
  rows: Array<Record<string, FixtureValue>>,
): Promise<void> {
  if (columns.length === 0) {
    for (const _ of rows) await client.query(`insert into ${table} default values`);
    return;
  }
  for (let start = 0; start < rows.length; start += BATCH) {
    const chunk = rows.slice(start, start + BATCH);
    const values: FixtureValue[] = [];
    const tuples = chunk.map((row) => {
      const params = columns.map((c) => {
        values.push(row[c] ?? null);
        return `$${values.length}`;
      });
      return `(${params.join(', ')})`;
    });
    await client.query(
      `insert into ${table} (${columns.map(quoteIdent).join(', ')}) values ${tuples.join(', ')}`,
      values,
    );
  }
}

/**
 * Creates a fixture's temp table. Column types come from `typed` (the real relation, or what the
 * model returns) when given, and every fixture column must be one of them; otherwise they are
 * inferred from the values. A `sql` fixture is its own table.
 */
async function createFixtureTable(
  client: pg.ClientBase,
  name: string,
  fixture: Fixture,
  typed: Column[] | undefined,
  fail: (message: string) => ModelingError,
): Promise<void> {
  if (fixture.format === 'sql') {
    await client.query(`create temp table ${quoteIdent(name)} as (\n${fixture.sql}\n)`);
    return;
  }
  let columns: Column[];
  if (typed) {
    const known = new Set(typed.map((c) => c.name));
    const unknown = fixture.columns.filter((c) => !known.has(c));
    if (unknown.length > 0)
      throw fail(
        `has column(s) ${unknown.join(', ')}, which are not among ${typed.map((c) => c.name).join(', ')}`,
      );
    columns = typed;
  } else {
    columns = fixture.columns.map((c) => ({
      name: c,
      type: inferColumnType(fixture.rows.map((r) => r[c] ?? null)),
    }));
  }
  const definition = columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ');
  await client.query(`create temp table ${quoteIdent(name)} (${definition})`);
  await insertRows(client, temp(name), fixture.columns, fixture.rows);
}

async function createInput(client: pg.ClientBase, spec: UnitTestSpec, input: UnitTestInput): Promise<void> {
  let typed = await realColumns(client, input.relation);
  if (!typed && input.input === 'this' && spec.shapeSql && input.fixture.format !== 'sql') {
    // A given `this` without a real table has the columns the model returns.
    await client.query(
      `create temp table "__df_ut_shape" as select * from (\n${spec.shapeSql}\n) as q limit 0`,
    );
    typed = await columnsOf(client, temp('__df_ut_shape'));
    await client.query(`drop table pg_temp."__df_ut_shape"`);
  }
  await createFixtureTable(client, input.tempName, input.fixture, typed, (m) =>
    invalid(spec, `given ${input.input} ${m}`),
  );
}

/** Runs the model: its SELECT into a temp table, or (incremental `this`) the batch applied to `this`. */
async function produceActual(client: pg.ClientBase, spec: UnitTestSpec): Promise<string> {
  if (!spec.applyToThis) {
    await client.query(`create temp table "__df_ut_actual" as (\n${spec.sql}\n)`);
    return temp('__df_ut_actual');
  }
  const self = spec.inputs.find((i) => i.input === 'this');
  if (!self) throw invalid(spec, 'applying the batch needs a given this');
  const target: RelationInfo = { schema: 'pg_temp', identifier: self.tempName, sql: temp(self.tempName) };
  const batch: RelationInfo = { schema: 'pg_temp', identifier: '__df_ut_batch', sql: temp('__df_ut_batch') };
  await client.query(`create temp table "__df_ut_batch" as (\n${spec.sql}\n)`);
  const { uniqueKey, incrementalStrategy } = spec.model;
  if (uniqueKey)
    await assertUniqueKeys(
      client,
      batch,
      uniqueKey,
      {
        name: spec.model.name,
        ...(spec.model.uniqueId ? { uniqueId: spec.model.uniqueId } : {}),
        rows: 'new',
      },
      incrementalStrategy !== 'append',
    );
  const targetColumns = new Set((await columnsOf(client, target.sql)).map((c) => c.name));
  const columns = (await columnsOf(client, batch.sql)).map((c) => c.name).filter((c) => targetColumns.has(c));
  const statements = planIncremental({
    strategy: incrementalStrategy,
    relation: target,
    temp: batch,
    columns,
    ...(uniqueKey ? { uniqueKey } : {}),
  });
  for (const statement of statements) await client.query(statement);
  return target.sql;
}

async function compare(
  client: pg.ClientBase,
  spec: UnitTestSpec,
  actual: string,
  limit: number,
): Promise<RowDiff> {
  const produced = await columnsOf(client, actual);
  await createFixtureTable(client, '__df_ut_expected', spec.expect, produced, (m) =>
    invalid(spec, `expect ${m}`),
  );
  const expectedColumns = (await columnsOf(client, temp('__df_ut_expected'))).map((c) => c.name);
  // `expect: { rows: [] }` says the model returns no rows at all: compare every column it has.
  const noRows = spec.expect.format !== 'sql' && spec.expect.rows.length === 0;
  const columns = spec.expect.format === 'sql' || noRows ? expectedColumns : spec.expect.columns;
  const unknown = columns.filter((c) => !produced.some((p) => p.name === c));
  if (unknown.length > 0)
    throw invalid(
      spec,
      `expect has column(s) ${unknown.join(', ')}; the model returns ${produced.map((c) => c.name).join(', ')}`,
    );
  if (columns.length === 0) throw invalid(spec, 'expect names no column to compare');
  const plan = planRowDiff(temp('__df_ut_expected'), actual, columns, limit);
  const [missing, unexpected] = [
    (await client.query(plan.missing)).rows,
    (await client.query(plan.unexpected)).rows,
  ];
  return { columns, missing, unexpected };
}

/**
 * Runs one unit test inside a transaction that is always rolled back: every input becomes a real
 * session-temp table holding the fixture rows (typed like the real relation when it exists), the
 * model's SQL, compiled against those tables, runs into another, and the expected rows are compared
 * as multisets over the columns the expectation names. With {@link UnitTestSpec.applyToThis} the
 * batch is first applied to the copy of `this` by the model's own strategy. Nothing outside the
 * session's temp schema is written; a failure carries a row diff like dbt's.
 *
 * @example
 * const r = await runUnitTest(client, graph.nodes['unit_test.shop.orders.test_totals'].spec);
 * if (r.status === 'fail') console.log(r.message); // '@@  | id | total\n--- | 1  | 30\n+++ | 1  | 20'
 */
export async function runUnitTest(
  client: pg.ClientBase,
  spec: UnitTestSpec,
  options: UnitTestRunOptions = {},
): Promise<UnitTestResult> {
  const started = Date.now();
  const base = {
    name: spec.name,
    ...(spec.uniqueId ? { uniqueId: spec.uniqueId } : {}),
    model: spec.model.name,
  };
  await client.query('begin');
  try {
    await client.query(`select set_config('lock_timeout', $1, true)`, [
      `${options.lockTimeoutMs ?? 60_000}ms`,
    ]);
    // `this` last: its shape may come from the model's SELECT over the other inputs.
    const ordered = [...spec.inputs].sort((a, b) => Number(a.input === 'this') - Number(b.input === 'this'));
    for (const input of ordered) await createInput(client, spec, input);
    const actual = await produceActual(client, spec);
    const diff = await compare(client, spec, actual, options.diffLimit ?? 1000);
    const passed = diff.missing.length === 0 && diff.unexpected.length === 0;
    return {
      ...base,
      status: passed ? 'pass' : 'fail',
      durationMs: Date.now() - started,
      diff,
      ...(passed ? {} : { message: `actual differs from expected:\n${formatRowDiff(diff)}` }),
    };
  } catch (error) {
    options.logger?.warn({ unitTest: spec.name, err: error }, 'unit test could not run');
    return {
      ...base,
      status: 'error',
      durationMs: Date.now() - started,
      message: error instanceof Error ? error.message : String(error),
      error,
    };
  } finally {
    // On a broken connection the rollback fails too; temp tables die with the session anyway.
    await client.query('rollback').catch(() => undefined);
  }
}
