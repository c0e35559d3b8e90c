import { findCycles, type RelationInfo } from '../graph.js';
import type { CompileContext } from './context.js';
import type { NameEntry, NameTable } from './names.js';
import type { NamedModel } from './parse-models.js';
import type { SourceTable } from './sources.js';

/** A resolved `ref()` / `source()`: the relation it renders as and every node it reads. */
export interface Resolution {
  relation: RelationInfo;
  /** Set when the target is an ephemeral model (inlined as a CTE, no relation of its own). */
  ephemeral?: boolean;
  /** The named node first, then every other node whose relation is the same one. */
  nodeIds: string[];
}

/** Resolves references by name and by relation identity; shared by models and tests. */
export interface Linker {
  ref(name: string): Resolution | undefined;
  source(sourceName: string, tableName: string): Resolution | undefined;
}

const identity = (relation: RelationInfo) => relation.sql;

/**
 * A linker over the name table and the sources. A relation is one thing however it is read: a
 * seed, model or loaded table read through `source()` or `ref()` gets the edge to every node that
 * is that relation (the seed that builds it, the source that declares it), so lineage and
 * selection (`source:raw+`) see it and a model never reads a seed being swapped without waiting.
 *
 * @example
 * createLinker(names, sources).source('raw', 'orders')?.nodeIds; // ['source.shop.raw.orders', 'seed.shop.raw_orders']
 */
export function createLinker(names: NameTable, sources: SourceTable): Linker {
  const byRelation = new Map<string, string[]>();
  const index = (relation: RelationInfo, uniqueId: string) => {
    const key = identity(relation);
    byRelation.set(key, [...(byRelation.get(key) ?? []), uniqueId]);
  };
  for (const entry of names.values())
    if (entry.uniqueId && !entry.ephemeral) index(entry.relation, entry.uniqueId);
  for (const node of sources.values()) index(node.relation, node.uniqueId);
  const withSameRelation = (first: string, relation: RelationInfo) => {
    const others = (byRelation.get(identity(relation)) ?? []).filter((id) => id !== first);
    return first ? [first, ...others] : others;
  };
  const fromEntry = (entry: NameEntry): Resolution =>
    entry.ephemeral
      ? { relation: entry.relation, ephemeral: true, nodeIds: [entry.uniqueId] }
      : { relation: entry.relation, nodeIds: withSameRelation(entry.uniqueId, entry.relation) };
  return {
    ref: (name) => {
      const entry = names.get(name);
      return entry ? fromEntry(entry) : undefined;
    },
    source: (s, t) => {
      const node = sources.get(`${s}.${t}`);
      return node
        ? { relation: node.relation, nodeIds: withSameRelation(node.uniqueId, node.relation) }
        : undefined;
    },
  };
}

/** The line of the first match of `pattern` in `text`, for diagnostics. */
function lineOf(text: string | undefined, pattern: RegExp): number | undefined {
  if (!text) return undefined;
  const m = pattern.exec(text);
  return m ? text.slice(0, m.index).split('\n').length : undefined;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What linking found: each model's parents and the models caught in a cycle. */
export interface LinkResult {
  dependsOn: Map<string, string[]>;
  inCycle: Set<string>;
}

/**
 * Link phase: resolves every model's `ref()` / `source()` calls to node ids (reporting unknown
 * names with their line) and detects cycles among models (one `CYCLE` diagnostic each).
 *
 * @example
 * const { dependsOn, inCycle } = linkModels(ctx, models, createLinker(names, sources));
 */
export function linkModels(ctx: CompileContext, models: NamedModel[], linker: Linker): LinkResult {
  const dependsOn = new Map<string, string[]>();
  for (const m of models) {
    const report = ctx.diagnostics.at(m.src.name, m.src.file);
    const deps = new Set<string>();
    const add = (ids: string[]) => {
      for (const id of ids) if (id !== m.uniqueId) deps.add(id);
    };
    for (const r of m.refs) {
      const resolved = linker.ref(r);
      if (resolved) add(resolved.nodeIds);
      else
        report.error(
          'UNKNOWN_REF',
          `${m.src.name} references ${r}, which is not a model, seed or loaded relation`,
          lineOf(m.src.rawSql, new RegExp(`ref\\(\\s*(['"][^'"]*['"]\\s*,\\s*)?['"]${escapeRe(r)}['"]`)),
        );
    }
    for (const [s, t] of m.sources) {
      const resolved = linker.source(s, t);
      if (resolved) add(resolved.nodeIds);
      else
        report.error(
          'UNKNOWN_SOURCE',
          `${m.src.name} reads source('${s}', '${t}'), which is not declared`,
          lineOf(
            m.src.rawSql,
            new RegExp(`source\\(\\s*['"]${escapeRe(s)}['"]\\s*,\\s*['"]${escapeRe(t)}['"]`),
          ),
        );
    }
    dependsOn.set(m.uniqueId, [...deps]);
  }
  return { dependsOn, inCycle: detectCycles(ctx, models, dependsOn) };
}

function detectCycles(
  ctx: CompileContext,
  models: NamedModel[],
  dependsOn: Map<string, string[]>,
): Set<string> {
  const cycles = findCycles(
    models.map((m) => m.uniqueId),
    (id) => (dependsOn.get(id) ?? []).filter((d) => d.startsWith('model.')),
  );
  const inCycle = new Set<string>();
  for (const cycle of cycles) {
    const names = cycle.map((id) => id.split('.').slice(2).join('.'));
    const first = models.find((m) => m.uniqueId === cycle[0]);
    ctx.diagnostics
      .at(names[0] as string, first?.src.file)
      .error('CYCLE', `dependency cycle: ${names.join(' -> ')}`);
    for (const id of cycle) inCycle.add(id);
  }
  return inCycle;
}
