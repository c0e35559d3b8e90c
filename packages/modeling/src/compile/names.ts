import { identifierBytes, MAX_IDENTIFIER_BYTES, qualify, quoteIdent, truncateBytes } from '@dataflow/pg';
import type { RelationInfo, SeedNode } from '../graph.js';
import type { ConfigLayer } from '../project-files.js';
import type { CompileContext } from './context.js';
import type { SeedSource } from './inputs.js';
import { materializationConfig } from './materialization-config.js';
import { isEnabled, mergeLayers } from './model-config.js';
import { nodeRelation } from './relation-names.js';
import { renderConfigLayers } from './yaml-jinja.js';

/** What a name that `ref()` can reach stands for. `uniqueId` is empty for external relations. */
export interface NameEntry {
  uniqueId: string;
  relation: RelationInfo;
  ephemeral?: boolean;
  file?: string;
}

/** The names `ref()` resolves: seeds, models, then relations loaded outside the project. */
export type NameTable = Map<string, NameEntry>;

/**
 * A relation's quoted form; three-part only when a `database` is stated. An identifier over 63
 * bytes (already a `NAME_TOO_LONG` diagnostic) is cut the way PostgreSQL would cut it, so the
 * compile still reports every other problem.
 *
 * @example
 * relationOf('analytics', 'orders').sql; // '"analytics"."orders"'
 */
export function relationOf(schema: string, identifier: string, database?: string): RelationInfo {
  const name = truncateBytes(identifier, MAX_IDENTIFIER_BYTES);
  return {
    ...(database !== undefined ? { database } : {}),
    schema,
    identifier,
    sql: database !== undefined ? `${quoteIdent(database)}.${qualify(schema, name)}` : qualify(schema, name),
  };
}

/**
 * Claims `name` for a node; a second claim is a `DUPLICATE_NAME` diagnostic and returns false
 * (the first owner keeps the name).
 */
export function claimName(ctx: CompileContext, names: NameTable, name: string, entry: NameEntry): boolean {
  const prior = names.get(name);
  if (prior) {
    ctx.diagnostics
      .at(name, entry.file)
      .error(
        'DUPLICATE_NAME',
        `two resources are named ${name}: ${prior.file ?? prior.uniqueId} and ${entry.file ?? entry.uniqueId}`,
      );
    return false;
  }
  names.set(name, entry);
  return true;
}

/**
 * Warns of a relation name PostgreSQL would truncate (`NAME_TOO_LONG`). A warning, as dbt compiles
 * such a node and dbt-postgres fails it only when it runs: the build fails that node alone (its
 * identifier is checked before it runs) and skips its descendants.
 */
export function checkIdentifierLength(ctx: CompileContext, name: string, what: string, file?: string): void {
  const bytes = identifierBytes(name);
  if (bytes > MAX_IDENTIFIER_BYTES)
    ctx.diagnostics
      .at(name, file)
      .warning(
        'NAME_TOO_LONG',
        `${what} name ${name} is ${bytes} bytes; PostgreSQL identifiers are at most ${MAX_IDENTIFIER_BYTES} (building it fails)`,
      );
}

/**
 * Seeds as graph nodes, claiming their names first (a model of the same name is the duplicate).
 *
 * @example
 * const seeds = seedNodes(ctx, inputs.seeds, names); // [{ uniqueId: 'seed.shop.raw_orders', ... }]
 */
export function seedNodes(ctx: CompileContext, seeds: SeedSource[], names: NameTable): SeedNode[] {
  const out: SeedNode[] = [];
  for (const seed of seeds) {
    const site = { packageName: seed.packageName, file: seed.file, node: seed.name };
    const cfg = mergeLayers(renderConfigLayers(ctx, seed.layers, site));
    if (!isEnabled(cfg.enabled)) continue;
    const packageName = seed.packageName ?? ctx.projectName;
    const fqn = [packageName, seed.name];
    const relation = nodeRelation(ctx, {
      name: seed.name,
      resourceType: 'seed',
      packageName: seed.packageName,
      fqn,
      file: seed.file,
      config: { materialized: 'seed', ...cfg },
    });
    const uniqueId = `seed.${packageName}.${seed.name}`;
    checkIdentifierLength(ctx, relation.identifier, 'seed', seed.file);
    if (!claimName(ctx, names, seed.name, { uniqueId, relation, file: seed.file })) continue;
    const node: SeedNode = {
      uniqueId,
      name: seed.name,
      resourceType: 'seed',
      packageName,
      file: seed.file,
      fqn,
      tags: (cfg.tags as string[]) ?? [],
      dependsOn: [],
      relation,
      seedPath: seed.absPath,
      ...(seed.description !== undefined ? { description: seed.description } : {}),
      ...(seed.columns ? { columns: seed.columns } : {}),
    };
    Object.assign(node, seedSettings(ctx, seed, cfg));
    out.push(node);
  }
  return out;
}

/** Relations loaded outside the project take the names no node claimed. */
export function addExternalRelations(
  names: NameTable,
  externals: ReadonlyArray<{ name: string; schema: string; identifier: string }>,
): void {
  for (const ext of externals)
    if (!names.has(ext.name))
      names.set(ext.name, { uniqueId: '', relation: relationOf(ext.schema, ext.identifier) });
}

/**
 * A seed's load settings from its config: `column_types`, `quote_columns`, `delimiter` (one
 * character), `meta`, `docs`, and what is applied after each load (`grants`, `persist_docs`); a
 * value of the wrong type is a `CONFIG_ERROR` and left out.
 *
 * @example
 * seedSettings(ctx, seed, { delimiter: ';', quote_columns: false }); // { delimiter: ';', quoteColumns: false }
 */
export function seedSettings(
  ctx: CompileContext,
  seed: Pick<SeedSource, 'name' | 'file'>,
  cfg: ConfigLayer,
): Pick<SeedNode, 'columnTypes' | 'quoteColumns' | 'delimiter' | 'meta' | 'docs' | 'grants' | 'persistDocs'> {
  const report = (message: string) =>
    ctx.diagnostics.at(seed.name, seed.file).error('CONFIG_ERROR', `seed ${seed.name}: ${message}`);
  const isDict = (v: unknown): v is Record<string, unknown> =>
    !!v && typeof v === 'object' && !Array.isArray(v);
  const out: ReturnType<typeof seedSettings> = {};
  const { column_types: types, quote_columns: quote, delimiter, meta, docs } = cfg;
  if (types !== undefined && types !== null) {
    if (isDict(types) && Object.values(types).every((t) => typeof t === 'string'))
      out.columnTypes = types as Record<string, string>;
    else report('column_types must map column names to type names');
  }
  if (quote !== undefined && quote !== null) {
    if (typeof quote === 'boolean') out.quoteColumns = quote;
    else report(`quote_columns must be true or false, not ${JSON.stringify(quote)}`);
  }
  if (delimiter !== undefined && delimiter !== null) {
    if (typeof delimiter === 'string' && [...delimiter].length === 1) out.delimiter = delimiter;
    else report(`delimiter must be one character, not ${JSON.stringify(delimiter)}`);
  }
  if (isDict(meta)) out.meta = meta;
  if (isDict(docs)) out.docs = docs;
  const { grants, persistDocs } = materializationConfig(
    { grants: cfg.grants, persist_docs: cfg.persist_docs },
    report,
  );
  if (grants) out.grants = grants;
  if (persistDocs) out.persistDocs = persistDocs;
  return out;
}
