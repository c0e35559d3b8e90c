import { quoteIdent } from '@dataflow/pg';
import type { SqlQuery } from './statuses.js';

/**
 * Key space of the run liveness locks: `pg_advisory_lock(0x64660002, hashtext(run_id))`, two-int
 * form, so in `pg_locks` it shows as `locktype = 'advisory'`, `classid = 1684406274`,
 * `objid = hashtext(run_id)` (as an unsigned oid) and `objsubid = 2`. Warehouse locks use the
 * one-bigint form (`objsubid = 1`) and the migration lock is transaction-level: no overlap.
 */
export const RUN_LOCK_NAMESPACE = 0x64660002;

const UINT32 = 4294967295;

/** SQL true while some session of this database holds the liveness lock of the run id expression. */
function lockHeld(runIdSql: string, namespaceParam: string): string {
  return `exists (select 1 from pg_locks l
    where l.locktype = 'advisory' and l.granted and l.objsubid = 2
      and l.database = (select oid from pg_database where datname = current_database())
      and l.classid::bigint = ${namespaceParam}::bigint
      and l.objid::bigint = (hashtext(${runIdSql})::bigint & ${UINT32}))`;
}

/**
 * Takes the run's liveness lock on the session that keeps it for the whole run. Never waits: a
 * hash collision with a live run (false) only makes that run look alive, which is the safe side.
 *
 * @example
 * await client.query(runLockQuery('20260501T000000Z-ab12cd34'));
 */
export function runLockQuery(runId: string): SqlQuery {
  return {
    text: 'select pg_try_advisory_lock($1, hashtext($2)) as locked',
    values: [RUN_LOCK_NAMESPACE, runId],
  };
}

/** Releases the run's liveness lock (the end of the session releases it too). */
export function runUnlockQuery(runId: string): SqlQuery {
  return {
    text: 'select pg_advisory_unlock($1, hashtext($2)) as unlocked',
    values: [RUN_LOCK_NAMESPACE, runId],
  };
}

/** Is the run's liveness lock held now? One row `{ alive }`. */
export function runAliveQuery(runId: string): SqlQuery {
  return { text: `select ${lockHeld('$2::text', '$1')} as alive`, values: [RUN_LOCK_NAMESPACE, runId] };
}

/** What is stored on a run found dead. */
export const ABANDONED_MESSAGE =
  'the process of this run ended without recording its end (killed, or its database connection was lost)';

/**
 * Marks every `running` run whose liveness lock nobody holds as `abandoned` (and its running jobs),
 * returning their `run_id`s. A run takes its lock before it inserts its row, so a committed
 * `running` row without a held lock belongs to a dead process. Pure.
 *
 * @example
 * const { rows } = await pool.query(abandonDeadRunsQuery('dataflow'));
 */
export function abandonDeadRunsQuery(schema: string): SqlQuery {
  const s = quoteIdent(schema);
  return {
    text: `with dead as (
  update ${s}.run_history r set status = 'abandoned', ended_at = clock_timestamp(),
    duration_ms = (extract(epoch from clock_timestamp() - r.started_at) * 1000)::bigint,
    error_class = coalesce(r.error_class, 'RunAbandoned'), error_code = coalesce(r.error_code, 'ABANDONED'),
    error_message = coalesce(r.error_message, $2)
  where r.status = 'running' and not ${lockHeld('r.run_id', '$1')}
  returning r.run_id
), jobs as (
  update ${s}.job_status j set status = 'abandoned', ended_at = clock_timestamp()
  from dead where j.run_id = dead.run_id and j.status = 'running'
  returning j.job_id
)
select run_id from dead order by run_id`,
    values: [RUN_LOCK_NAMESPACE, ABANDONED_MESSAGE],
  };
}

/**
 * Is the run whose token (`runToken(runId)` of `@dataflow/pg`) is given known to be dead: it is in
 * the run log and nobody holds its liveness lock? An unknown token is not dead (it may belong to a
 * run recorded elsewhere). One row `{ dead }`. Pure.
 *
 * @example
 * const { rows } = await pool.query(runTokenDeadQuery('dataflow', 'a1b2c3d4e5'));
 */
export function runTokenDeadQuery(schema: string, token: string): SqlQuery {
  return {
    text: `select count(*) > 0 and not bool_or(${lockHeld('r.run_id', '$1')}) as dead
from ${quoteIdent(schema)}.run_history r where left(md5(r.run_id), 10) = $2`,
    values: [RUN_LOCK_NAMESPACE, token],
  };
}
