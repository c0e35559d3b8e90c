import type { SourceNode } from '../graph.js';
import { resolveSourceLocation, type YmlSourceTable } from '../schema-yml.js';
import type { CompileContext } from './context.js';
import { relationOf } from './names.js';
import { renderYamlValue } from './yaml-jinja.js';

/**
 * Where the caller says sources live: `{ raw: { orders: { schema, identifier } } }`, optionally with
 * a `freshness` block and `loadedAtField` (used when schema.yml states none).
 */
export type GivenSources = Record<
  string,
  Record<
    string,
    { schema: string; identifier: string; freshness?: Record<string, unknown>; loadedAtField?: string }
  >
>;

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
    const givenHere = givenFor(sourceName, table);
    const location = resolveSourceLocation(d, givenHere);
    const freshness = d.freshness ?? givenHere?.freshness;
    const loadedAtField = d.loadedAtField ?? givenHere?.loadedAtField;
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
      ...(freshness ? { freshness } : {}),
      ...(loadedAtField ? { loadedAtField } : {}),
    });
  };
  for (const s of declared) add(renderSourceYaml(ctx, s));
  for (const [sourceName, tables] of Object.entries(given))
    for (const table of Object.keys(tables)) add({ sourceName, name: table });
  return out;
}

const RENDERED_SOURCE_FIELDS = [
  'sourceName',
  'name',
  'database',
  'schema',
  'identifier',
  'loadedAtField',
  'freshness',
] as const;

/**
 * A schema.yml source table with Jinja in its source and table names, `database`, `schema`,
 * `identifier`, `loaded_at_field` and `freshness` rendered as dbt renders them
 * (`{{ var('raw_schema', 'raw') }}`, `{{ env_var('DB') }}`, `{{ target.schema }}`); a location
 * that renders to nothing counts as unstated.
 *
 * @example
 * renderSourceYaml(ctx, { sourceName: 'raw', name: 'orders', schema: "{{ var('raw_schema') }}", file, columns: {}, tests: [] }).schema;
 */
export function renderSourceYaml<T extends SourceDeclaration>(ctx: CompileContext, d: T): T {
  let out: T | undefined;
  for (const field of RENDERED_SOURCE_FIELDS) {
    const value = d[field];
    if (value === undefined) continue;
    const rendered = renderYamlValue(ctx, value, {
      packageName: undefined,
      file: d.file ?? 'sources',
      node: `${d.sourceName}.${d.name}`,
    });
    if (rendered === value) continue;
    out ??= { ...d };
    if ((rendered === '' || rendered === null) && field !== 'name' && field !== 'sourceName')
      delete out[field];
    else
      (out as Record<string, unknown>)[field] =
        typeof rendered === 'string' || field === 'freshness' ? rendered : String(rendered);
  }
  return out ?? d;
}
