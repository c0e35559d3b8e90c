import { QualityError } from './errors.js';
import { quoteIdentifier, quoteLiteral } from './sql.js';
import type { GenericTestContext, GenericTestFunction } from './types.js';

/** A generic test body plus what the runner needs to know about its failing rows. */
export interface TestDefinition {
  render: GenericTestFunction;
  /** Columns of the failing rows that identify them. */
  keyColumns?: (context: GenericTestContext) => string[] | undefined;
  /** Column holding `'warn'` / `'error'` per failing row (two-level tests such as freshness). */
  statusColumn?: string;
}

function invalid(message: string): QualityError {
  return new QualityError('INVALID_ARGUMENT', message);
}

function requireColumn(test: string, ctx: GenericTestContext): string {
  const column = ctx.column ?? ctx.args.column_name;
  if (typeof column !== 'string' || column === '') throw invalid(`${test} needs a column (column_name)`);
  return column;
}

function optionalColumn(ctx: GenericTestContext): string | undefined {
  const column = ctx.column ?? ctx.args.column_name;
  if (column === undefined || column === null) return undefined;
  if (typeof column !== 'string' || column === '') throw invalid('column_name must be a non-empty string');
  return column;
}

function requireString(test: string, args: Record<string, unknown>, key: string): string {
  const value = args[key];
  if (typeof value !== 'string' || value.trim() === '')
    throw invalid(`${test} needs a string argument "${key}"`);
  return value;
}

/**
 * Renders a bound of accepted_range: numbers as numbers, strings as SQL expressions (as in dbt, where
 * `min_value: "'2020-01-01'"` or `current_date` are pasted into the query).
 */
function renderBound(test: string, key: string, value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value;
  throw invalid(`${test} argument "${key}" must be a number or a SQL expression`);
}

function renderCount(test: string, key: string, value: unknown): string {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  throw invalid(`${test} argument "${key}" must be a non-negative integer`);
}

function renderAcceptedValue(value: unknown, quote: boolean): string {
  if (typeof value === 'number' && Number.isFinite(value))
    return quote ? quoteLiteral(String(value)) : String(value);
  if (typeof value === 'boolean') return quote ? quoteLiteral(String(value)) : value ? 'true' : 'false';
  if (typeof value === 'string') return quote ? quoteLiteral(value) : value;
  throw invalid('accepted_values "values" must hold strings, numbers or booleans');
}

const notNull: TestDefinition = {
  render(ctx) {
    const column = quoteIdentifier(requireColumn('not_null', ctx));
    return `select *\nfrom ${ctx.relation}\nwhere ${column} is null`;
  },
  keyColumns: (ctx) => [requireColumn('not_null', ctx)],
};

const unique: TestDefinition = {
  render(ctx) {
    const column = quoteIdentifier(requireColumn('unique', ctx));
    return [
      'select',
      `    ${column} as unique_field,`,
      '    count(*) as n_records',
      `from ${ctx.relation}`,
      `where ${column} is not null`,
      `group by ${column}`,
      'having count(*) > 1',
    ].join('\n');
  },
  keyColumns: () => ['unique_field'],
};

const acceptedValues: TestDefinition = {
  render(ctx) {
    const column = quoteIdentifier(requireColumn('accepted_values', ctx));
    const values = ctx.args.values;
    if (!Array.isArray(values) || values.length === 0) {
      throw invalid('accepted_values needs a non-empty list argument "values"');
    }
    const quote = ctx.args.quote ?? true;
    if (typeof quote !== 'boolean') throw invalid('accepted_values argument "quote" must be a boolean');
    const list = values.map((v) => renderAcceptedValue(v, quote)).join(', ');
    // Grouping makes each distinct bad value one failure; `not in` is never true for NULL, so NULLs pass.
    return [
      'with all_values as (',
      '    select',
      `        ${column} as value_field,`,
      '        count(*) as n_records',
      `    from ${ctx.relation}`,
      `    group by ${column}`,
      ')',
      '',
      'select *',
      'from all_values',
      `where value_field not in (${list})`,
    ].join('\n');
  },
  keyColumns: () => ['value_field'],
};

const relationships: TestDefinition = {
  render(ctx) {
    const column = quoteIdentifier(requireColumn('relationships', ctx));
    const to = ctx.resolve(requireString('relationships', ctx.args, 'to'));
    const field = quoteIdentifier(requireString('relationships', ctx.args, 'field'));
    return [
      'with child as (',
      `    select ${column} as from_field`,
      `    from ${ctx.relation}`,
      `    where ${column} is not null`,
      '),',
      '',
      'parent as (',
      `    select ${field} as to_field`,
      `    from ${to}`,
      ')',
      '',
      'select from_field',
      'from child',
      'left join parent',
      '    on child.from_field = parent.to_field',
      'where parent.to_field is null',
    ].join('\n');
  },
  keyColumns: () => ['from_field'],
};

const expressionIsTrue: TestDefinition = {
  render(ctx) {
    const expression = requireString('expression_is_true', ctx.args, 'expression');
    const column = optionalColumn(ctx);
    const predicate = column === undefined ? expression : `${quoteIdentifier(column)} ${expression}`;
    return `select *\nfrom ${ctx.relation}\nwhere not(${predicate})`;
  },
  keyColumns: (ctx) => {
    const column = optionalColumn(ctx);
    return column === undefined ? undefined : [column];
  },
};

function combinationColumns(ctx: GenericTestContext): string[] {
  const columns = ctx.args.combination_of_columns;
  if (
    !Array.isArray(columns) ||
    columns.length === 0 ||
    !columns.every((c): c is string => typeof c === 'string' && c !== '')
  ) {
    throw invalid(
      'unique_combination_of_columns needs a non-empty list of column names "combination_of_columns"',
    );
  }
  return columns;
}

const uniqueCombinationOfColumns: TestDefinition = {
  render(ctx) {
    const list = combinationColumns(ctx).map(quoteIdentifier).join(', ');
    return [
      'with validation_errors as (',
      '    select',
      `        ${list},`,
      '        count(*) as n_records',
      `    from ${ctx.relation}`,
      `    group by ${list}`,
      '    having count(*) > 1',
      ')',
      '',
      'select *',
      'from validation_errors',
    ].join('\n');
  },
  keyColumns: (ctx) => combinationColumns(ctx),
};

const acceptedRange: TestDefinition = {
  render(ctx) {
    const column = quoteIdentifier(requireColumn('accepted_range', ctx));
    const { min_value: min, max_value: max } = ctx.args;
    const inclusive = ctx.args.inclusive ?? true;
    if (typeof inclusive !== 'boolean')
      throw invalid('accepted_range argument "inclusive" must be a boolean');
    if ((min === undefined || min === null) && (max === undefined || max === null)) {
      throw invalid('accepted_range needs "min_value" or "max_value"');
    }
    const eq = inclusive ? '=' : '';
    const conditions: string[] = [];
    // `not (x >= min)` is NULL, not true, for a NULL x: NULLs pass like in dbt_utils.
    if (min !== undefined && min !== null) {
      conditions.push(`not ${column} >${eq} ${renderBound('accepted_range', 'min_value', min)}`);
    }
    if (max !== undefined && max !== null) {
      conditions.push(`not ${column} <${eq} ${renderBound('accepted_range', 'max_value', max)}`);
    }
    return `select *\nfrom ${ctx.relation}\nwhere ${conditions.join('\n   or ')}`;
  },
  keyColumns: (ctx) => [requireColumn('accepted_range', ctx)],
};

const rowCount: TestDefinition = {
  render(ctx) {
    const { min_value: min, max_value: max } = ctx.args;
    if ((min === undefined || min === null) && (max === undefined || max === null)) {
      throw invalid('row_count needs "min_value" or "max_value"');
    }
    const conditions: string[] = [];
    if (min !== undefined && min !== null)
      conditions.push(`row_count < ${renderCount('row_count', 'min_value', min)}`);
    if (max !== undefined && max !== null)
      conditions.push(`row_count > ${renderCount('row_count', 'max_value', max)}`);
    return [
      'with counted as (',
      '    select count(*) as row_count',
      `    from ${ctx.relation}`,
      ')',
      '',
      'select row_count',
      'from counted',
      `where ${conditions.join(' or ')}`,
    ].join('\n');
  },
  keyColumns: () => ['row_count'],
};

const PERIOD_SECONDS = { minute: 60, hour: 3600, day: 86400 } as const;
type Period = keyof typeof PERIOD_SECONDS;

interface Window {
  seconds: number;
  sql: string;
}

function freshnessWindow(key: string, value: unknown): Window | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(`freshness argument "${key}" must be { count, period }`);
  }
  const { count, period } = value as Record<string, unknown>;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count <= 0) {
    throw invalid(`freshness argument "${key}.count" must be a positive integer`);
  }
  if (typeof period !== 'string' || !Object.hasOwn(PERIOD_SECONDS, period)) {
    throw invalid(`freshness argument "${key}.period" must be minute, hour or day`);
  }
  return { seconds: count * PERIOD_SECONDS[period as Period], sql: `interval '${count} ${period}s'` };
}

const freshness: TestDefinition = {
  render(ctx) {
    const column = quoteIdentifier(requireColumn('freshness', ctx));
    const warn = freshnessWindow('warn_after', ctx.args.warn_after);
    const error = freshnessWindow('error_after', ctx.args.error_after);
    if (warn === undefined && error === undefined)
      throw invalid('freshness needs "warn_after" or "error_after"');
    const staleAfter = (w: Window) => `max_loaded_at is null or max_loaded_at < checked_at - ${w.sql}`;
    const first = warn === undefined || (error !== undefined && error.seconds < warn.seconds) ? error : warn;
    const level =
      error === undefined
        ? `'warn'`
        : warn === undefined
          ? `'error'`
          : `case when ${staleAfter(error)} then 'error' else 'warn' end`;
    // No row at all (max is NULL) counts as stale, like dbt source freshness on an empty table.
    return [
      'with freshness as (',
      '    select',
      `        max(${column})::timestamptz as max_loaded_at,`,
      '        current_timestamp as checked_at',
      `    from ${ctx.relation}`,
      ')',
      '',
      'select',
      '    max_loaded_at,',
      '    checked_at,',
      '    floor(extract(epoch from checked_at - max_loaded_at))::bigint as age_seconds,',
      `    ${level} as freshness_status`,
      'from freshness',
      `where ${staleAfter(first as Window)}`,
    ].join('\n');
  },
  keyColumns: () => ['max_loaded_at'],
  statusColumn: 'freshness_status',
};

/** The generic tests every registry starts with. */
export const BUILTIN_TESTS: ReadonlyMap<string, TestDefinition> = new Map([
  ['not_null', notNull],
  ['unique', unique],
  ['accepted_values', acceptedValues],
  ['relationships', relationships],
  ['expression_is_true', expressionIsTrue],
  ['unique_combination_of_columns', uniqueCombinationOfColumns],
  ['accepted_range', acceptedRange],
  ['row_count', rowCount],
  ['freshness', freshness],
]);

/** Package-qualified names that map onto a built-in with the same arguments. */
export const BUILTIN_ALIASES: ReadonlyMap<string, string> = new Map([
  ['dbt.not_null', 'not_null'],
  ['dbt.unique', 'unique'],
  ['dbt.accepted_values', 'accepted_values'],
  ['dbt.relationships', 'relationships'],
  ['dbt_utils.expression_is_true', 'expression_is_true'],
  ['dbt_utils.unique_combination_of_columns', 'unique_combination_of_columns'],
  ['dbt_utils.accepted_range', 'accepted_range'],
  ['dbt_expectations.expect_table_row_count_to_be_between', 'row_count'],
]);
