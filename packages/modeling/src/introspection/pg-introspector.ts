import type pg from 'pg';
import type { Introspector } from './render-with-answers.js';
import type { IntrospectionRequest, QueryResult, RelationAnswer, RelationColumn } from './requests.js';

// dbt's postgres__get_columns_in_relation, as parameters rather than interpolated names.
const COLUMNS_SQL = `select column_name, data_type, character_maximum_length, numeric_precision, numeric_scale
  from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position`;
const RELATION_SQL = `select case c.relkind when 'v' then 'view' when 'm' then 'materialized_view' else 'table' end as type
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = $1 and c.relname = $2 and c.relkind in ('r', 'p', 'v', 'm', 'f')`;

async function typeNames(client: pg.PoolClient, oids: number[]): Promise<Map<number, string>> {
  if (oids.length === 0) return new Map();
  const { rows } = await client.query<{ oid: number; name: string }>(
    'select oid::int as oid, format_type(oid, null) as name from pg_type where oid = any($1::oid[])',
    [oids],
  );
  return new Map(rows.map((r) => [r.oid, r.name]));
}

async function answerOne(
  client: pg.PoolClient,
  request: IntrospectionRequest,
): Promise<QueryResult | RelationColumn[] | RelationAnswer> {
  if (request.kind === 'query') {
    const result = await client.query({ text: request.sql, rowMode: 'array' });
    const fields = result.fields ?? [];
    const types = await typeNames(client, [...new Set(fields.map((f) => f.dataTypeID))]);
    return {
      columns: fields.map((f) => ({ name: f.name, type: types.get(f.dataTypeID) ?? 'unknown' })),
      rows: (result.rows ?? []) as unknown[][],
    };
  }
  if (request.kind === 'columns') {
    const { rows } = await client.query(COLUMNS_SQL, [request.schema, request.identifier]);
    return rows.map((r) => ({
      name: r.column_name,
      dataType: r.data_type,
      charMaxLength: r.character_maximum_length,
      numericPrecision: r.numeric_precision,
      numericScale: r.numeric_scale,
    }));
  }
  const { rows } = await client.query(RELATION_SQL, [request.schema, request.identifier]);
  return rows[0] ? { schema: request.schema, identifier: request.identifier, type: rows[0].type } : null;
}

/**
 * Answers introspection questions on one pooled connection, in order (a `run_query` may create
 * what a later `get_relation` looks for). Errors propagate with PostgreSQL's SQLSTATE.
 *
 * @example
 * const { sql } = await renderWithAnswers(render, createPgIntrospector(pool));
 */
export function createPgIntrospector(pool: pg.Pool): Introspector {
  return async (requests) => {
    const client = await pool.connect();
    try {
      const out = [];
      for (const r of requests) out.push(await answerOne(client, r));
      return out;
    } finally {
      client.release();
    }
  };
}
