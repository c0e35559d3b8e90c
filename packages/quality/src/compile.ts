import { BUILTIN_TESTS, type TestDefinition } from './builtin-tests.js';
import { _splitTestArgs, parseTestConfig, resolveTestConfig } from './config.js';
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

/** Options of {@link compileGenericTest}. */
export interface CompileGenericTestOptions {
  /**
   * What a body that renders no SQL gives: `error` (default) throws `INVALID_ARGUMENT`; `pending`
   * returns the test with `pending: true` and empty `sql`, for a caller that renders dbt macros
   * with `execute` false and renders the test again at run time (dbt's run-time compile).
   */
  whenEmpty?: 'error' | 'pending';
  /** Config from the project (dbt_project.yml `data_tests:`): above the test macro's, below the invocation's. */
  projectConfig?: TestConfig;
}

/** The tested relation as the body sees it: wrapped by the `where` config. */
function testedRelation(relation: string, where: string | undefined): string {
  return where === undefined ? relation : `(select * from ${relation} where ${where}) dbt_subquery`;
}

/** dbt's precedence: the test macro's `config()` < the project's < the YAML test's arguments < its `config:`. */
function layeredConfig(
  macro: Record<string, unknown>,
  inv: GenericTestInvocation,
  projectConfig: TestConfig | undefined,
): ReturnType<typeof resolveTestConfig> {
  const split = _splitTestArgs(inv.args);
  return resolveTestConfig({ ...parseTestConfig(macro), ...projectConfig, ...split.config, ...inv.config });
}

/** Renders the body once with `where` applied; reports what the body set with `config()`. */
function renderBody(
  definition: TestDefinition,
  inv: GenericTestInvocation,
  ctx: RelationResolver,
  where: string | undefined,
): { body: unknown; context: GenericTestContext; macroConfig: Record<string, unknown> } {
  const macroConfig: Record<string, unknown> = {};
  const column = inv.column ?? (typeof inv.args.column_name === 'string' ? inv.args.column_name : undefined);
  const context: GenericTestContext = {
    relation: testedRelation(ctx.relation, where),
    args: _splitTestArgs(inv.args).args,
    resolve: (ref) => ctx.resolve(ref),
    configure: (values) => Object.assign(macroConfig, values),
  };
  if (column !== undefined) context.column = column;
  return { body: definition.render(context), context, macroConfig };
}

/**
 * Compiles one generic test into a SELECT of its failing rows. Pure: no database access.
 * The `where` config replaces the tested relation with `(select * from <relation> where <where>) dbt_subquery`
 * (only the tested relation, not the parent of `relationships`), and `limit` appends `limit n`. A
 * body may set its own config (`context.configure`, dbt's `config()` in a test macro), below the
 * project's and the invocation's. Throws `QualityError` (`UNKNOWN_TEST`, `INVALID_ARGUMENT`,
 * `INVALID_CONFIG`, `INVALID_THRESHOLD`).
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
  options: CompileGenericTestOptions = {},
): CompiledTest {
  let name = inv.config?.name ?? `${inv.test}_${inv.model}`;
  try {
    const names = _testNames(inv);
    name = names.name;
    const definition = registry === undefined ? _lookup(BUILTIN_TESTS, inv.test) : registry.lookup(inv.test);
    if (definition === undefined) {
      throw new QualityError('UNKNOWN_TEST', `unknown generic test ${inv.test}`);
    }
    const where = layeredConfig({}, inv, options.projectConfig).where;
    let rendered = renderBody(definition, inv, ctx, where);
    let config = layeredConfig(rendered.macroConfig, inv, options.projectConfig);
    // A `where` set by the macro itself applies to the relation it was given: render once more.
    if (config.where !== where) {
      rendered = renderBody(definition, inv, ctx, config.where);
      config = layeredConfig(rendered.macroConfig, inv, options.projectConfig);
    }
    const { body, context } = rendered;
    const empty = rendersNothing(body);
    if (empty && options.whenEmpty !== 'pending') {
      throw new QualityError('INVALID_ARGUMENT', `generic test ${inv.test} rendered no SQL`);
    }
    const compiled: CompiledTest = {
      name,
      alias: names.alias,
      sql: empty ? '' : withLimit(stripTrailingSemicolons(body as string), config.limit),
      severity: config.severity,
      config,
      model: inv.model,
      test: inv.test,
    };
    if (empty) compiled.pending = true;
    if (context.column !== undefined) compiled.column = context.column;
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

/** Whether rendered test SQL is only whitespace and comments (`-- depends_on: {{ ref('x') }}` while parsing). */
function rendersNothing(sql: unknown): boolean {
  if (typeof sql !== 'string') return true;
  return (
    sql
      .replace(/--[^\n]*/g, '')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .trim() === ''
  );
}
