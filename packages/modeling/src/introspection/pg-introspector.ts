import pg from 'pg';
import type { Introspector } from './render-with-answers.js';
import type { AnyAnswer, IntrospectionRequest, RelationsAnswer } from './requests.js';

// dbt's postgres__get_columns_in_relation, as parameters rather than interpolated names.
const COLUMNS_SQL = `select column_name, data_type, character_maximum_length, numeric_precision, numeric_scale
  from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position`;
const RELATION_SQL = `select case c.relkind when 'v' then 'view' when 'm' then 'materialized_view' else 'table' end as type
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = $1 and c.relname = $2 and c.relkind in ('r', 'p', 'v', 'm', 'f')`;
const RELATIONS_SQL = `select c.relname as identifier, case c.relkind when 'v' then 'view' when 'm' then 'materialized_view' else 'table' end as type
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = $1 and c.relkind in ('r', 'p', 'v', 'm', 'f') order by c.relname`;

const INT8 = 20;
const NUMERIC = 1700;
/** Dates, times and intervals: their ISO text, which the agate table casts to Python's values. */
const AS_TEXT = new Set([NUMERIC, 1082, 1083, 1114, 1184, 1186, 1266]);

/**
 * Values as plain data for the agate table to cast (`castFor`): bigint as a number when exact (else
 * its text), numeric, dates, times and intervals as PostgreSQL's text, the rest as node-postgres
 * parses them.
 */
const AGATE_TYPES = {
  getTypeParser(oid: number, format?: string): (text: string) => unknown {
    if (oid === INT8)
      return (text) => {
        const n = Number(text);
        return Number.isSafeInteger(n) ? n : text;
      };
    if (AS_TEXT.has(oid)) return (text) => text;
    return pg.types.getTypeParser(oid, (format ?? 'text') as 'text');
  },
};

async function typeNames(client: pg.ClientBase, oids: number[]): Promise<Map<number, string>> {
  if (oids.length === 0) return new Map();
  const { rows } = await client.query<{ oid: number; name: string }>(
    'select oid::int as oid, format_type(oid, null) as name from pg_type where oid = any($1::oid[])',
    [oids],
  );
  return new Map(rows.map((r) => [r.oid, r.name]));
}

async function answerOne(client: pg.ClientBase, request: IntrospectionRequest): Promise<AnyAnswer> {
  if (request.kind === 'query') {
    const results: pg.QueryResult | pg.QueryResult[] = await client.query({
      text: request.sql,
      rowMode: 'array',
      types: AGATE_TYPES,
    });
    // Several statements in one text (a `statement` block of DDL + DML): the last one answers, as in dbt.
    const result = (Array.isArray(results) ? results[results.length - 1] : results) as pg.QueryResult;
    const fields = result.fields ?? [];
    const types = await typeNames(client, [...new Set(fields.map((f) => f.dataTypeID))]);
    return {
      columns: fields.map((f) => ({ name: f.name, type: types.get(f.dataTypeID) ?? 'unknown' })),
      rows: (result.rows ?? []) as unknown[][],
      command: result.command,
      rowCount: result.rowCount,
    };
  }
  if (request.kind === 'relations') {
    const { rows } = await client.query(RELATIONS_SQL, [request.schema]);
    return rows.map((r) => ({
      schema: request.schema,
      identifier: r.identifier,
      type: r.type,
    })) as RelationsAnswer;
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
 * Answers introspection questions in order (a `run_query` may create what a later `get_relation`
 * looks for): on the given client (the node's own connection at build time, so statements share its
 * session), or on one pooled connection per batch. Errors propagate with PostgreSQL's SQLSTATE.
 *
 * @example
 * const { sql } = await renderWithAnswers(render, createPgIntrospector(pool));
 */
export function createPgIntrospector(db: pg.Pool | pg.ClientBase): Introspector {
  return async (requests) => {
    // A pool counts its idle clients; a client does not.
    const pooled = 'idleCount' in db;
    const client = pooled ? await (db as pg.Pool).connect() : (db as pg.ClientBase);
    try {
      const out: AnyAnswer[] = [];
      for (const r of requests) out.push(await answerOne(client, r));
      return out;
    } finally {
      if (pooled) (client as pg.PoolClient).release();
    }
  };
}
