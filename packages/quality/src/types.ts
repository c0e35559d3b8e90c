/** How bad a failing test is: `error` can fail a build, `warn` never does. */
export type Severity = 'error' | 'warn';

/** Per-test configuration (dbt's test configs, camelCased). Parse raw YAML with `parseTestConfig`. */
export interface TestConfig {
  /** Default `error`. */
  severity?: Severity;
  /** Threshold on the failure count that makes the test warn, e.g. `>10`. Default `!=0`. */
  warnIf?: string;
  /** Threshold on the failure count that makes an error-severity test fail. Default `!=0`. */
  errorIf?: string;
  /** SQL predicate; the tested relation is replaced by `(select * from rel where <where>) dbt_subquery`. */
  where?: string;
  /** Caps the failing-rows query (`limit n`), so also the failure count. */
  limit?: number;
  /** Overrides the synthesized test name. */
  name?: string;
  /** How many failing rows to keep as a sample. Default 20; 0 keeps none. */
  storeFailuresLimit?: number;
  /**
   * SQL aggregate over the failing rows that gives the failure count (dbt's `fail_calc`), e.g.
   * `sum(n_records)` to count rows rather than values in accepted_values. Default `count(*)`.
   */
  failCalc?: string;
  /** dbt's `store_failures`: keep the failing rows in a relation (see {@link CompiledTest.storeFailuresIn}). */
  storeFailures?: boolean;
  /** dbt's `store_failures_as`: `table` or `view` stores (and wins over `storeFailures`), `ephemeral` does not. */
  storeFailuresAs?: 'table' | 'view' | 'ephemeral';
}

/** One use of a generic test on a model (or source) and optionally a column. */
export interface GenericTestInvocation {
  /**
   * `not_null`, `unique`, `accepted_values`, `relationships`, `expression_is_true`,
   * `unique_combination_of_columns`, `accepted_range`, `row_count`, `freshness`, a name defined in
   * the registry, or a namespaced alias such as `dbt_utils.expression_is_true`.
   */
  test: string;
  /** Node name used for naming (a model name, or `<source>_<table>` for sources). */
  model: string;
  /** Tested column (dbt's `column_name`); `args.column_name` is used when absent. */
  column?: string;
  /** The test's keyword arguments, as written in YAML (`values`, `to`, `field`, ...). */
  args: Record<string, unknown>;
  config?: TestConfig;
  /** `source` prefixes the test type with `source_` in the synthesized name, like dbt. Default `model`. */
  targetType?: 'model' | 'source';
}

/** Where the tested relation lives and how other relations named in arguments are turned into SQL. */
export interface RelationResolver {
  /** Quoted SQL of the tested relation, e.g. `"analytics"."orders"` or a temp relation. */
  relation: string;
  /** Turns `ref('customers')`, `source('raw','orders')` or a bare name into quoted SQL. */
  resolve(ref: string): string;
}

/** A test ready to run: a SELECT whose rows are the failures. Plain data, serialisable. */
export interface CompiledTest {
  /** Unique, predictable name (dbt's node name). */
  name: string;
  /** At most 63 characters, safe as a PostgreSQL identifier (dbt's alias: hash-shortened name). */
  alias?: string;
  /** SELECT returning failing rows (no trailing semicolon). */
  sql: string;
  severity: Severity;
  /** Config with defaults applied. */
  config: TestConfig;
  model?: string;
  column?: string;
  /** Test kind (`not_null`, ..., custom name, or `singular`). */
  test: string;
  /** Columns of the failing rows that identify them (kept first in samples). */
  keyColumns?: string[];
  /**
   * When set, each failing row carries this column with `'warn'` or `'error'`; only `'error'` rows count
   * towards `error_if` (used by `freshness`, whose warn_after / error_after are two levels).
   */
  statusColumn?: string;
  /**
   * True when the test body rendered no SQL because it needs the warehouse (a dbt macro returning
   * `''` while `execute` is false, as `dbt_utils.equality` does): `sql` is empty and the test must
   * be rendered again at run time (see `CompileGenericTestOptions.whenEmpty`). `runTest` refuses it.
   */
  pending?: true;
  /**
   * Where the failing rows are stored (dbt's `store_failures`): each run replaces this relation with
   * the test's rows and counts from it. The caller names it (dbt: `<target_schema>_dbt_test__audit`
   * and the test's alias).
   */
  storeFailuresIn?: StoreFailuresRelation;
}

/** The relation a test stores its failing rows in. */
export interface StoreFailuresRelation {
  schema: string;
  identifier: string;
  kind: 'table' | 'view';
}

/** Arguments a generic test body receives. */
export interface GenericTestContext {
  /** SQL of the tested relation (already wrapped by the `where` config). */
  relation: string;
  column?: string;
  args: Record<string, unknown>;
  /** Resolves `ref('x')` / `source('a','b')` / bare names into quoted SQL. */
  resolve: (ref: string) => string;
  /**
   * dbt's `{{ config(...) }}` inside a test macro (raw dbt keys such as `fail_calc`, `severity`):
   * the test's own defaults, below the invocation's config. Set by `compileGenericTest`.
   */
  configure?: (values: Record<string, unknown>) => void;
}

/** A generic test body: returns a SELECT of failing rows. */
export type GenericTestFunction = (context: GenericTestContext) => string;

/** Outcome of a test: `error` means the test SQL itself failed to run. */
export type TestStatus = 'pass' | 'warn' | 'fail' | 'error';

/** What running one test produced. JSON-safe, meant to be stored as-is in the run log. */
export interface TestResult {
  name: string;
  test: string;
  model?: string;
  column?: string;
  status: TestStatus;
  severity: Severity;
  /** Number of failing rows (the real count, also when below the thresholds). */
  failures: number;
  sql: string;
  durationMs: number;
  /** Up to `storeFailuresLimit` failing rows, JSON-safe (dates as ISO strings, bigint as strings). */
  sample: Array<Record<string, unknown>>;
  /** dbt-style explanation (`Got 3 results, configured to fail if != 0`) or the database error. */
  message?: string;
  /** SQLSTATE when `status` is `error` because of a database error. */
  sqlstate?: string;
  /** Quoted `"schema"."identifier"` holding the failing rows, when the test stores them. */
  storedIn?: string;
  /** ISO timestamp of the start. */
  startedAt: string;
}

/** Counts by status. `hasErrors` is true when any test failed or errored (the build must stop). */
export interface TestSummary {
  pass: number;
  warn: number;
  fail: number;
  error: number;
  total: number;
  hasErrors: boolean;
}
