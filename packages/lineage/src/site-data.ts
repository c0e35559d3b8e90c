import { DEFAULT_LAYOUT, layoutGraph } from './graph-layout.js';
import type { Manifest, ManifestNode } from './manifest.js';
import type { SiteRun } from './site-runs.js';

/** A lake location feeding a raw table: the graph's leftmost column. */
export interface LakeSource {
  /** Source name in `dataflow.yml` (the ingest and load job target). */
  source: string;
  /** The lake prefix, `s3://bucket/raw/orders` or `file:///…/orders`. */
  uri: string;
  /** The raw table it is loaded into (default `raw_<source>`). */
  table?: string | undefined;
}

/** A node's kind in the site's graph. */
export type SiteNodeKind = 'lake' | 'source' | 'seed' | 'snapshot' | 'model' | 'test';

/** One execution of a node in one run. */
export interface SiteNodeRun {
  runId: string;
  startedAt: string;
  status: string;
  partition: string | null;
  durationMs: number | null;
  rowsIn: number | null;
  rowsOut: number | null;
  rowsRejected: number | null;
  /** Tests: failing rows. */
  failures?: number;
  message: string | null;
}

/** A node of the lineage graph with everything its detail panel shows. */
export interface SiteNode {
  id: string;
  kind: SiteNodeKind;
  name: string;
  /** `schema.table` for relations, the URI for lake nodes. */
  relation?: string;
  materialized?: string;
  description?: string;
  file?: string;
  sql?: string;
  columns: Array<{ name: string; description?: string }>;
  /** Ids of the tests attached to this node. */
  tests: string[];
  /** Newest first, at most {@link LAST_RUNS}. */
  lastRuns: SiteNodeRun[];
  x: number;
  y: number;
}

/** Everything the site renders, also written as `site-data.json`. */
export interface SiteData {
  project: string;
  generatedAt: string;
  layout: { nodeWidth: number; nodeHeight: number };
  nodes: SiteNode[];
  edges: Array<{ from: string; to: string }>;
  /** Newest first. */
  runs: SiteRun[];
}

/** How many runs of each node the detail panel lists. */
export const LAST_RUNS = 10;

const lakeId = (source: string) => `lake.${source}`;

function graphNode(node: ManifestNode): Omit<SiteNode, 'x' | 'y'> {
  const columns = Object.entries(node.columns ?? {}).map(([name, c]) =>
    c.description ? { name, description: c.description } : { name },
  );
  const out: Omit<SiteNode, 'x' | 'y'> = {
    id: node.unique_id,
    kind: node.resource_type,
    name: node.resource_type === 'source' ? (node.identifier ?? node.name) : node.name,
    columns,
    tests: [],
    lastRuns: [],
  };
  if (node.relation_name) out.relation = node.relation_name.replaceAll('"', '');
  if (node.config?.materialized) out.materialized = node.config.materialized;
  if (node.description) out.description = node.description;
  if (node.original_file_path) out.file = node.original_file_path;
  // Compiled SQL starts with the blank lines its config() block rendered to.
  const sql = (node.compiled_code ?? node.raw_code ?? '').replace(/^(\s*\n)+/, '').trimEnd();
  if (sql) out.sql = sql;
  return out;
}

const stepOf: Record<Exclude<SiteNodeKind, 'lake'>, string> = {
  source: 'load',
  seed: 'seed',
  snapshot: 'model',
  model: 'model',
  test: 'test',
};

/** Which graph node a run-log job is about (ingest → lake, load → raw table, else by name). */
function jobNodeIndex(nodes: ReadonlyArray<Omit<SiteNode, 'x' | 'y'>>, lake: readonly LakeSource[]) {
  const index = new Map<string, string>();
  // The run log's step of each kind: loads fill sources, snapshots are recorded as model steps.
  for (const n of nodes) if (n.kind !== 'lake') index.set(`${stepOf[n.kind]}:${n.name}`, n.id);
  for (const l of lake) {
    index.set(`ingest:${l.source}`, lakeId(l.source));
    const table = nodes.find((n) => n.kind === 'source' && n.name === (l.table ?? `raw_${l.source}`));
    if (table) index.set(`load:${l.source}`, table.id);
  }
  return index;
}

function attachRuns(
  nodes: Map<string, Omit<SiteNode, 'x' | 'y'>>,
  runs: readonly SiteRun[],
  lake: readonly LakeSource[],
) {
  const index = jobNodeIndex([...nodes.values()], lake);
  for (const run of runs) {
    for (const job of run.jobs) {
      const node = nodes.get(index.get(`${job.step}:${job.target}`) ?? '');
      if (!node || node.lastRuns.length >= LAST_RUNS) continue;
      const result =
        job.step === 'test'
          ? run.testResults.find((t) => t.uniqueId === node.id || (!t.uniqueId && t.testName === node.name))
          : undefined;
      node.lastRuns.push({
        runId: run.runId,
        startedAt: job.startedAt,
        status: result?.status ?? job.status,
        partition: job.partition ?? null,
        durationMs: job.durationMs ?? null,
        rowsIn: job.rowsIn ?? null,
        rowsOut: job.rowsOut ?? null,
        rowsRejected: job.rowsRejected ?? null,
        ...(result ? { failures: result.failures } : {}),
        message: job.errorMessage ?? result?.message ?? null,
      });
    }
  }
}

/**
 * The site's data: the graph lake URI → raw tables → models → tests from a compiled manifest
 * and the lake sources, laid out left to right, each node with its SQL, columns, tests and
 * last runs; and the run history, newest first. Pure.
 *
 * @example
 * const data = buildSiteData({ manifest, runs, lake: [{ source: 'orders', uri: 's3://lake/raw/orders' }] });
 */
export function buildSiteData(input: {
  manifest: Manifest;
  runs: readonly SiteRun[];
  lake?: readonly LakeSource[] | undefined;
  generatedAt?: string | undefined;
}): SiteData {
  const { manifest } = input;
  const lake = input.lake ?? [];
  const nodes = new Map<string, Omit<SiteNode, 'x' | 'y'>>();
  const edges: Array<{ from: string; to: string }> = [];
  for (const n of [...Object.values(manifest.sources), ...Object.values(manifest.nodes)])
    nodes.set(n.unique_id, graphNode(n));
  for (const n of Object.values(manifest.nodes)) {
    for (const parent of n.depends_on?.nodes ?? [])
      if (nodes.has(parent)) edges.push({ from: parent, to: n.unique_id });
    const attached = n.resource_type === 'test' ? (n.attached_node ?? n.depends_on?.nodes[0]) : undefined;
    if (attached) nodes.get(attached)?.tests.push(n.unique_id);
  }
  for (const l of lake) {
    nodes.set(lakeId(l.source), {
      id: lakeId(l.source),
      kind: 'lake',
      name: l.uri,
      relation: l.uri,
      columns: [],
      tests: [],
      lastRuns: [],
    });
    const table = [...nodes.values()].find(
      (n) => n.kind === 'source' && n.name === (l.table ?? `raw_${l.source}`),
    );
    if (table) edges.push({ from: lakeId(l.source), to: table.id });
  }
  const runs = [...input.runs].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  attachRuns(nodes, runs, lake);
  const positions = layoutGraph([...nodes.keys()], edges, {
    ...DEFAULT_LAYOUT,
    groupOf: (id) => (nodes.get(id)?.kind === 'test' ? 1 : 0),
  });
  return {
    project: manifest.metadata.project_name,
    generatedAt: input.generatedAt ?? new Date().toISOString(),
    layout: { nodeWidth: DEFAULT_LAYOUT.nodeWidth, nodeHeight: DEFAULT_LAYOUT.nodeHeight },
    nodes: [...nodes.values()]
      .map((n) => ({ ...n, ...(positions.get(n.id) ?? { x: 0, y: 0 }) }))
      .sort((a, b) => a.x - b.x || a.y - b.y),
    edges,
    runs,
  };
}
