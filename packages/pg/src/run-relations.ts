import { createHash } from 'node:crypto';
import type pg from 'pg';
import { qualify, shortName } from './identifiers.js';

/**
 * Naming convention of relations a run creates and drops again (staging tables, temp model
 * relations, swap backups): `<prefix>__df_<kind>_<runtoken>[_<suffix>]`.
 * - `prefix`: the relation it belongs to (shortened with a hash when the name would pass 63 bytes);
 * - `kind`: 1–8 lower-case letters (`stg` load staging, `tmp` model temp, `bak` swap backup, …);
 * - `runtoken`: {@link runToken} of the run id, 10 lower-case hex digits;
 * - `suffix`: optional, letters, digits and `_` (e.g. a file number).
 * A later run drops such a relation only when the run of its token is known to be dead.
 */
export const RUN_RELATION_PATTERN = /^(.*)__df_([a-z]{1,8})_([0-9a-f]{10})(?:_([A-Za-z0-9_]+))?$/;

const KIND = /^[a-z]{1,8}$/;
const SUFFIX = /^[A-Za-z0-9_]+$/;

/**
 * The 10-hex-digit token a run id is known by in relation names: the start of its MD5, so SQL can
 * compute it too (`left(md5(run_id), 10)`).
 *
 * @example
 * runToken('20260501T000000Z-ab12cd34'); // 10 hex digits
 */
export function runToken(runId: string): string {
  return createHash('md5').update(runId, 'utf8').digest('hex').slice(0, 10);
}

/**
 * The name of a relation the run `runId` creates for `prefix`, following {@link RUN_RELATION_PATTERN}
 * and never longer than 63 bytes.
 *
 * @example
 * runRelationName('raw_orders', 'stg', runId, '0'); // 'raw_orders__df_stg_<token>_0'
 */
export function runRelationName(prefix: string, kind: string, runId: string, suffix?: string): string {
  if (!KIND.test(kind))
    throw new TypeError(`run relation kind must be 1-8 lower-case letters, got ${JSON.stringify(kind)}`);
  if (suffix !== undefined && !SUFFIX.test(suffix))
    throw new TypeError(`run relation suffix must be letters, digits or _, got ${JSON.stringify(suffix)}`);
  return shortName(prefix, `__df_${kind}_${runToken(runId)}${suffix === undefined ? '' : `_${suffix}`}`);
}

/** What a run relation name says. */
export interface RunRelationName {
  prefix: string;
  kind: string;
  token: string;
  suffix: string | undefined;
}

/**
 * Reads a name made by {@link runRelationName}; `undefined` for any other name. Pure.
 *
 * @example
 * parseRunRelationName('raw_orders__df_stg_0123456789_0'); // { prefix: 'raw_orders', kind: 'stg', token: '0123456789', suffix: '0' }
 */
export function parseRunRelationName(name: string): RunRelationName | undefined {
  const m = RUN_RELATION_PATTERN.exec(name);
  if (!m) return undefined;
  return { prefix: m[1] ?? '', kind: m[2] ?? '', token: m[3] ?? '', suffix: m[4] };
}

/** Options of {@link sweepDeadRunRelations}. */
export interface SweepOptions {
  /** Is the run of this token known to be dead? Unknown runs must answer false. */
  isDead(token: string): boolean | Promise<boolean>;
  /** Only these schemas. Default: every schema but PostgreSQL's own. */
  schemas?: readonly string[];
}

/** What a sweep did: relations dropped, kept (their run lives or is unknown), and drops that failed. */
export interface SweepResult {
  dropped: string[];
  kept: string[];
  failed: Array<{ relation: string; error: Error }>;
}

const DROP_ORDER: Record<string, { order: number; sql: string }> = {
  v: { order: 0, sql: 'drop view if exists' },
  m: { order: 1, sql: 'drop materialized view if exists' },
  r: { order: 2, sql: 'drop table if exists' },
  p: { order: 2, sql: 'drop table if exists' },
};

/**
 * Drops the relations left behind by dead runs (killed mid-load or mid-build), named by
 * {@link runRelationName}. Views first, then tables, one statement each, never CASCADE: a relation
 * something else depends on is reported in `failed`, not taken down with its dependants.
 *
 * @example
 * const { dropped } = await sweepDeadRunRelations(pool, { isDead: (token) => runLog.isRunTokenDead(token) });
 */
export async function sweepDeadRunRelations(pool: pg.Pool, options: SweepOptions): Promise<SweepResult> {
  const { rows } = await pool.query<{ schema: string; name: string; kind: string }>(
    `select n.nspname as schema, c.relname as name, c.relkind::text as kind
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p', 'v', 'm') and c.relname ~ '__df_[a-z]{1,8}_[0-9a-f]{10}'
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
  and ($1::text[] is null or n.nspname = any($1::text[]))`,
    [options.schemas ? [...options.schemas] : null],
  );
  const verdicts = new Map<string, boolean>();
  const result: SweepResult = { dropped: [], kept: [], failed: [] };
  const doomed: Array<{ relation: string; drop: { order: number; sql: string } }> = [];
  for (const r of rows) {
    const parsed = parseRunRelationName(r.name);
    const drop = DROP_ORDER[r.kind];
    const relation = qualify(r.schema, r.name);
    if (!parsed || !drop) continue;
    if (!verdicts.has(parsed.token)) verdicts.set(parsed.token, await options.isDead(parsed.token));
    if (verdicts.get(parsed.token)) doomed.push({ relation, drop });
    else result.kept.push(relation);
  }
  doomed.sort((a, b) => a.drop.order - b.drop.order);
  for (const { relation, drop } of doomed) {
    try {
      await pool.query(`${drop.sql} ${relation}`);
      result.dropped.push(relation);
    } catch (error) {
      result.failed.push({ relation, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }
  return result;
}
