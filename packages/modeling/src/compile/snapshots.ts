import type { ModelConfig, RelationInfo, SnapshotNode } from '../graph.js';
import { templateProblem } from '../jinja.js';
import type { ConfigLayer } from '../project-files.js';
import { resolveSnapshotConfig, type SnapshotConfig } from '../snapshot/config.js';
import type { CompileContext } from './context.js';
import { inlineEphemerals } from './ephemeral.js';
import type { SnapshotSource } from './inputs.js';
import { type Linker, linkModels } from './link.js';
import { isEnabled, mergeLayers } from './model-config.js';
import { checkIdentifierLength, claimName, type NameTable, relationOf } from './names.js';
import { type NamedModel, refPlaceholder, sourcePlaceholder } from './parse-models.js';
import { nodeRelation } from './relation-names.js';
import { type RenderedModel, renderModels } from './render.js';
import { renderConfigLayers } from './yaml-jinja.js';

/**
 * A parsed snapshot that owns its name. `model` is its view as a model (a table read by `ref()`),
 * so linking and rendering are the models' own phases.
 */
export interface NamedSnapshot {
  source: SnapshotSource;
  config: SnapshotConfig;
  model: NamedModel;
}

// Snapshots render and link like a table model; their own configuration is `config`.
const AS_MODEL: Omit<ModelConfig, 'tags'> = {
  materialized: 'table',
  incrementalStrategy: 'append',
  enabled: true,
};

/**
 * Where a snapshot lives: dbt's legacy `target_schema` verbatim (it bypasses
 * `generate_schema_name`, as in dbt), else the naming macros like a model.
 */
function snapshotRelation(ctx: CompileContext, src: SnapshotSource, cfg: ConfigLayer): RelationInfo {
  const legacy = typeof cfg.target_schema === 'string' && cfg.target_schema ? cfg.target_schema : undefined;
  const config = { materialized: 'snapshot', ...cfg, ...(legacy ? { schema: undefined } : {}) };
  const named = nodeRelation(ctx, {
    name: src.name,
    resourceType: 'snapshot',
    packageName: undefined,
    fqn: src.fqn,
    file: src.file,
    config,
  });
  return legacy ? relationOf(legacy, named.identifier, named.database) : named;
}

/**
 * Parse phase of snapshots: first render (collecting `ref()`, `source()`, `config()`), the resolved
 * snapshot configuration, the relation, and the name (models may `ref()` a snapshot). Problems are
 * diagnostics with the block's line; a disabled or broken snapshot is left out.
 *
 * @example
 * const snapshots = parseSnapshots(ctx, inputs.snapshots, names); // [{ config: { strategy: 'timestamp', ... }, model: {...} }]
 */
export function parseSnapshots(
  ctx: CompileContext,
  sources: SnapshotSource[],
  names: NameTable,
): NamedSnapshot[] {
  const out: NamedSnapshot[] = [];
  for (const src of sources) {
    const report = ctx.diagnostics.at(src.name, src.file);
    const offset = (line?: number) => (line && src.line ? src.line + line - 1 : (line ?? src.line));
    const refs: string[] = [];
    const reads: Array<[string, string]> = [];
    const inline: ConfigLayer = {};
    try {
      src.render({
        ref: (n) => {
          refs.push(n);
          return refPlaceholder(n);
        },
        source: (s, t) => {
          reads.push([s, t]);
          return sourcePlaceholder(s, t);
        },
        config: (values) => Object.assign(inline, values),
        var: ctx.var,
        thisRelation: '__df_this__',
        isIncremental: false,
      });
    } catch (error) {
      const p = templateProblem(error, src.file, src.rawSql);
      report.error('TEMPLATE_ERROR', p.message, offset(p.line));
      continue;
    }
    const site = { packageName: undefined, file: src.file, node: src.name };
    const cfg = mergeLayers([...renderConfigLayers(ctx, src.layers, site), inline]);
    if (!isEnabled(cfg.enabled)) continue;
    const { config, problems } = resolveSnapshotConfig(cfg);
    for (const p of problems) report.error('CONFIG_ERROR', `snapshot ${src.name}: ${p}`, src.line);
    if (!config) continue;
    const relation = snapshotRelation(ctx, src, cfg);
    checkIdentifierLength(ctx, relation.identifier, 'snapshot', src.file);
    const uniqueId = `snapshot.${ctx.projectName}.${src.name}`;
    if (!claimName(ctx, names, src.name, { uniqueId, relation, file: src.file })) continue;
    const model: NamedModel = {
      src: { ...src, inline: {} },
      refs,
      sources: reads,
      config: { ...AS_MODEL, tags: cfg.tags as string[] },
      uniqueId,
      relation,
    };
    out.push({ source: src, config, model });
  }
  return out;
}

/**
 * Link and compile phases of snapshots: parents (unknown refs and sources reported like a model's),
 * final SQL with ephemeral models inlined, and the graph node.
 *
 * @example
 * const nodes = compileSnapshots(ctx, snapshots, linker, renderedModels); // SnapshotNode[]
 */
export function compileSnapshots(
  ctx: CompileContext,
  snapshots: NamedSnapshot[],
  linker: Linker,
  renderedModels: ReadonlyMap<string, RenderedModel>,
): SnapshotNode[] {
  const models = snapshots.map((s) => s.model);
  const { dependsOn } = linkModels(ctx, models, linker);
  const rendered = renderModels(ctx, models, linker);
  const all = new Map([...renderedModels, ...rendered]);
  const out: SnapshotNode[] = [];
  for (const { source, config, model } of snapshots) {
    const r = rendered.get(model.uniqueId);
    if (!r) continue;
    out.push({
      uniqueId: model.uniqueId,
      name: source.name,
      resourceType: 'snapshot',
      packageName: ctx.projectName,
      file: source.file,
      fqn: source.fqn,
      tags: model.config.tags,
      dependsOn: dependsOn.get(model.uniqueId) ?? [],
      ...(source.description ? { description: source.description } : {}),
      relation: model.relation,
      rawSql: source.rawSql,
      compiledSql: inlineEphemerals(model.uniqueId, r.sql, all, new Set()).trim(),
      config,
      columns: source.columns,
    });
  }
  return out;
}
