import type { SourceNode } from '../graph.js';
import { resolveSourceLocation, type YmlSourceTable } from '../schema-yml.js';
import type { CompileContext } from './context.js';
import { relationOf } from './names.js';

/** Where the caller says sources live: `{ raw: { orders: { schema, identifier } } }`. */
export type GivenSources = Record<string, Record<string, { schema: string; identifier: string }>>;

/** Source nodes by `sourceName.tableName`. */
export type SourceTable = Map<string, SourceNode>;

type SourceDeclaration = Omit<YmlSourceTable, 'file' | 'tests' | 'columns'> & {
  file?: string;
  columns?: YmlSourceTable['columns'];
};

/**
 * Source nodes: schema.yml tables take the caller's location for whatever the yml leaves
 * unstated; tables only the caller knows are added as they are. The first declaration wins.
 *
 * @example
 * sourceNodes(ctx, [], { raw: { orders: { schema: 'public', identifier: 'raw_orders' } } })
 *   .get('raw.orders')?.relation.sql; // '"public"."raw_orders"'
 */
export function sourceNodes(
  ctx: CompileContext,
  declared: YmlSourceTable[],
  given: GivenSources = {},
): SourceTable {
  const out: SourceTable = new Map();
  const givenFor = (sourceName: string, table: string) =>
    Object.hasOwn(given, sourceName) && Object.hasOwn(given[sourceName] ?? {}, table)
      ? given[sourceName]?.[table]
      : undefined;
  const add = (d: SourceDeclaration) => {
    const { sourceName, name: table, file } = d;
    const key = `${sourceName}.${table}`;
    if (out.has(key)) return;
    const location = resolveSourceLocation(d, givenFor(sourceName, table));
    out.set(key, {
      uniqueId: `source.${ctx.projectName}.${sourceName}.${table}`,
      name: table,
      resourceType: 'source',
      packageName: ctx.projectName,
      ...(file ? { file } : {}),
      fqn: [ctx.projectName, sourceName, table],
      tags: [],
      dependsOn: [],
      ...(d.description ? { description: d.description } : {}),
      sourceName,
      tableName: table,
      relation: relationOf(location.schema, location.identifier, location.database),
      ...(d.columns ? { columns: d.columns } : {}),
      ...(d.freshness ? { freshness: d.freshness } : {}),
      ...(d.loadedAtField ? { loadedAtField: d.loadedAtField } : {}),
    });
  };
  for (const s of declared) add(s);
  for (const [sourceName, tables] of Object.entries(given))
    for (const table of Object.keys(tables)) add({ sourceName, name: table });
  return out;
}
