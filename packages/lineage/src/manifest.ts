import { z } from 'zod';
import { LineageError } from './errors.js';

// The part of modeling's `target/manifest.json` (dbt-like) that lineage and the site read.
// Parsed once at the edge: it is a file on disk that another version may have written.

const columns = z.record(z.string(), z.looseObject({ description: z.string().optional() })).optional();

const manifestNodeSchema = z.looseObject({
  unique_id: z.string(),
  name: z.string(),
  resource_type: z.enum(['model', 'seed', 'snapshot', 'test', 'source']),
  original_file_path: z.string().nullable().optional(),
  description: z.string().optional(),
  tags: z.array(z.string()).optional(),
  depends_on: z.looseObject({ nodes: z.array(z.string()) }).optional(),
  schema: z.string().optional(),
  alias: z.string().optional(),
  identifier: z.string().optional(),
  source_name: z.string().optional(),
  relation_name: z.string().nullable().optional(),
  config: z.looseObject({ materialized: z.string().optional(), severity: z.string().optional() }).optional(),
  raw_code: z.string().nullable().optional(),
  compiled_code: z.string().nullable().optional(),
  columns,
  attached_node: z.string().nullable().optional(),
  column_name: z.string().nullable().optional(),
  test_metadata: z.looseObject({ name: z.string() }).nullable().optional(),
});

const manifestSchema = z.looseObject({
  metadata: z.looseObject({ project_name: z.string(), generated_at: z.string().optional() }),
  nodes: z.record(z.string(), manifestNodeSchema),
  sources: z.record(z.string(), manifestNodeSchema).default({}),
  parent_map: z.record(z.string(), z.array(z.string())).optional(),
  child_map: z.record(z.string(), z.array(z.string())).optional(),
});

/** One node of a {@link Manifest}: model, seed, snapshot, test or source, with the fields lineage reads. */
export type ManifestNode = z.infer<typeof manifestNodeSchema>;
/** The part of modeling's `manifest.json` lineage reads. */
export type Manifest = z.infer<typeof manifestSchema>;

/**
 * Parses a `manifest.json` value (as written by `@dataflow/modeling`'s `manifestJson`).
 * Throws `LineageError` `BAD_SITE_INPUT` naming the first wrong field.
 *
 * @example
 * const manifest = parseManifest(JSON.parse(await readFile('target/manifest.json', 'utf8')));
 */
export function parseManifest(value: unknown, file = 'manifest.json'): Manifest {
  const parsed = manifestSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.join('.') || '(root)';
  throw new LineageError('BAD_SITE_INPUT', `${file}: ${where}: ${issue?.message ?? 'invalid'}`, {
    cause: parsed.error,
  });
}

/**
 * A node by unique id, from `nodes` or `sources`.
 *
 * @example
 * manifestNode(manifest, 'model.jaffle_shop.orders')?.compiled_code;
 */
export function manifestNode(manifest: Manifest, uniqueId: string): ManifestNode | undefined {
  return manifest.nodes[uniqueId] ?? manifest.sources[uniqueId];
}

/**
 * The relation a node reads or writes (schema, table), for models, seeds and sources.
 *
 * @example
 * relationOf(manifest.nodes['model.shop.orders']); // { schema: 'analytics', table: 'orders' }
 */
export function relationOf(node: ManifestNode): { schema: string; table: string } | undefined {
  if (node.resource_type === 'test' || node.schema === undefined) return undefined;
  const table = node.resource_type === 'source' ? (node.identifier ?? node.name) : (node.alias ?? node.name);
  return { schema: node.schema, table };
}
