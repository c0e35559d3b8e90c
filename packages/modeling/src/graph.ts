import type { CompiledTest } from '@dataflow/quality';
import type { SnapshotConfig } from './snapshot/config.js';
import type { UnitTestSpec } from './unit-test/spec.js';

/** How a model is materialized in PostgreSQL. */
export type Materialization = 'view' | 'table' | 'incremental' | 'ephemeral';
/** How an incremental model applies a new batch: `append`, `delete+insert` or `merge` on `unique_key`. */
export type IncrementalStrategy = 'append' | 'delete+insert' | 'merge';
/** The kinds of node in a {@link CompiledGraph}. */
export type ResourceType = 'model' | 'seed' | 'test' | 'source' | 'snapshot' | 'unit_test';

/** A relation in the warehouse; `sql` is its quoted, schema-qualified form. */
export interface RelationInfo {
  /** Only for sources whose schema.yml states a `database` (then `sql` is a three-part name). */
  database?: string;
  schema: string;
  identifier: string;
  sql: string;
}

/** What an incremental run does when the model's columns differ from its table (dbt's `on_schema_change`). */
export type OnSchemaChange = 'ignore' | 'fail' | 'append_new_columns' | 'sync_all_columns';

/** Resolved model configuration (folder config < schema.yml < inline `config()` / TS definition). */
export interface ModelConfig {
  materialized: Materialization;
  uniqueKey?: string[];
  incrementalStrategy: IncrementalStrategy;
  /** Custom schema suffix as configured (`+schema`); the final schema is in `relation.schema`. */
  schema?: string;
  alias?: string;
  tags: string[];
  enabled: boolean;
  /** `full_refresh`: when set, overrides `--full-refresh` (false protects, true always rebuilds). */
  fullRefresh?: boolean;
  /** Incremental models: `ignore` (default), `fail`, `append_new_columns`, `sync_all_columns`. */
  onSchemaChange?: OnSchemaChange;
  /** `grants`: privilege → grantees, the full set for each listed privilege, applied after each build. */
  grants?: Record<string, string[]>;
  /** `persist_docs`: descriptions as `COMMENT ON` the relation and its columns. */
  persistDocs?: { relation: boolean; columns: boolean };
  /** Custom database as configured (`+database`); the final one is in `relation.database`. */
  database?: string;
  /** `+meta`, merged key by key across layers; carried into the manifest. */
  meta?: Record<string, unknown>;
  /** `+docs` (`show`, `node_color`); carried into the manifest. */
  docs?: Record<string, unknown>;
  /**
   * A materialization or incremental strategy dataflow does not build on PostgreSQL (BigQuery's
   * `insert_overwrite`, `microbatch`, `materialized_view`, a custom one): compile warns and the
   * model compiles, as in dbt, whose compile does not check them; its build fails
   * (`UNSUPPORTED_CONFIG`) — for a strategy, only when an incremental run would apply it.
   */
  unsupported?: { setting: 'materialized' | 'incremental_strategy'; value: string };
}

interface BaseNode {
  uniqueId: string;
  name: string;
  packageName: string;
  /** Path relative to the project root, forward slashes (`models/staging/stg_orders.sql`). */
  file?: string;
  fqn: string[];
  tags: string[];
  /** Unique ids this node reads from. */
  dependsOn: string[];
  /** Macros its template calls (`macro.<package>.<name>`, dbt's `depends_on.macros`); see {@link GraphMacro}. */
  dependsOnMacros?: string[];
  description?: string;
}

/** A project or package macro: what `state:modified.macros` compares. */
export interface GraphMacro {
  name: string;
  packageName: string;
  file: string;
  /** sha256 of the macro's parsed definition (positions left out). */
  checksum: string;
  /** The macros its body calls (every branch; dispatch candidates included). */
  macros: string[];
}

/** A compiled model: its config, target relation and final SQL. */
export interface ModelNode extends BaseNode {
  resourceType: 'model';
  config: ModelConfig;
  relation: RelationInfo;
  rawSql?: string;
  /** Final SQL (ephemeral parents inlined as `__dbt__cte__<name>` CTEs), `is_incremental()` false. */
  compiledSql: string;
  /** Incremental models only: the SQL rendered with `is_incremental()` true. */
  incrementalSql?: string;
  /** `pre-hook` statements (rendered, `{{ this }}` the published relation): run before the build statement. */
  preHooks?: string[];
  /** `post-hook` statements: run after the publish, in its transaction. */
  postHooks?: string[];
  columns: Record<string, { description?: string }>;
}

/** A seed: a CSV file loaded into `relation` (by COPY, through `@dataflow/warehouse`). */
export interface SeedNode extends BaseNode {
  resourceType: 'seed';
  relation: RelationInfo;
  /** Absolute path of the CSV file. */
  seedPath: string;
  columnTypes?: Record<string, string>;
  /**
   * dbt's `quote_columns`: when false the CSV header's names are folded to lower case, as
   * PostgreSQL folds unquoted identifiers; quoted as written otherwise (dbt's default).
   */
  quoteColumns?: boolean;
  /** Field delimiter of the CSV (`delimiter`, default `,`). */
  delimiter?: string;
  meta?: Record<string, unknown>;
  docs?: Record<string, unknown>;
  /** `grants`, applied after each load as for models ({@link ModelConfig.grants}). */
  grants?: Record<string, string[]>;
  /** `persist_docs`: the seed's description and column descriptions as comments after each load. */
  persistDocs?: { relation: boolean; columns: boolean };
  /** schema.yml column descriptions. */
  columns?: Record<string, { description?: string }>;
}

/** A declared source table (schema.yml `sources:` or the `sources` compile option); never built. */
export interface SourceNode extends BaseNode {
  resourceType: 'source';
  sourceName: string;
  tableName: string;
  relation: RelationInfo;
  /** From schema.yml. */
  columns?: Record<string, { description?: string }>;
  /** schema.yml `freshness:` (table level, else source level), as written. */
  freshness?: Record<string, unknown>;
  loadedAtField?: string;
}

/** A data test (generic or singular), compiled to a SELECT of its failing rows. */
export interface TestNode extends BaseNode {
  resourceType: 'test';
  testKind: 'generic' | 'singular';
  /** The model / seed / source the test is about. */
  attachedNode?: string;
  columnName?: string;
  severity: 'error' | 'warn';
  compiled: CompiledTest;
  /**
   * The test's SQL as rendered with every `ref()` to the tested model / seed (and the tested
   * relation of a generic test) emitted as the token {@link RELATION_PLACEHOLDER}. `compiled.sql`
   * is this template with the token replaced by the published relation; write-audit-publish
   * replaces it by the temp relation instead. Only tests whose template holds the token run as
   * audits. Absent for tests of sources and for singular tests reading several nodes.
   */
  sqlTemplate?: string;
}

/** A snapshot (SCD type 2 table): `snapshots/*.sql` blocks or YAML-defined (dbt ≥ 1.9). */
export interface SnapshotNode extends BaseNode {
  resourceType: 'snapshot';
  relation: RelationInfo;
  rawSql?: string;
  /** The SELECT whose rows are snapshotted (ephemeral parents inlined). */
  compiledSql: string;
  config: SnapshotConfig;
  columns: Record<string, { description?: string }>;
}

/**
 * A unit test of one model (dbt ≥ 1.8 `unit_tests:`): `attachedNode` is the model; `dependsOn` is
 * the model too (as in dbt's manifest), but a build runs the test *before* the model, whose publish
 * waits for it. `spec` holds everything a run needs (fixtures, the model's SQL over them).
 */
export interface UnitTestNode extends BaseNode {
  resourceType: 'unit_test';
  attachedNode: string;
  spec: UnitTestSpec;
}

/** Any node of a {@link CompiledGraph}; narrow on `resourceType`. */
export type GraphNode = ModelNode | SeedNode | SourceNode | TestNode | SnapshotNode | UnitTestNode;

/** A compiled project: plain JSON, safe to serialise, cache or hand to another process. */
export interface CompiledGraph {
  projectName: string;
  targetSchema: string;
  /** Absolute project directory (dbt-style projects), for artifacts. */
  rootDir?: string;
  generatedAt: string;
  nodes: Record<string, GraphNode>;
  parentMap: Record<string, string[]>;
  childMap: Record<string, string[]>;
  /**
   * Models that failed to compile (each is an error diagnostic), by unique id. They are not nodes,
   * but their children still list them in `dependsOn`; a build skips those children, as dbt skips
   * the children of a failed node.
   */
  failedModels?: Record<string, { name: string; file?: string }>;
  /** `on-run-start` statements (rendered): run once before the build's nodes. */
  onRunStart?: string[];
  /** `on-run-end` statements (rendered): run once after them, also when nodes failed. */
  onRunEnd?: string[];
  /** The project's and its packages' macros by unique id (dbt-style projects). */
  macros?: Record<string, GraphMacro>;
}

/** One compile problem; compile collects all of them instead of stopping at the first. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  code:
    | 'UNKNOWN_REF'
    | 'UNKNOWN_SOURCE'
    | 'DUPLICATE_NAME'
    | 'CYCLE'
    | 'TEMPLATE_ERROR'
    | 'NAME_TOO_LONG'
    | 'CONFIG_ERROR'
    | 'UNSUPPORTED_CONFIG'
    | 'UNKNOWN_TEST';
  message: string;
  file?: string;
  line?: number;
  node?: string;
}

/**
 * Quoted relation token emitted by `ref()` of the tested node while compiling tests (see
 * {@link TestNode.sqlTemplate}); replaced by the published or the temp relation.
 */
export const RELATION_PLACEHOLDER = '"__dataflow_tested_relation__"';

/** Parent → child map computed from `dependsOn`. */
export function buildEdgeMaps(
  nodes: Record<string, GraphNode>,
): Pick<CompiledGraph, 'parentMap' | 'childMap'> {
  const parentMap: Record<string, string[]> = {};
  const childMap: Record<string, string[]> = {};
  for (const id of Object.keys(nodes)) {
    parentMap[id] = [];
    childMap[id] = [];
  }
  for (const [id, node] of Object.entries(nodes)) {
    for (const parent of node.dependsOn) {
      if (!(parent in nodes)) continue;
      parentMap[id]?.push(parent);
      childMap[parent]?.push(id);
    }
  }
  for (const list of [...Object.values(parentMap), ...Object.values(childMap)]) list.sort();
  return { parentMap, childMap };
}

/**
 * Finds dependency cycles; each cycle is returned as its path (`a → b → a`).
 * Iterative DFS so deep chains of 1,000s of models cannot overflow the stack.
 */
export function findCycles(ids: string[], parentsOf: (id: string) => string[]): string[][] {
  const state = new Map<string, 1 | 2>();
  const cycles: string[][] = [];
  for (const start of ids) {
    if (state.has(start)) continue;
    const stack: Array<{ id: string; next: number }> = [{ id: start, next: 0 }];
    const onPath: string[] = [start];
    state.set(start, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { id: string; next: number };
      const parents = parentsOf(top.id);
      if (top.next < parents.length) {
        const p = parents[top.next++] as string;
        const s = state.get(p);
        if (s === 1) {
          const at = onPath.indexOf(p);
          cycles.push([...onPath.slice(at), p]);
        } else if (s === undefined) {
          state.set(p, 1);
          stack.push({ id: p, next: 0 });
          onPath.push(p);
        }
      } else {
        state.set(top.id, 2);
        stack.pop();
        onPath.pop();
      }
    }
  }
  return cycles;
}
