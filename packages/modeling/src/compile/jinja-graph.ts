import type { GraphNode, ModelConfig, RelationInfo } from '../graph.js';
import type { ConfigLayer } from '../project-files.js';

/**
 * dbt's node config defaults (`NodeConfig`), under what a node sets: templates read
 * `node.config.materialized`, `node.config.get('post-hook')`, `node.config.contract.enforced`…
 */
const CONFIG_DEFAULTS: Readonly<Record<string, unknown>> = {
  enabled: true,
  alias: null,
  schema: null,
  database: null,
  tags: [],
  meta: {},
  materialized: 'view',
  incremental_strategy: null,
  persist_docs: {},
  'post-hook': [],
  'pre-hook': [],
  quoting: {},
  column_types: {},
  full_refresh: null,
  unique_key: null,
  on_schema_change: 'ignore',
  on_configuration_change: 'apply',
  grants: {},
  packages: [],
  docs: { show: true, node_color: null },
  contract: { enforced: false, alias_types: true },
  access: 'protected',
};

/** What a model is known by when a template reads it as `model` or `graph.nodes[…]`. */
export interface ModelFacts {
  uniqueId: string;
  name: string;
  packageName: string;
  file?: string;
  fqn: string[];
  rawSql?: string;
  compiledSql?: string;
  description?: string;
  columns: Record<string, { description?: string }>;
  /** The merged config as written (every key); the typed one fills what it lacks. */
  rawConfig?: ConfigLayer;
  config?: ModelConfig;
  relation?: RelationInfo;
  dependsOn?: string[];
  refs?: string[];
  sources?: Array<[string, string]>;
}

/** dbt's `original_file_path`: relative to the node's own project (an installed package's folder stripped). */
function originalPath(file: string | undefined, packageName: string, rootProject: string): string | null {
  if (file === undefined) return null;
  return packageName === rootProject ? file : file.split('/').slice(2).join('/');
}

/** dbt's column entries: `{name, description, meta, data_type, tags, quote, constraints}`. */
function columnDicts(columns: Record<string, { description?: string }> | undefined) {
  const out: Record<string, unknown> = {};
  for (const [name, c] of Object.entries(columns ?? {})) {
    out[name] = {
      name,
      description: c.description ?? '',
      meta: {},
      data_type: null,
      tags: [],
      quote: null,
      constraints: [],
    };
  }
  return out;
}

function typedConfig(config: ModelConfig | undefined): Record<string, unknown> {
  if (!config) return {};
  return {
    materialized: config.materialized,
    enabled: config.enabled,
    tags: config.tags,
    ...(config.uniqueKey
      ? { unique_key: config.uniqueKey.length === 1 ? config.uniqueKey[0] : config.uniqueKey }
      : {}),
    ...(config.materialized === 'incremental' ? { incremental_strategy: config.incrementalStrategy } : {}),
    ...(config.schema !== undefined ? { schema: config.schema } : {}),
    ...(config.alias !== undefined ? { alias: config.alias } : {}),
    ...(config.database !== undefined ? { database: config.database } : {}),
    ...(config.onSchemaChange ? { on_schema_change: config.onSchemaChange } : {}),
    ...(config.meta ? { meta: config.meta } : {}),
  };
}

/**
 * A model as dbt's `model` context variable and `graph.nodes` entries give it (the manifest's
 * node shape: `unique_id`, `resource_type`, `package_name`, `original_file_path`, `fqn`,
 * `config`, `depends_on.nodes`, `refs`, `columns`…), a plain dict.
 *
 * @example
 * modelDict('shop', { uniqueId: 'model.shop.m', name: 'm', packageName: 'shop', fqn: ['shop', 'm'], columns: {} }).config.materialized; // 'view'
 */
export function modelDict(rootProject: string, m: ModelFacts): Record<string, unknown> {
  const config = { ...CONFIG_DEFAULTS, ...m.rawConfig, ...typedConfig(m.config) };
  const original = originalPath(m.file, m.packageName, rootProject);
  return {
    unique_id: m.uniqueId,
    name: m.name,
    resource_type: 'model',
    package_name: m.packageName,
    path: `${m.fqn.slice(1).join('/')}.sql`,
    original_file_path: original,
    patch_path: null,
    fqn: m.fqn,
    alias: m.relation?.identifier ?? config.alias ?? m.name,
    schema: m.relation?.schema ?? config.schema ?? null,
    database: m.relation?.database ?? null,
    relation_name: m.relation?.sql ?? null,
    language: 'sql',
    raw_code: m.rawSql ?? '',
    compiled_code: m.compiledSql ?? null,
    description: m.description ?? '',
    columns: columnDicts(m.columns),
    config,
    tags: config.tags,
    meta: config.meta,
    docs: config.docs,
    access: config.access,
    group: null,
    contract: config.contract,
    constraints: [],
    version: null,
    latest_version: null,
    deprecation_date: null,
    depends_on: { nodes: m.dependsOn ?? [], macros: [] },
    refs: (m.refs ?? []).map((name) => ({ name, package: null, version: null })),
    sources: (m.sources ?? []).map(([s, t]) => [s, t]),
    unrendered_config: { ...m.rawConfig },
  };
}

function relationFields(relation: RelationInfo): Record<string, unknown> {
  return {
    database: relation.database ?? null,
    schema: relation.schema,
    alias: relation.identifier,
    relation_name: relation.sql,
  };
}

/** Any compiled node other than a model, in the manifest's shape. */
function otherDict(
  rootProject: string,
  node: Exclude<GraphNode, { resourceType: 'model' }>,
): Record<string, unknown> {
  const base: Record<string, unknown> = {
    unique_id: node.uniqueId,
    name: node.name,
    resource_type: node.resourceType,
    package_name: node.packageName,
    original_file_path: originalPath(node.file, node.packageName, rootProject),
    path: node.file ? (node.file.split('/').pop() ?? null) : null,
    fqn: node.fqn,
    tags: node.tags,
    description: node.description ?? '',
    meta: {},
    depends_on: { nodes: node.dependsOn, macros: [] },
  };
  switch (node.resourceType) {
    case 'seed':
      return {
        ...base,
        ...relationFields(node.relation),
        meta: node.meta ?? {},
        columns: {},
        config: {
          ...CONFIG_DEFAULTS,
          materialized: 'seed',
          column_types: node.columnTypes ?? {},
          meta: node.meta ?? {},
        },
      };
    case 'source':
      return {
        ...base,
        ...relationFields(node.relation),
        source_name: node.sourceName,
        identifier: node.relation.identifier,
        source_description: '',
        loader: '',
        columns: columnDicts(node.columns),
        freshness: node.freshness ?? null,
        loaded_at_field: node.loadedAtField ?? null,
        config: { enabled: true },
      };
    case 'snapshot':
      return {
        ...base,
        ...relationFields(node.relation),
        columns: columnDicts(node.columns),
        raw_code: node.rawSql ?? '',
        compiled_code: node.compiledSql,
        config: {
          ...CONFIG_DEFAULTS,
          materialized: 'snapshot',
          unique_key: node.config.uniqueKey,
          strategy: node.config.strategy,
        },
      };
    case 'test':
      return {
        ...base,
        columns: {},
        attached_node: node.attachedNode ?? null,
        column_name: node.columnName ?? null,
        test_metadata:
          node.testKind === 'generic' ? { name: node.compiled.test, kwargs: {}, namespace: null } : null,
        config: {
          ...CONFIG_DEFAULTS,
          materialized: 'test',
          severity: node.severity.toUpperCase(),
          ...node.compiled.config,
        },
        compiled_code: node.compiled.sql,
        raw_code: node.sqlTemplate ?? '',
      };
    case 'unit_test':
      return {
        ...base,
        model: node.spec.model.name,
        attached_node: node.attachedNode,
        config: { enabled: true },
      };
  }
}

/**
 * dbt's `graph` context variable over a compiled graph: `nodes` (models, seeds, snapshots, tests),
 * `sources`, and the kinds dataflow parses but does not run (`exposures`, `metrics`, `groups`,
 * `semantic_models`, `saved_queries`) empty. `modelFacts` adds what a model node lacks (its config as written, refs);
 * every value is a plain dict, so templates may also cache in it (`graph.setdefault`).
 *
 * @example
 * const graph = jinjaGraph('shop', compiled.nodes, (id) => modelFacts.get(id));
 */
export function jinjaGraph(
  rootProject: string,
  nodes: Readonly<Record<string, GraphNode>>,
  modelFacts: (uniqueId: string) => Partial<ModelFacts> | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const sources: Record<string, unknown> = {};
  const unitTests: Record<string, unknown> = {};
  for (const [id, node] of Object.entries(nodes)) {
    if (node.resourceType === 'model') {
      out[id] = modelDict(rootProject, { ...node, ...modelFacts(id) });
    } else if (node.resourceType === 'source') sources[id] = otherDict(rootProject, node);
    else if (node.resourceType === 'unit_test') unitTests[id] = otherDict(rootProject, node);
    else out[id] = otherDict(rootProject, node);
  }
  return {
    nodes: out,
    sources,
    unit_tests: unitTests,
    exposures: {},
    metrics: {},
    groups: {},
    semantic_models: {},
    saved_queries: {},
    macros: {},
  };
}
