import { BUILTIN_TESTS } from './builtin-tests.js';
import { _splitTestArgs, resolveTestConfig } from './config.js';
import { QualityError } from './errors.js';
import { _aliasForName, _testNames } from './naming.js';
import { _lookup, type TestRegistry } from './registry.js';
import { stripTrailingSemicolons } from './sql.js';
import type {
  CompiledTest,
  GenericTestContext,
  GenericTestInvocation,
  RelationResolver,
  TestConfig,
} from './types.js';

function withLimit(sql: string, limit: number | undefined): string {
  // The newline keeps a trailing `-- comment` in the test body from swallowing the limit.
  return limit === undefined ? sql : `${sql}\nlimit ${limit}`;
}

/**
 * Compiles one generic test into a SELECT of its failing rows. Pure: no database access.
 * The `where` config replaces the tested relation with `(select * from <relation> where <where>) dbt_subquery`
 * (only the tested relation, not the parent of `relationships`), and `limit` appends `limit n`.
 * Throws `QualityError` (`UNKNOWN_TEST`, `INVALID_ARGUMENT`, `INVALID_CONFIG`, `INVALID_THRESHOLD`).
 *
 * @example
 * const test = compileGenericTest(
 *   { test: 'not_null', model: 'orders', column: 'amount', args: {} },
 *   { relation: '"analytics"."orders"', resolve: (ref) => ref },
 * );
 * test.name; // 'not_null_orders_amount'
 * test.sql;  // 'select *\nfrom "analytics"."orders"\nwhere "amount" is null'
 */
export function compileGenericTest(
  inv: GenericTestInvocation,
  ctx: RelationResolver,
  registry?: TestRegistry,
): CompiledTest {
  let name = inv.config?.name ?? `${inv.test}_${inv.model}`;
  try {
    const names = _testNames(inv);
    name = names.name;
    const split = _splitTestArgs(inv.args);
    const config = resolveTestConfig({ ...split.config, ...inv.config });
    const definition = registry === undefined ? _lookup(BUILTIN_TESTS, inv.test) : registry.lookup(inv.test);
    if (definition === undefined) {
      throw new QualityError('UNKNOWN_TEST', `unknown generic test ${inv.test}`);
    }
    const column =
      inv.column ?? (typeof inv.args.column_name === 'string' ? inv.args.column_name : undefined);
    const relation =
      config.where === undefined
        ? ctx.relation
        : `(select * from ${ctx.relation} where ${config.where}) dbt_subquery`;
    const context: GenericTestContext = { relation, args: split.args, resolve: (ref) => ctx.resolve(ref) };
    if (column !== undefined) context.column = column;
    const body = definition.render(context);
    if (typeof body !== 'string' || body.trim() === '') {
      throw new QualityError('INVALID_ARGUMENT', `generic test ${inv.test} rendered no SQL`);
    }
    const compiled: CompiledTest = {
      name,
      alias: names.alias,
      sql: withLimit(stripTrailingSemicolons(body), config.limit),
      severity: config.severity,
      config,
      model: inv.model,
      test: inv.test,
    };
    if (column !== undefined) compiled.column = column;
    const keyColumns = definition.keyColumns?.(context);
    if (keyColumns !== undefined) compiled.keyColumns = keyColumns;
    if (definition.statusColumn !== undefined) compiled.statusColumn = definition.statusColumn;
    return compiled;
  } catch (error) {
    if (error instanceof QualityError && error.test === undefined) {
      throw new QualityError(error.code, `${name}: ${error.message}`, {
        test: name,
        retryable: error.retryable,
        cause: error,
      });
    }
    if (error instanceof QualityError) throw error;
    throw new QualityError('INVALID_ARGUMENT', `${name}: generic test ${inv.test} failed to render`, {
      test: name,
      cause: error,
    });
  }
}

/**
 * Wraps a singular test (a `.sql` file whose rows are failures) so it runs like a generic one.
 *
 * @example
 * compileSingularTest({ name: 'assert_total_positive', sql: 'select * from orders where amount < 0;' });
 */
export function compileSingularTest(options: {
  name: string;
  sql: string;
  config?: TestConfig;
  model?: string;
}): CompiledTest {
  const name = options.config?.name ?? options.name;
  if (typeof name !== 'string' || name === '') {
    throw new QualityError('INVALID_ARGUMENT', 'a singular test needs a name');
  }
  let config: ReturnType<typeof resolveTestConfig>;
  try {
    config = resolveTestConfig(options.config);
  } catch (error) {
    if (!(error instanceof QualityError)) throw error;
    throw new QualityError(error.code, `${name}: ${error.message}`, { test: name, cause: error });
  }
  const body = stripTrailingSemicolons(options.sql);
  if (body.trim() === '')
    throw new QualityError('INVALID_ARGUMENT', `${name}: singular test SQL is empty`, { test: name });
  const compiled: CompiledTest = {
    name,
    alias: _aliasForName(name),
    sql: withLimit(body, config.limit),
    severity: config.severity,
    config,
    test: 'singular',
  };
  if (options.model !== undefined) compiled.model = options.model;
  return compiled;
}
