import { createPool } from '@dataflow/pg';
import { createRunLog, type Logger, type Redactor, type RunLog } from '@dataflow/runlog';
import type pg from 'pg';
import type { LoadedProject } from './config/load.js';
import { acquireEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded-postgres.js';
import { poolTimeouts } from './pool-timeouts.js';

/** The connections of one invocation: the warehouse pool, the run log's pool when separate, the embedded server. */
export interface Database {
  pool: pg.Pool;
  /** The warehouse's connection string, the embedded server's when none is configured (secret: for
   * cancelling server work and lineage's host, port and database only). */
  url: string;
  /** `metadata.url`'s pool, when the run log lives in another database. */
  metaPool?: pg.Pool;
  embedded?: EmbeddedPostgresHandle;
  /** Ends the pools, then releases the embedded server; never throws (failures are logged). */
  close(): Promise<void>;
}

/**
 * A pool with the project's timeouts (connect, statement, lock) whose idle clients losing their
 * connection do not crash the process (the next query fails instead).
 */
export function newPool(
  url: string,
  max: number,
  logger: Logger,
  timeouts: ReturnType<typeof poolTimeouts>,
): pg.Pool {
  return createPool({
    connectionString: url,
    max,
    ...timeouts,
    onIdleError: (error) => logger.warn({ err: { message: error.message } }, 'idle PostgreSQL client error'),
  });
}

/**
 * Connects to the project's warehouse (`warehouse.url`, else the embedded PostgreSQL, started or
 * shared) and, when `metadata.url` is set, to the run log's database. With `runLogOnly` only the
 * database holding the run log is opened, on a small pool.
 */
export async function openDatabase(
  project: LoadedProject,
  logger: Logger,
  signal: AbortSignal,
  options: { runLogOnly?: boolean } = {},
): Promise<Database> {
  const { warehouse, metadata } = project.config;
  let embedded: EmbeddedPostgresHandle | undefined;
  let url = options.runLogOnly ? (metadata.url ?? warehouse.url) : warehouse.url;
  if (!url) {
    embedded = await acquireEmbeddedPostgres(project.dir, { log: logger, signal });
    url = embedded.url;
    logger.debug({ started: embedded.started }, 'using the embedded PostgreSQL');
  }
  const timeouts = poolTimeouts(warehouse);
  const metaPool =
    !options.runLogOnly && metadata.url ? newPool(metadata.url, 3, logger, timeouts) : undefined;
  // A recorded run's log keeps one connection for its liveness lock: one more than the work needs.
  const size = options.runLogOnly ? 2 : warehouse.pool_size + (metaPool ? 0 : 1);
  const pool = newPool(url, size, logger, timeouts);
  const close = async () => {
    await pool.end().catch(() => undefined);
    await metaPool?.end().catch(() => undefined);
    await embedded?.release().catch((e: unknown) => {
      logger.warn({ err: { message: (e as Error).message } }, 'could not stop the embedded PostgreSQL');
    });
  };
  return { pool, url, ...(metaPool ? { metaPool } : {}), ...(embedded ? { embedded } : {}), close };
}

/**
 * The run log of a project, migrated, for commands that only read it (`runs`). `close` releases
 * the connection and the embedded server.
 *
 * @example
 * const { runLog, close } = await openRunLog(project, logger, signal, redactor); try { await runLog.listRuns({ limit: 5 }); } finally { await close(); }
 */
export async function openRunLog(
  project: LoadedProject,
  logger: Logger,
  signal: AbortSignal,
  redactor: Redactor,
): Promise<{ runLog: RunLog; close: () => Promise<void> }> {
  const db = await openDatabase(project, logger, signal, { runLogOnly: true });
  try {
    const runLog = createRunLog(db.pool, { schema: project.config.metadata.schema, redactor });
    await runLog.migrate();
    return { runLog, close: db.close };
  } catch (error) {
    await db.close();
    throw error;
  }
}
