/**
 * What a template asks the warehouse while it renders with `execute` true: `run_query` /
 * `statement` (a query), `adapter.get_columns_in_relation` (columns), `adapter.get_relation` /
 * `load_relation` (a relation's existence and type).
 */
export type IntrospectionRequest =
  | { kind: 'query'; sql: string }
  | { kind: 'columns'; schema: string; identifier: string }
  | { kind: 'relation'; schema: string; identifier: string };

/** A query result as plain data; the Jinja layer shows it as dbt's agate table. */
export interface QueryResult {
  columns: { name: string; type: string }[];
  rows: unknown[][];
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

/** The answer type of each request kind. */
export type IntrospectionAnswer<R extends IntrospectionRequest> = R extends { kind: 'query' }
  ? QueryResult
  : R extends { kind: 'columns' }
    ? RelationColumn[]
    : RelationAnswer;

/** A stable key per request: the same question asked twice in a render is answered once. */
export function requestKey(request: IntrospectionRequest): string {
  return request.kind === 'query'
    ? `query\u0000${request.sql}`
    : `${request.kind}\u0000${request.schema}\u0000${request.identifier}`;
}
