import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { qualify } from '@dataflow/pg';
import type { NodeResult } from './build.js';
import { graphChecksums, type NodeChecksums, nodeChecksums } from './checksums.js';
import type { CompiledGraph, GraphNode, TestNode } from './graph.js';

/** A finished (or failed) run, for `run_results.json`. */
export interface RunArtifact {
  runId: string;
  results: NodeResult[];
  elapsedMs: number;
  args?: Record<string, unknown>;
}

const DBT_MANIFEST_SCHEMA = 'https://schemas.getdbt.com/dbt/manifest/v12.json';
const DBT_RUN_RESULTS_SCHEMA = 'https://schemas.getdbt.com/dbt/run-results/v6.json';

function manifestNode(node: GraphNode, checksums: NodeChecksums): Record<string, unknown> {
  const base: Record<string, unknown> = {
    unique_id: node.uniqueId,
    name: node.name,
    resource_type: node.resourceType,
    package_name: node.packageName,
    original_file_path: node.file ?? null,
    fqn: node.fqn,
    tags: node.tags,
    description: node.description ?? '',
    depends_on: { macros: node.dependsOnMacros ?? [], nodes: node.dependsOn },
    // dbt's field (what `state:modified.body` compares), and all three parts dataflow compares.
    checksum: { name: 'sha256', checksum: checksums.body },
    checksums,
  };
  switch (node.resourceType) {
    case 'model':
      return {
        ...base,
        database: node.relation.database ?? null,
        schema: node.relation.schema,
        alias: node.relation.identifier,
        relation_name: node.relation.sql,
        meta: node.config.meta ?? {},
        docs: { show: true, node_color: null, ...node.config.docs },
        config: {
          materialized: node.config.materialized,
          unique_key: node.config.uniqueKey ?? null,
          incremental_strategy: node.config.incrementalStrategy,
          schema: node.config.schema ?? null,
          alias: node.config.alias ?? null,
          database: node.config.database ?? null,
          tags: node.config.tags,
          enabled: node.config.enabled,
          meta: node.config.meta ?? {},
          docs: { show: true, node_color: null, ...node.config.docs },
        },
        raw_code: node.rawSql ?? null,
        compiled_code: node.compiledSql,
        columns: node.columns,
      };
    case 'seed':
      return {
        ...base,
        schema: node.relation.schema,
        alias: node.relation.identifier,
        relation_name: node.relation.sql,
        meta: node.meta ?? {},
        config: {
          column_types: node.columnTypes ?? {},
          quote_columns: node.quoteColumns ?? null,
          delimiter: node.delimiter ?? ',',
          meta: node.meta ?? {},
          docs: { show: true, node_color: null, ...node.docs },
          grants: node.grants ?? {},
          persist_docs: node.persistDocs ?? {},
        },
        columns: node.columns ?? {},
      };
    case 'source':
      return {
        ...base,
        source_name: node.sourceName,
        database: node.relation.database ?? null,
        identifier: node.relation.identifier,
        schema: node.relation.schema,
        relation_name: node.relation.sql,
        columns: node.columns ?? {},
        freshness: node.freshness ?? null,
        loaded_at_field: node.loadedAtField ?? null,
      };
    case 'snapshot':
      return {
        ...base,
        schema: node.relation.schema,
        alias: node.relation.identifier,
        relation_name: node.relation.sql,
        config: {
          materialized: 'snapshot',
          strategy: node.config.strategy,
          unique_key: node.config.uniqueKey,
          updated_at: node.config.updatedAt ?? null,
          check_cols: node.config.checkCols ?? null,
          hard_deletes: node.config.hardDeletes,
          dbt_valid_to_current: node.config.validToCurrent ?? null,
          snapshot_meta_column_names: {
            dbt_valid_from: node.config.columns.validFrom,
            dbt_valid_to: node.config.columns.validTo,
            dbt_scd_id: node.config.columns.scdId,
            dbt_updated_at: node.config.columns.updatedAt,
            dbt_is_deleted: node.config.columns.isDeleted,
          },
        },
        raw_code: node.rawSql ?? null,
        compiled_code: node.compiledSql,
        columns: node.columns,
      };
    case 'unit_test':
      return {
        ...base,
        model: node.spec.model.name,
        attached_node: node.attachedNode,
        given: node.spec.inputs.map((i) => ({ input: i.input, ...i.fixture })),
        expect: node.spec.expect,
        compiled_code: node.spec.sql,
      };
    case 'test':
      return {
        ...base,
        attached_node: node.attachedNode ?? null,
        column_name: node.columnName ?? null,
        test_metadata: node.testKind === 'generic' ? { name: node.compiled.test, kwargs: {} } : null,
        config: { severity: node.severity.toUpperCase(), ...node.compiled.config },
        compiled_code: node.compiled.sql,
        ...storedFailuresFields(node),
      };
  }
}

/** dbt's `macros` section: each project / package macro with its checksum and the macros it calls. */
function manifestMacros(graph: CompiledGraph): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [id, m] of Object.entries(graph.macros ?? {}))
    out[id] = {
      unique_id: id,
      name: m.name,
      resource_type: 'macro',
      package_name: m.packageName,
      original_file_path: m.file,
      checksum: { name: 'sha256', checksum: m.checksum },
      depends_on: { macros: m.macros },
    };
  return out;
}

/** dbt's `schema` / `alias` / `relation_name` of a test: where it stores its failing rows (null when it does not). */
function storedFailuresFields(node: TestNode): Record<string, unknown> {
  const stored = node.compiled.storeFailuresIn;
  if (!stored) return { relation_name: null };
  return {
    schema: stored.schema,
    alias: stored.identifier,
    relation_name: qualify(stored.schema, stored.identifier),
  };
}

/**
 * dbt-like `manifest.json`: nodes (models, seeds, snapshots, tests), sources, macros, unit tests, parent and
 * child maps, and each node's `checksums` (see {@link NodeChecksums}; `checksums` from
 * {@link graphChecksums} hash seed files, else they are computed here without reading them). Pure.
 *
 * @example
 * await writeFile('target/manifest.json', JSON.stringify(manifestJson(graph, { checksums: await graphChecksums(graph) })));
 */
export function manifestJson(
  graph: CompiledGraph,
  options: { checksums?: Record<string, NodeChecksums> } = {},
): Record<string, unknown> {
  const nodes: Record<string, unknown> = {};
  const sources: Record<string, unknown> = {};
  const unitTests: Record<string, unknown> = {};
  for (const [id, node] of Object.entries(graph.nodes)) {
    const checksums = options.checksums?.[id] ?? nodeChecksums(node, { targetSchema: graph.targetSchema });
    if (node.resourceType === 'source') sources[id] = manifestNode(node, checksums);
    else if (node.resourceType === 'unit_test') unitTests[id] = manifestNode(node, checksums);
    else nodes[id] = manifestNode(node, checksums);
  }
  return {
    metadata: {
      dbt_schema_version: DBT_MANIFEST_SCHEMA,
      generated_at: graph.generatedAt,
      project_name: graph.projectName,
      adapter_type: 'postgres',
      generator: '@dataflow/modeling',
    },
    nodes,
    sources,
    macros: manifestMacros(graph),
    unit_tests: unitTests,
    parent_map: graph.parentMap,
    child_map: graph.childMap,
  };
}

const DBT_STATUS: Record<NodeResult['status'], string> = {
  success: 'success',
  error: 'error',
  skipped: 'skipped',
  pass: 'pass',
  warn: 'warn',
  fail: 'fail',
};

/** The `metadata` block dbt puts at the head of every artifact. */
export function artifactMetadata(schemaVersion: string, invocationId: string, generatedAt: string) {
  return {
    dbt_schema_version: schemaVersion,
    generated_at: generatedAt,
    invocation_id: invocationId,
    generator: '@dataflow/modeling',
  };
}

/**
 * dbt-like `run_results.json`. Pure.
 *
 * @example
 * await writeFile('target/run_results.json', JSON.stringify(runResultsJson(run)));
 */
export function runResultsJson(
  run: RunArtifact,
  generatedAt = new Date().toISOString(),
): Record<string, unknown> {
  return {
    metadata: artifactMetadata(DBT_RUN_RESULTS_SCHEMA, run.runId, generatedAt),
    results: run.results.map((r) => ({
      unique_id: r.uniqueId,
      status: DBT_STATUS[r.status],
      timing: [
        {
          name: 'execute',
          started_at: r.startedAt,
          completed_at: new Date(Date.parse(r.startedAt) + r.durationMs).toISOString(),
        },
      ],
      thread_id: null,
      execution_time: r.durationMs / 1000,
      message: r.message ?? null,
      failures: r.test ? r.test.failures : null,
      adapter_response: r.rows !== undefined ? { rows_affected: r.rows } : {},
      relation_name: r.relation ?? null,
      compiled_code: r.test?.sql ?? null,
    })),
    elapsed_time: run.elapsedMs / 1000,
    args: run.args ?? {},
  };
}

/**
 * Where dbt puts a node's compiled SQL: `compiled/<project>/<file>` (tests: under their yml's folder).
 *
 * @example
 * compiledPath(graph, graph.nodes['model.shop.orders']); // 'compiled/shop/models/orders.sql'
 */
export function compiledPath(graph: CompiledGraph, node: GraphNode): string | undefined {
  if (node.resourceType === 'model') {
    // TS models have a virtual `.ts` path (or none); their compiled SQL is still a `.sql` file.
    const file = node.file ? node.file.replace(/\.[^./]+$/, '.sql') : `models/${node.name}.sql`;
    return join('compiled', graph.projectName, file);
  }
  if (node.resourceType === 'snapshot')
    return join(
      'compiled',
      graph.projectName,
      node.file ? dirname(node.file) : 'snapshots',
      `${node.name}.sql`,
    );
  if (node.resourceType === 'test') {
    // dbt: singular tests keep their file path; generic tests go under `<yml path>/<test name>.sql`.
    if (node.file?.endsWith('.sql')) return join('compiled', graph.projectName, node.file);
    return join('compiled', graph.projectName, node.file ?? 'tests', `${node.name}.sql`);
  }
  return undefined;
}

/** Writes `text` to a temp name beside `path` and renames it, so readers never see half a file. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  // Unique per writer: two builds in one process (or two processes) never share a temp file.
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/**
 * Writes `manifest.json`, compiled SQL under `compiled/`, and with a run `run_results.json`
 * into `targetDir`. JSON files are written to a temp name and renamed, so readers never see half.
 *
 * @example
 * await writeArtifacts('target', graph, { runId, results, elapsedMs });
 */
export async function writeArtifacts(
  targetDir: string,
  graph: CompiledGraph,
  run?: RunArtifact,
): Promise<void> {
  for (const node of Object.values(graph.nodes)) {
    const rel = compiledPath(graph, node);
    if (!rel) continue;
    const text =
      node.resourceType === 'model' || node.resourceType === 'snapshot'
        ? node.compiledSql
        : node.resourceType === 'test'
          ? node.compiled.sql
          : '';
    await mkdir(dirname(join(targetDir, rel)), { recursive: true });
    await writeFile(join(targetDir, rel), `${text.trimEnd()}\n`);
  }
  await writeManifest(targetDir, graph);
  if (run) await writeRunResults(targetDir, run);
}

/**
 * Writes `manifest.json` alone into `targetDir` (temp name, then rename), with `checksums` when
 * the caller computed them already (else {@link graphChecksums}, which reads seed files).
 *
 * @example
 * await writeManifest('target', graph, { checksums });
 */
export async function writeManifest(
  targetDir: string,
  graph: CompiledGraph,
  options: { checksums?: Record<string, NodeChecksums> } = {},
): Promise<void> {
  const checksums = options.checksums ?? (await graphChecksums(graph));
  await writeAtomic(
    join(targetDir, 'manifest.json'),
    `${JSON.stringify(manifestJson(graph, { checksums }), null, 2)}\n`,
  );
}

/**
 * Writes `run_results.json` alone into `targetDir` (temp name, then rename).
 *
 * @example
 * await writeRunResults('target', { runId, results, elapsedMs, args: { which: 'build' } });
 */
export async function writeRunResults(targetDir: string, run: RunArtifact): Promise<void> {
  await writeAtomic(join(targetDir, 'run_results.json'), `${JSON.stringify(runResultsJson(run), null, 2)}\n`);
}
