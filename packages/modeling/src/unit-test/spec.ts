import type { IncrementalStrategy, Materialization, RelationInfo } from '../graph.js';
import type { Fixture } from './fixture.js';

/** One `given` input of a compiled unit test. */
export interface UnitTestInput {
  /** As written: `ref('stg_orders')`, `source('raw', 'orders')`, `this`. */
  input: string;
  /** The session-temp table the model's SQL reads instead of the input while the test runs. */
  tempName: string;
  /** The real relation; its column types are borrowed when it exists (its rows are never read). */
  relation?: RelationInfo;
  fixture: Fixture;
}

/** The model a unit test exercises, as far as running the test needs it. */
export interface UnitTestModel {
  name: string;
  uniqueId?: string;
  materialized: Materialization;
  incrementalStrategy: IncrementalStrategy;
  uniqueKey?: string[];
}

/**
 * A compiled unit test: the model's SQL already rendered against the inputs' temp tables (with the
 * test's vars, env vars and macro overrides), its fixtures, and what to compare. Plain data.
 */
export interface UnitTestSpec {
  name: string;
  uniqueId?: string;
  file?: string;
  model: UnitTestModel;
  inputs: UnitTestInput[];
  /** The model's SELECT reading the inputs' temp tables (`is_incremental()` as the test sets it). */
  sql: string;
  /**
   * The model's SELECT with `is_incremental()` false, for the column types of a given `this` whose
   * real table does not exist yet.
   */
  shapeSql?: string;
  expect: Fixture;
  /**
   * Incremental model with `this` given and `is_incremental()` true: the batch is applied to the
   * copy of `this` with the model's strategy (merge / delete+insert / append) and the expected rows
   * are compared with that table after it, not with the SELECT.
   */
  applyToThis: boolean;
}
