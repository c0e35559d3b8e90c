/**
 * What a template asks the warehouse while it renders with `execute` true: `run_query` /
 * `statement` (a query), `adapter.get_columns_in_relation` (columns), `adapter.get_relation` /
 * `load_relation` (a relation's existence and type), `adapter.list_relations_without_caching`
 * (the relations of a schema).
 */
export type IntrospectionRequest =
  | { kind: 'query'; sql: string }
  | { kind: 'columns'; schema: string; identifier: string }
  | { kind: 'relation'; schema: string; identifier: string }
  | { kind: 'relations'; schema: string };

/** A query result as plain data; the Jinja layer shows it as dbt's agate table. */
export interface QueryResult {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  /** The command tag (`SELECT`, `INSERT`…) and its row count: dbt's adapter response. */
  command?: string;
  rowCount?: number | null;
}

/** A column as `get_columns_in_relation` reports it (dbt's `Column`: name, data_type, size parts). */
export interface RelationColumn {
  name: string;
  dataType: string;
  charMaxLength: number | null;
  numericPrecision: number | null;
  numericScale: number | null;
}

/** What a relation request answers: its type, or null when there is no such relation. */
export type RelationAnswer = {
  schema: string;
  identifier: string;
  type: 'table' | 'view' | 'materialized_view';
} | null;

/** What a relations request answers: every table, view and materialized view of the schema. */
export type RelationsAnswer = NonNullable<RelationAnswer>[];

/** Any answer. */
export type AnyAnswer = QueryResult | RelationColumn[] | RelationAnswer | RelationsAnswer;

/** The answer type of each request kind. */
export type IntrospectionAnswer<R extends IntrospectionRequest> = R extends { kind: 'query' }
  ? QueryResult
  : R extends { kind: 'columns' }
    ? RelationColumn[]
    : R extends { kind: 'relations' }
      ? RelationsAnswer
      : RelationAnswer;

/** A stable key per request: the same question asked twice in a render is answered once. */
export function requestKey(request: IntrospectionRequest): string {
  if (request.kind === 'query') return `query\u0000${request.sql}`;
  if (request.kind === 'relations') return `relations\u0000${request.schema}`;
  return `${request.kind}\u0000${request.schema}\u0000${request.identifier}`;
}
