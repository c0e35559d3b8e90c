import { type CompiledGraph, type CompileResult, compileProject, renderGraph } from '@dataflow/modeling';
import type { Logger } from '@dataflow/runlog';
import { modelingRelations } from './config/library-options.js';
import type { LoadedProject } from './config/load.js';
import { poolTimeouts } from './connection-options.js';
import { newPool } from './database.js';
import { CliError } from './errors.js';
import type { DayInterval } from './interval.js';

/**
 * Compiles the project: `dataflow.yml` sources become the raw relations models can reference, the
 * day (if any) sets the `ds` vars. Warnings are logged; error diagnostics are all logged and
 * become one CliError (exit 2) naming the first.
 *
 * @example
 * const graph = await compile(project, logger, { targetSchema: 'ci_123' }, { start: '2026-05-01', end: '2026-05-02' });
 */
export async function compile(
  project: LoadedProject,
  logger: Logger,
  options: { targetSchema?: string | undefined; redact?: (secret: string) => void },
  day: DayInterval | undefined,
): Promise<CompiledGraph> {
  return (await compileForBuild(project, logger, options, day)).graph;
}

/**
 * {@link compile}, also returning the renderer `build` uses to render each Jinja model again just
 * before it runs (`execute` true), as dbt does.
 *
 * @example
 * const { graph, renderer } = await compileForBuild(project, logger, {}, undefined);
 */
export async function compileForBuild(
  project: LoadedProject,
  logger: Logger,
  options: { targetSchema?: string | undefined; redact?: (secret: string) => void },
  day: DayInterval | undefined,
): Promise<Pick<CompileResult, 'graph' | 'renderer'>> {
  const { config, dir, tsProject } = project;
  const vars = {
    ...(config.vars ?? {}),
    ...(day ? { ds: day.start, data_interval_start: day.start, data_interval_end: day.end } : {}),
  };
  const { graph, diagnostics, renderer } = await compileProject({
    dir,
    // dataflow.config.ts: the TypeScript models (relative seed files resolve against `dir`).
    ...(tsProject ? { project: tsProject } : {}),
    schema: options.targetSchema ?? config.warehouse.schema,
    // `target.database`: dbt_utils' information_schema macros render `<database>.information_schema`.
    target: { database: targetDatabase(config.warehouse.url) },
    vars,
    ...modelingRelations(config, config.warehouse.schema),
    // env_var('DBT_ENV_SECRET_*') values are secrets (dbt's rule): redacted from every output.
    ...(options.redact ? { redact: options.redact } : {}),
  });
  for (const d of diagnostics) {
    const fields = { code: d.code, file: d.file, line: d.line, node: d.node };
    if (d.severity === 'error') logger.error(fields, d.message);
    else logger.warn(fields, d.message);
  }
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const first = errors[0];
  if (first) {
    const where = first.file ? `${first.file}${first.line ? `:${first.line}` : ''}: ` : '';
    throw new CliError(
      'CONFIG_INVALID',
      `compile failed with ${errors.length} error(s); first: ${where}${first.code}: ${first.message}`,
    );
  }
  return { graph, renderer };
}

/** The database of the warehouse URL (`postgres` for the embedded default, as its URL names). */
export function targetDatabase(url: string | undefined): string {
  if (!url) return 'postgres';
  try {
    const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
    return name || 'postgres';
  } catch {
    return 'postgres';
  }
}

/** How long `dataflow compile` waits for the warehouse before compiling offline. */
const PROBE_TIMEOUT_MS = 5000;

/**
 * `dataflow compile` as `dbt compile`: with the project's warehouse configured and reachable
 * (within a few seconds), each Jinja model and pending test is rendered again with `execute` true
 * against it (`dbt_utils.star(ref('x'))` lists x's columns); otherwise the offline graph is kept
 * and one log line says why. Render errors are logged per node and returned.
 *
 * @example
 * const { graph, problems } = await renderLive(project, logger, await compileForBuild(project, logger, {}, undefined), signal);
 */
export async function renderLive(
  project: LoadedProject,
  logger: Logger,
  compiled: Pick<CompileResult, 'graph' | 'renderer'>,
  signal: AbortSignal,
): Promise<{ graph: CompiledGraph; problems: number }> {
  const { warehouse } = project.config;
  if (!warehouse.url) {
    logger.info({}, 'no warehouse connection configured: compiled offline (execute false)');
    return { graph: compiled.graph, problems: 0 };
  }
  const timeouts = poolTimeouts(warehouse);
  const pool = newPool(warehouse.url, 2, logger, {
    ...timeouts,
    connectTimeoutMs: Math.min(timeouts.connectTimeoutMs ?? PROBE_TIMEOUT_MS, PROBE_TIMEOUT_MS),
  });
  try {
    try {
      await pool.query('select 1');
    } catch (error) {
      logger.info(
        { reason: (error as Error).message },
        'warehouse unreachable: compiled offline (execute false)',
      );
      return { graph: compiled.graph, problems: 0 };
    }
    const live = await renderGraph(compiled.graph, compiled.renderer, pool, { signal });
    for (const p of live.problems) logger.error({ node: p.node, file: p.file }, p.message);
    logger.info({ rendered: live.rendered }, 'rendered against the warehouse (execute true)');
    return { graph: live.graph, problems: live.problems.length };
  } finally {
    await pool.end().catch(() => undefined);
  }
}
