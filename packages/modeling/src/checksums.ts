import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { CompiledGraph, GraphNode } from './graph.js';

/**
 * What `state:modified` compares, per node (sha256, hex):
 * - `body`: the node's source text, normalised (CRLF → LF, trailing spaces of each line and
 *   leading / trailing blank lines dropped): a model's or snapshot's raw SQL file, a seed's CSV
 *   file bytes, a unit test's fixtures and expected rows, a source's declared columns. Raw text,
 *   not compiled SQL, which names the target schema (it differs between prod and CI). Where there
 *   is no raw text (a data test, a TypeScript model) the compiled SQL is hashed with the quoted
 *   target schema (`"analytics"`, `"analytics_x"`) replaced by a fixed token. As in dbt, an
 *   inline `{{ config(...) }}` is part of the file, so editing it changes the body too.
 * - `configs`: the resolved config that changes what is built, minus non-semantic keys (`tags`,
 *   descriptions, docs): a model's materialized, unique_key, incremental_strategy, full_refresh;
 *   a seed's column_types; a snapshot's whole config; a test's severity and thresholds; a source's
 *   freshness and loaded_at_field.
 * - `relation`: where it is built, as configured, not as rendered for one target: a model's
 *   custom schema suffix and alias (dbt compares the unrendered config too, so prod and CI targets
 *   do not make every node "modified"); a source's full relation (sources are not built per target).
 */
export interface NodeChecksums {
  body: string;
  configs: string;
  relation: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The normalised form of source text that `body` hashes.
 *
 * @example
 * normaliseBody('select 1  \r\n\r\n'); // 'select 1'
 */
export function normaliseBody(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/^\n+|\n+$/g, '');
}

/** JSON with object keys sorted, so equal configs hash equally whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** `"<target>"` and `"<target>_suffix"` → `"<target>…`: compiled SQL that does not depend on the target. */
function withoutTarget(sql: string, targetSchema: string | undefined): string {
  if (!targetSchema) return sql;
  const quoted = `"${targetSchema.replaceAll('"', '""')}`;
  return sql.replace(
    new RegExp(`${quoted.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=["_])`, 'g'),
    '"<target>',
  );
}

function bodyText(node: GraphNode, targetSchema: string | undefined): string {
  switch (node.resourceType) {
    case 'model':
    case 'snapshot':
      return node.rawSql ?? withoutTarget(node.compiledSql, targetSchema);
    case 'test':
      return withoutTarget(node.compiled.sql, targetSchema);
    case 'unit_test':
      return canonicalJson({
        given: node.spec.inputs.map((i) => ({ input: i.input, ...i.fixture })),
        expect: node.spec.expect,
      });
    case 'source':
      return canonicalJson(node.columns ?? {});
    case 'seed':
      return node.seedPath;
  }
}

function configOf(node: GraphNode): unknown {
  switch (node.resourceType) {
    case 'model': {
      const { materialized, uniqueKey, incrementalStrategy, fullRefresh, enabled } = node.config;
      return { materialized, uniqueKey, incrementalStrategy, fullRefresh, enabled };
    }
    case 'snapshot':
      return node.config;
    case 'seed':
      return { columnTypes: node.columnTypes ?? {} };
    case 'test':
      return { severity: node.severity, config: node.compiled.config };
    case 'source':
      return { freshness: node.freshness ?? null, loadedAtField: node.loadedAtField ?? null };
    case 'unit_test':
      return { model: node.attachedNode };
  }
}

function relationOf(node: GraphNode): unknown {
  switch (node.resourceType) {
    case 'model':
      return { schema: node.config.schema ?? null, alias: node.relation.identifier };
    case 'snapshot':
    case 'seed':
      return { alias: node.relation.identifier };
    case 'source':
      return { relation: node.relation.sql };
    default:
      return null;
  }
}

/**
 * A macro's checksum: sha256 of its parsed definition with source positions left out, so editing
 * another macro of the same file (which moves this one's lines) does not change it. Pure.
 *
 * @example
 * macroChecksum(template.body[0]); // 'b94d27b9…'
 */
export function macroChecksum(definition: unknown): string {
  return sha256(JSON.stringify(definition, (key, value) => (key === 'line' ? undefined : value)));
}

/** Options of {@link nodeChecksums}. */
export interface ChecksumOptions {
  /** A seed's file hash ({@link seedFileChecksum}); without it a seed's body hashes its path. */
  seedBody?: string | undefined;
  /** The graph's target schema, neutralised in compiled SQL that is hashed. */
  targetSchema?: string | undefined;
}

/**
 * A node's checksums. Pure.
 *
 * @example
 * nodeChecksums(graph.nodes['model.shop.orders'], { targetSchema: graph.targetSchema }).body; // 'e3b0c442…'
 */
export function nodeChecksums(node: GraphNode, options: ChecksumOptions = {}): NodeChecksums {
  const { seedBody, targetSchema } = options;
  return {
    body:
      node.resourceType === 'seed' && seedBody
        ? seedBody
        : sha256(normaliseBody(bodyText(node, targetSchema))),
    configs: sha256(canonicalJson(configOf(node))),
    relation: sha256(canonicalJson(relationOf(node))),
  };
}

/**
 * sha256 of a seed file's bytes, streamed (memory does not grow with the file).
 *
 * @example
 * await seedFileChecksum('/p/seeds/countries.csv'); // 'a1b2…'
 */
export async function seedFileChecksum(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Checksums of every node of a graph (seed files are read; an unreadable one hashes its path).
 *
 * @example
 * const checksums = await graphChecksums(graph);
 */
export async function graphChecksums(graph: CompiledGraph): Promise<Record<string, NodeChecksums>> {
  const out: Record<string, NodeChecksums> = {};
  for (const [id, node] of Object.entries(graph.nodes)) {
    const seedBody =
      node.resourceType === 'seed' ? await seedFileChecksum(node.seedPath).catch(() => undefined) : undefined;
    out[id] = nodeChecksums(node, { seedBody, targetSchema: graph.targetSchema });
  }
  return out;
}
