import { type NodeChecksums, nodeChecksums } from './checksums.js';
import { macroClosure } from './compile/macro-deps.js';
import { ModelingError } from './errors.js';
import type { CompiledGraph, GraphNode } from './graph.js';
import type { PreviousResults, StateManifest } from './state.js';

/**
 * What `state:` and `result:` selectors compare against: a previous run's manifest (`--state DIR`)
 * with the current graph's checksums, and a previous run's results by unique id.
 */
export interface SelectionState {
  previous?: StateManifest;
  /** The current graph's checksums ({@link graphChecksums}); computed per node when absent. */
  current?: Record<string, NodeChecksums>;
  results?: PreviousResults;
}

/** Options of {@link selectNodes}. */
export interface SelectOptions {
  /** dbt selectors; items are unioned, a space inside an item is a union, a comma an intersection. */
  select?: string[];
  exclude?: string[];
  /**
   * dbt's indirect selection: `eager` (default) adds every test with at least one selected parent;
   * `cautious` only tests whose parents are all selected; `empty` adds none.
   */
  indirectSelection?: 'eager' | 'cautious' | 'empty';
  /** For `state:modified` / `state:new` / `result:error` selectors. */
  state?: SelectionState;
}

/** What matching a node needs besides the node. */
interface MatchContext {
  graph: CompiledGraph;
  state: SelectionState;
}

interface Atom {
  method: string;
  value: string;
  parents: number | undefined; // undefined = none, Infinity = all
  children: number | undefined;
  at: boolean;
}

export function _parseAtom(text: string): Atom {
  let rest = text;
  let at = false;
  let parents: number | undefined;
  let children: number | undefined;
  if (rest.startsWith('@')) {
    at = true;
    rest = rest.slice(1);
  }
  const pre = /^(\d*)\+/.exec(rest);
  if (pre) {
    parents = pre[1] ? Number(pre[1]) : Number.POSITIVE_INFINITY;
    rest = rest.slice(pre[0].length);
  }
  const post = /\+(\d*)$/.exec(rest);
  if (post) {
    children = post[1] ? Number(post[1]) : Number.POSITIVE_INFINITY;
    rest = rest.slice(0, post.index);
  }
  const colon = /^([a-z_.]+):(.*)$/.exec(rest);
  const method = colon ? (colon[1] as string) : 'name';
  const value = colon ? (colon[2] as string) : rest;
  return { method, value, parents, children, at };
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '.*')
      .replaceAll('?', '.')}$`,
  );
}

const STATE_VALUES = [
  'new',
  'old',
  'modified',
  'modified.body',
  'modified.configs',
  'modified.relation',
  'modified.macros',
  'unmodified',
] as const;

/** Whether a macro the node calls (directly or through other macros) differs from the previous manifest's. */
function macrosModified(node: GraphNode, ctx: MatchContext): boolean {
  const direct = node.dependsOnMacros ?? [];
  if (direct.length === 0) return false;
  const macros = ctx.graph.macros ?? {};
  const before = ctx.state.previous?.macros;
  return macroClosure(direct, macros).some(
    (id) => before?.[id] === undefined || before[id] !== macros[id]?.checksum,
  );
}

/**
 * dbt's `state:` method: `new` (absent from the previous manifest), `modified` (new, or any of
 * body / configs / relation / macros differs), `modified.<part>` (that checksum differs; a node without
 * previous checksums counts as modified; `macros`: a macro it calls, directly or through other
 * macros, changed or is new), `old`, `unmodified`.
 */
function matchesState(node: GraphNode, value: string, ctx: MatchContext): boolean {
  const { previous } = ctx.state;
  if (!previous)
    throw new ModelingError('INVALID_SELECTOR', `state:${value} needs a previous manifest (--state DIR)`);
  if (!(STATE_VALUES as readonly string[]).includes(value))
    throw new ModelingError(
      'INVALID_SELECTOR',
      `unknown state selector state:${value} (expected one of ${STATE_VALUES.join(', ')})`,
    );
  const before = previous.nodes[node.uniqueId];
  if (value === 'new') return before === undefined;
  if (value === 'old') return before !== undefined;
  const now =
    ctx.state.current?.[node.uniqueId] ?? nodeChecksums(node, { targetSchema: ctx.graph.targetSchema });
  const differs = (part: keyof NodeChecksums) => before?.checksums?.[part] !== now[part];
  if (value === 'modified.body') return before !== undefined && differs('body');
  if (value === 'modified.configs') return before !== undefined && differs('configs');
  if (value === 'modified.relation') return before !== undefined && differs('relation');
  if (value === 'modified.macros') return before !== undefined && macrosModified(node, ctx);
  const modified =
    before === undefined ||
    differs('body') ||
    differs('configs') ||
    differs('relation') ||
    macrosModified(node, ctx);
  return value === 'modified' ? modified : !modified;
}

function matchesResult(node: GraphNode, value: string, ctx: MatchContext): boolean {
  const { results } = ctx.state;
  if (!results)
    throw new ModelingError(
      'INVALID_SELECTOR',
      `result:${value} needs a previous run_results.json (in --state DIR, else target/)`,
    );
  return results[node.uniqueId] === value;
}

function matches(node: GraphNode, method: string, value: string, ctx: MatchContext): boolean {
  switch (method) {
    case 'state':
      return matchesState(node, value, ctx);
    case 'result':
      return matchesResult(node, value, ctx);
    case 'package':
      return node.packageName === (value === 'this' ? ctx.graph.projectName : value);
    case 'name': {
      if (value.includes('*') || value.includes('?')) return globToRegExp(value).test(node.name);
      if (node.name === value) return node.resourceType !== 'source';
      // dbt also matches a dotted fqn (`staging.stg_orders`) and a folder name in the fqn.
      const fqn = node.fqn.join('.');
      return fqn === value || fqn.endsWith(`.${value}`) || node.fqn.slice(1, -1).includes(value);
    }
    case 'tag':
      return node.tags.some((t) => (value.includes('*') ? globToRegExp(value).test(t) : t === value));
    case 'path': {
      if (!node.file) return false;
      const v = value.replace(/\/+$/, '');
      return node.file === v || node.file.startsWith(`${v}/`) || globToRegExp(v).test(node.file);
    }
    case 'resource_type':
      return node.resourceType === value;
    case 'source':
      return (
        node.resourceType === 'source' &&
        (node.sourceName === value ||
          `${node.sourceName}.${node.tableName}` === value ||
          (value.endsWith('.*') && node.sourceName === value.slice(0, -2)))
      );
    case 'config.materialized':
      return node.resourceType === 'model' && node.config.materialized === value;
    case 'test_type':
      // dbt: `unit`, `data` (generic and singular data tests), `generic`, `singular`.
      if (value === 'unit') return node.resourceType === 'unit_test';
      return node.resourceType === 'test' && (value === 'data' || node.testKind === value);
    case 'fqn':
      return node.fqn.join('.') === value;
    default:
      throw new ModelingError('INVALID_SELECTOR', `unknown selector method ${method}:`);
  }
}

function walk(
  graph: CompiledGraph,
  start: Iterable<string>,
  map: Record<string, string[]>,
  depth: number,
): Set<string> {
  const out = new Set<string>();
  let frontier = [...start];
  for (let d = 0; d < depth && frontier.length > 0; d++) {
    const next: string[] = [];
    for (const id of frontier) {
      for (const n of map[id] ?? []) {
        if (!out.has(n) && graph.nodes[n]) {
          out.add(n);
          next.push(n);
        }
      }
    }
    frontier = next;
  }
  return out;
}

function evalAtom(ctx: MatchContext, text: string): Set<string> {
  const { graph } = ctx;
  const atom = _parseAtom(text);
  const base = new Set(
    Object.keys(graph.nodes).filter((id) =>
      matches(graph.nodes[id] as GraphNode, atom.method, atom.value, ctx),
    ),
  );
  const out = new Set(base);
  if (atom.at) {
    const down = walk(graph, base, graph.childMap, Number.POSITIVE_INFINITY);
    for (const id of down) out.add(id);
    for (const id of walk(graph, [...base, ...down], graph.parentMap, Number.POSITIVE_INFINITY)) out.add(id);
    return out;
  }
  if (atom.parents !== undefined)
    for (const id of walk(graph, base, graph.parentMap, atom.parents)) out.add(id);
  if (atom.children !== undefined)
    for (const id of walk(graph, base, graph.childMap, atom.children)) out.add(id);
  return out;
}

function evalSelectors(ctx: MatchContext, selectors: string[]): Set<string> {
  const out = new Set<string>();
  for (const item of selectors) {
    for (const union of item.trim().split(/\s+/).filter(Boolean)) {
      const parts = union
        .split(',')
        .filter(Boolean)
        .map((p) => evalAtom(ctx, p));
      const [first, ...rest] = parts;
      if (!first) continue;
      for (const id of first) if (rest.every((s) => s.has(id))) out.add(id);
    }
  }
  return out;
}

/**
 * dbt node selection. Returns unique ids of selected runnable nodes (models, seeds, snapshots,
 * tests, unit tests; sources are never returned) in a stable order. Data tests and unit tests are
 * added by indirect selection (a unit test with its model).
 *
 * @example
 * selectNodes(graph, { select: ['+orders', 'tag:nightly,path:models/marts'], exclude: ['stg_payments'] });
 */
export function selectNodes(graph: CompiledGraph, options: SelectOptions = {}): string[] {
  const all = Object.keys(graph.nodes);
  const ctx: MatchContext = { graph, state: options.state ?? {} };
  const selected =
    options.select && options.select.length > 0 ? evalSelectors(ctx, options.select) : new Set(all);
  const mode = options.indirectSelection ?? 'eager';
  if (mode !== 'empty') {
    for (const id of all) {
      const node = graph.nodes[id] as GraphNode;
      if ((node.resourceType !== 'test' && node.resourceType !== 'unit_test') || selected.has(id)) continue;
      const parents = node.dependsOn.filter(
        (p) => graph.nodes[p]?.resourceType !== 'source' || node.attachedNode === p,
      );
      const hit =
        mode === 'eager'
          ? parents.some((p) => selected.has(p))
          : parents.length > 0 && parents.every((p) => selected.has(p));
      if (hit) selected.add(id);
    }
  }
  if (options.exclude && options.exclude.length > 0) {
    const excluded = evalSelectors(ctx, options.exclude);
    for (const id of excluded) selected.delete(id);
    // A test of an excluded node goes too.
    for (const id of [...selected]) {
      const node = graph.nodes[id] as GraphNode;
      if (
        (node.resourceType === 'test' || node.resourceType === 'unit_test') &&
        node.attachedNode &&
        excluded.has(node.attachedNode)
      )
        selected.delete(id);
    }
  }
  return all.filter((id) => selected.has(id) && graph.nodes[id]?.resourceType !== 'source').sort();
}

/**
 * The source nodes a selection names (`source:raw`, `source:raw.orders`, `tag:x`, ...), for
 * commands about sources such as freshness; no selector means every source.
 *
 * @example
 * selectSources(graph, ['source:raw.orders']); // ['source.shop.raw.orders']
 */
export function selectSources(graph: CompiledGraph, select?: string[], state: SelectionState = {}): string[] {
  const all = Object.keys(graph.nodes).filter((id) => graph.nodes[id]?.resourceType === 'source');
  if (!select || select.length === 0) return all.sort();
  const selected = evalSelectors({ graph, state }, select);
  return all.filter((id) => selected.has(id)).sort();
}
