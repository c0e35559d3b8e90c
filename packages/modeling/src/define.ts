import type { IncrementalStrategy, Materialization } from './graph.js';
import type { RelationRef, SqlFragment } from './sql-fragment.js';

/** A data test attached to a model or column: `'unique'`, `{ accepted_values: { values: [...] } }`. */
export type TestSpec = string | Record<string, unknown>;

/** What a TypeScript model's `sql` function receives. `ref` only accepts the names in `refs`. */
export interface ModelContext<R extends string = string> {
  ref(name: R): RelationRef;
  source(sourceName: string, tableName: string): RelationRef;
  /** The model's own relation (dbt's `this`), e.g. for incremental filters. */
  self: RelationRef;
  /** True when the run appends to an existing incremental relation. */
  isIncremental: boolean;
  var<T = unknown>(name: string, defaultValue?: T): T;
}

/** What {@link defineModel} takes: a model's name, the relations it reads and its SQL. */
export interface ModelSpec<N extends string = string, R extends string = string> {
  name: N;
  /** Models, seeds or external relations this model reads; types `ref()` (checked again at compile). */
  refs?: readonly R[];
  materialized?: Materialization;
  uniqueKey?: string | string[];
  incrementalStrategy?: IncrementalStrategy;
  schema?: string;
  alias?: string;
  tags?: string[];
  description?: string;
  /** Virtual path for `path:` selection, e.g. `models/staging/stg_orders.ts`. */
  path?: string;
  columns?: Record<string, { description?: string; tests?: TestSpec[]; data_tests?: TestSpec[] }>;
  tests?: TestSpec[];
  sql: (ctx: ModelContext<R>) => SqlFragment | string;
}

/** A TypeScript model definition, as returned by {@link defineModel}. */
export interface ModelDefinition<N extends string = string, R extends string = string>
  extends ModelSpec<N, R> {
  readonly kind: 'model-definition';
}

/**
 * Declares a model in TypeScript.
 *
 * @example
 * const stgOrders = defineModel({
 *   name: 'stg_orders', materialized: 'view', refs: ['raw_orders'],
 *   sql: ({ ref }) => sql`select id as order_id, user_id as customer_id from ${ref('raw_orders')}`,
 * });
 */
export function defineModel<const N extends string, const R extends string = string>(
  def: ModelSpec<N, R>,
): ModelDefinition<N, R> {
  return Object.freeze({ ...def, kind: 'model-definition' as const });
}

/** A seed in a TypeScript project: a CSV file loaded through `@dataflow/warehouse`. */
export interface SeedDefinition {
  name: string;
  /** CSV path; relative paths resolve against `CompileOptions.dir` or the process cwd. */
  file: string;
  columnTypes?: Record<string, string>;
  schema?: string;
  columns?: Record<string, { tests?: TestSpec[] }>;
}

/** A singular test in a TypeScript project: a query returning failing rows. */
export interface SingularTestDefinition {
  name: string;
  severity?: 'error' | 'warn';
  refs?: readonly string[];
  sql: (ctx: ModelContext) => SqlFragment | string;
}

// biome-ignore lint/suspicious/noExplicitAny: variance escape hatch for heterogeneous model lists
type AnyModel = ModelDefinition<string, any>;
type RefsOf<M> = M extends ModelDefinition<string, infer R> ? (string extends R ? never : R) : never;

/** Names used by `ref()` that are neither models nor seeds nor declared externals. */
export type UnknownRefs<M extends readonly AnyModel[], Known extends string> = Exclude<
  RefsOf<M[number]>,
  M[number]['name'] | Known
>;

/** What {@link defineProject} takes: the TypeScript project's models, seeds and tests. */
export interface ProjectSpec<
  M extends readonly AnyModel[],
  S extends readonly SeedDefinition[],
  X extends string,
> {
  name: string;
  models: M;
  seeds?: S;
  /** Relations loaded outside the project (`raw_orders` tables loaded by the warehouse). */
  externals?: readonly X[];
  tests?: SingularTestDefinition[];
  vars?: Record<string, unknown>;
}

/** A TypeScript project, as returned by {@link defineProject}. */
export interface ProjectDefinition {
  readonly kind: 'project-definition';
  name: string;
  models: readonly AnyModel[];
  seeds: readonly SeedDefinition[];
  externals: readonly string[];
  tests: SingularTestDefinition[];
  vars: Record<string, unknown>;
}

/**
 * Groups TypeScript models into a project. A model whose `refs` names something that is not a
 * model, seed or external is a type error here, and a diagnostic at compile time either way.
 *
 * @example
 * export const project = defineProject({ name: 'shop', models: [stgOrders, orders], seeds: [{ name: 'raw_orders', file: 'raw_orders.csv' }] });
 */
export function defineProject<
  const M extends readonly AnyModel[],
  const S extends readonly SeedDefinition[] = [],
  const X extends string = never,
>(
  def: ProjectSpec<M, S, X> &
    ([UnknownRefs<M, S[number]['name'] | X>] extends [never]
      ? unknown
      : { unknownRefs: UnknownRefs<M, S[number]['name'] | X> }),
): ProjectDefinition {
  return Object.freeze({
    kind: 'project-definition' as const,
    name: def.name,
    models: def.models,
    seeds: def.seeds ?? [],
    externals: def.externals ?? [],
    tests: def.tests ?? [],
    vars: def.vars ?? {},
  });
}
