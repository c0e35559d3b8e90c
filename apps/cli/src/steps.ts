import { performance } from 'node:perf_hooks';
import {
  apiSourceOptions,
  type ColumnType,
  type IngestApiOptions,
  ingestApi,
  ingestCsv,
  type ObjectStore,
  openLake,
  type PartitionManifest,
  postgresType,
} from '@dataflow/ingest';
import { build, compileProject } from '@dataflow/modeling';
import type { Logger } from '@dataflow/runlog';
import { loadPartition } from '@dataflow/warehouse';
import type {
  ApiSourceConfig,
  CsvSourceConfig,
  LoadedProject,
  ProjectConfig,
  SourceConfig,
} from './config.js';
import { didYouMean } from './config.js';
import { CliError } from './errors.js';
import type { DayInterval } from './interval.js';
import type { Session } from './session.js';

/** The sources a command works on: all, or those named by `--source` (unknown names are warned about). */
export function selectSources(
  config: ProjectConfig,
  requested: readonly string[],
  warn: (msg: string) => void,
): Array<[string, SourceConfig]> {
  const all = Object.entries(config.sources);
  if (requested.length === 0) return all;
  const known = new Set(Object.keys(config.sources));
  for (const name of requested) {
    if (known.has(name)) continue;
    const hint = didYouMean(name, known);
    warn(`--source ${name}: no such source in dataflow.yml${hint ? ` (did you mean '${hint}'?)` : ''}`);
  }
  return all.filter(([name]) => requested.includes(name));
}

/** The lake the project writes to: `lake.url`, or `file://<project>/.dataflow/lake/raw`. */
export function lakeFor(session: Session): ObjectStore {
  const { config, dir } = session.project;
  const lake = config.lake;
  const url = lake.url ?? `file://${dir}/.dataflow/lake/raw`;
  const credentials =
    lake.access_key_id && lake.secret_access_key
      ? { accessKeyId: lake.access_key_id, secretAccessKey: lake.secret_access_key }
      : undefined;
  const store = openLake(url, {
    cwd: dir,
    env: session.invocation.env as NodeJS.ProcessEnv,
    ...(lake.endpoint ? { endpoint: lake.endpoint } : {}),
    ...(lake.region ? { region: lake.region } : {}),
    ...(credentials ? { credentials } : {}),
    ...(lake.checksum ? { checksum: lake.checksum } : {}),
  });
  session.closers.push(() => store.close?.());
  return store;
}

/** S3 settings for `s3://` CSV locations: the lake's endpoint and credentials. */
function s3Options(config: ProjectConfig) {
  const lake = config.lake;
  return {
    ...(lake.endpoint ? { endpoint: lake.endpoint } : {}),
    ...(lake.region ? { region: lake.region } : {}),
    ...(lake.access_key_id && lake.secret_access_key
      ? { credentials: { accessKeyId: lake.access_key_id, secretAccessKey: lake.secret_access_key } }
      : {}),
    ...(lake.checksum ? { checksum: lake.checksum } : {}),
  };
}

const tableOf = (name: string, source: SourceConfig) => source.table ?? `raw_${name}`;

/** Runs one step as a job_status row; failures are recorded with their error and rethrown. */
async function job<T>(
  session: Session,
  spec: { step: 'ingest' | 'load'; target: string; partition: string },
  fn: () => Promise<{
    value: T;
    rowsIn?: number;
    rowsOut?: number;
    rowsRejected?: number;
    status?: 'skipped';
  }>,
): Promise<T> {
  const jobId = await session.runLog.startJob({ runId: session.runId, ...spec });
  const log = session.logger.child({ step: spec.step, source: spec.target, partition: spec.partition });
  const started = performance.now();
  log.info({}, `${spec.step} ${spec.target} ${spec.partition} started`);
  try {
    const out = await fn();
    await session.runLog.finishJob(jobId, {
      status: out.status ?? 'success',
      rowsIn: out.rowsIn,
      rowsOut: out.rowsOut,
      rowsRejected: out.rowsRejected,
    });
    log.info(
      {
        rows_in: out.rowsIn,
        rows_out: out.rowsOut,
        rows_rejected: out.rowsRejected,
        duration_ms: Math.round(performance.now() - started),
      },
      `${spec.step} ${spec.target} ${spec.partition} ${out.status ?? 'done'}`,
    );
    return out.value;
  } catch (error) {
    const aborted = session.invocation.signal.aborted;
    // The step's error is the one to propagate; a run-log write failing on top of it is logged.
    await session.runLog
      .finishJob(jobId, { status: aborted ? 'aborted' : 'failed', error })
      .catch((recordError: unknown) => {
        log.warn({ err: { message: (recordError as Error).message } }, 'could not record the failed job');
      });
    log.error(
      { err: { code: (error as { code?: unknown }).code, message: (error as Error).message } },
      `${spec.step} ${spec.target} failed`,
    );
    throw error;
  }
}

/** Lands one source's partition in the lake. */
export async function ingestSource(
  session: Session,
  store: ObjectStore,
  name: string,
  source: SourceConfig,
  day: DayInterval,
): Promise<PartitionManifest> {
  const { signal } = session.invocation;
  const logger = session.logger.child({ step: 'ingest' });
  return job(session, { step: 'ingest', target: name, partition: day.start }, async () => {
    const manifest =
      source.type === 'csv'
        ? await ingestCsv({
            source: name,
            location: source.location,
            interval: day,
            store,
            runId: session.runId,
            signal,
            logger,
            cwd: session.project.dir,
            options: csvOptions(source, session.project.config),
          })
        : await ingestApi(apiArgs(session, store, name, source, day, logger));
    const rejected = manifest.rejects?.rows ?? 0;
    session.totals.rowsIn += manifest.rows;
    await session.runLog.recordRowCount({
      runId: session.runId,
      dataset: name,
      partition: day.start,
      stage: 'ingested',
      rows: manifest.rows,
    });
    if (rejected > 0) {
      session.totals.rowsRejected += rejected;
      await session.runLog.recordRowCount({
        runId: session.runId,
        dataset: name,
        partition: day.start,
        stage: 'rejected_at_ingest',
        rows: rejected,
      });
    }
    return {
      value: manifest,
      rowsIn: manifest.rows + rejected,
      rowsOut: manifest.rows,
      rowsRejected: rejected,
    };
  });
}

function csvOptions(source: CsvSourceConfig, config: ProjectConfig) {
  return {
    ...(source.gzip !== undefined ? { gzip: source.gzip } : {}),
    ...(source.part_bytes ? { partBytes: source.part_bytes } : {}),
    ...(source.delimiter ? { delimiter: source.delimiter } : {}),
    ...(source.on_bad_row ? { onBadRow: source.on_bad_row } : {}),
    ...(source.max_rejects !== undefined ? { maxRejects: source.max_rejects } : {}),
    // Declared names are checked by ingest (INVALID_OPTIONS, exit 2) against its type list.
    ...(source.columns ? { columns: source.columns as Record<string, ColumnType> } : {}),
    ...(source.headers ? { headers: source.headers } : {}),
    ...(source.timeout_ms ? { timeoutMs: source.timeout_ms } : {}),
    ...(/^s3:\/\//i.test(source.location) ? { s3: s3Options(config) } : {}),
  };
}

function apiArgs(
  session: Session,
  store: ObjectStore,
  name: string,
  source: ApiSourceConfig,
  day: DayInterval,
  logger: Session['logger'],
): IngestApiOptions {
  // The YAML → camelCase mapping is ingest's (apiSourceOptions); the "cli" refactor composes its schema.
  return {
    ...apiSourceOptions(source),
    source: name,
    interval: day,
    store,
    runId: session.runId,
    signal: session.invocation.signal,
    logger,
  };
}

/** Loads one committed partition into `raw_<source>`; `undefined` when nothing is committed (skip). */
export async function loadSource(
  session: Session,
  store: ObjectStore,
  name: string,
  source: SourceConfig,
  day: DayInterval,
) {
  const { config } = session.project;
  const logger = session.logger.child({ step: 'load' });
  return job(session, { step: 'load', target: name, partition: day.start }, async () => {
    try {
      const result = await loadPartition(session.pool, {
        store,
        source: name,
        interval: day,
        table: tableOf(name, source),
        schema: config.warehouse.schema,
        disposition: source.disposition,
        ...(source.primary_key ? { primaryKey: source.primary_key } : {}),
        // Ingest's declared type names, as PostgreSQL spells them (`double` → `double precision`).
        ...(source.columns
          ? {
              columns: Object.fromEntries(
                Object.entries(source.columns).map(([c, t]) => [c, postgresType(t)]),
              ),
            }
          : {}),
        ...(source.schema_evolution ? { schemaEvolution: source.schema_evolution } : {}),
        ...(source.max_rejects !== undefined ? { maxRejects: source.max_rejects } : {}),
        runId: session.runId,
        signal: session.invocation.signal,
        logger,
      });
      session.totals.rowsLoaded += result.rowsLoaded;
      session.totals.rowsRejected += result.rowsRejected;
      session.totals.ranSources += 1;
      for (const [stage, rows] of [
        ['loaded', result.rowsLoaded],
        ['rejected', result.rowsRejected],
      ] as const) {
        if (stage === 'rejected' && rows === 0) continue;
        await session.runLog.recordRowCount({
          runId: session.runId,
          dataset: name,
          partition: day.start,
          stage,
          rows,
        });
      }
      return {
        value: result,
        rowsIn: result.rowsIn,
        rowsOut: result.rowsLoaded,
        rowsRejected: result.rowsRejected,
      };
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'NOT_COMMITTED') throw error;
      session.totals.skippedSources += 1;
      logger.warn({ partition: day.start }, `no committed partition for ${name} on ${day.start}: skipped`);
      return { value: undefined, status: 'skipped' as const };
    }
  });
}

/** Options `build`, `seed` and `test` share. */
export interface BuildFlags {
  select?: string[] | undefined;
  exclude?: string[] | undefined;
  threads?: number | undefined;
  failFast?: boolean | undefined;
  fullRefresh?: boolean | undefined;
  targetSchema?: string | undefined;
  resourceTypes?: Array<'model' | 'seed' | 'test'> | undefined;
}

/** Sources and raw tables the models can reference: `source('raw', name)` and `ref('raw_<name>')`. */
export function modelingRelations(config: ProjectConfig, schema: string) {
  const raw: Record<string, { schema: string; identifier: string }> = {};
  const externalRelations: Array<{ name: string; schema: string; identifier: string }> = [];
  for (const [name, source] of Object.entries(config.sources)) {
    const identifier = tableOf(name, source);
    raw[name] = { schema, identifier };
    externalRelations.push({ name: identifier, schema, identifier });
  }
  return { sources: { raw }, externalRelations };
}

/** Compiles the project; error diagnostics become one CliError (exit 2) listing them all. */
export async function compile(
  project: LoadedProject,
  logger: Logger,
  flags: BuildFlags,
  day: DayInterval | undefined,
) {
  const { config, dir, tsProject } = project;
  const schema = flags.targetSchema ?? config.warehouse.schema;
  const rawSchema = config.warehouse.schema;
  const vars = {
    ...(config.vars ?? {}),
    ...(day ? { ds: day.start, data_interval_start: day.start, data_interval_end: day.end } : {}),
  };
  const { graph, diagnostics } = await compileProject({
    dir,
    // dataflow.config.ts: the TypeScript models (relative seed files resolve against `dir`).
    ...(tsProject ? { project: tsProject } : {}),
    schema,
    vars,
    ...modelingRelations(config, rawSchema),
  });
  for (const d of diagnostics.filter((x) => x.severity !== 'error')) {
    logger.warn({ code: d.code, file: d.file, line: d.line, node: d.node }, d.message);
  }
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    for (const d of errors)
      logger.error({ code: d.code, file: d.file, line: d.line, node: d.node }, d.message);
    const first = errors[0];
    const where = first?.file ? `${first.file}${first.line ? `:${first.line}` : ''}: ` : '';
    throw new CliError(
      'CONFIG_INVALID',
      `compile failed with ${errors.length} error(s); first: ${where}${first?.code}: ${first?.message}`,
    );
  }
  return graph;
}

const jobStep = (t: string) =>
  (t === 'test' ? 'test' : t === 'seed' ? 'seed' : 'model') as 'test' | 'seed' | 'model';

/** Builds (and tests) the selected nodes, recording one job_status row per node and every test result. */
export async function buildProject(session: Session, flags: BuildFlags, day: DayInterval | undefined) {
  const graph = await compile(session.project, session.logger, flags, day);
  const { config } = session.project;
  const logger = session.logger.child({ step: 'build' });
  const pending: Promise<unknown>[] = [];
  const result = await build(session.pool, graph, {
    ...(flags.select?.length ? { select: flags.select } : {}),
    ...(flags.exclude?.length ? { exclude: flags.exclude } : {}),
    threads: flags.threads ?? config.build.threads,
    failFast: flags.failFast ?? config.build.fail_fast,
    fullRefresh: flags.fullRefresh ?? false,
    ...(flags.resourceTypes ? { resourceTypes: flags.resourceTypes } : {}),
    runId: session.runId,
    signal: session.invocation.signal,
    logger,
    onNodeResult: (r) => {
      pending.push(recordNode(session, r, day));
    },
  });
  await Promise.all(pending);
  return result;
}

type NodeResultLike = {
  uniqueId: string;
  name: string;
  resourceType: string;
  status: string;
  rows?: number | undefined;
  durationMs: number;
  message?: string | undefined;
  test?:
    | {
        name: string;
        status: 'pass' | 'warn' | 'fail' | 'error';
        severity: string;
        failures: number;
        sql: string;
        durationMs: number;
        sample: object[];
        message?: string | undefined;
      }
    | undefined;
};

async function recordNode(session: Session, r: NodeResultLike, day: DayInterval | undefined): Promise<void> {
  const { totals } = session;
  const step = jobStep(r.resourceType);
  const status = jobStatusOf(r.status, r.test?.status);
  if (step === 'test') {
    const s = r.test?.status ?? (status === 'skipped' ? 'skipped' : status === 'success' ? 'pass' : 'error');
    totals.tests[s] += 1;
  } else if (step === 'model' || step === 'seed') {
    totals.models[status === 'success' ? 'success' : status === 'skipped' ? 'skipped' : 'error'] +=
      step === 'model' ? 1 : 0;
  }
  const failureMessage = status === 'failed' ? (r.message ?? r.test?.message ?? `${r.status}`) : undefined;
  try {
    await session.runLog.recordJob({
      runId: session.runId,
      step,
      target: r.name,
      partition: day?.start,
      status,
      durationMs: Math.round(r.durationMs),
      ...(r.rows !== undefined ? { rowsOut: r.rows } : {}),
      ...(failureMessage ? { error: { name: 'NodeFailure', message: failureMessage } } : {}),
    });
    if (r.rows !== undefined && step !== 'test') {
      await session.runLog.recordRowCount({
        runId: session.runId,
        dataset: r.name,
        partition: day?.start,
        stage: 'built',
        rows: r.rows,
      });
    }
    if (step === 'test') {
      const t = r.test;
      await session.runLog.recordTestResults(session.runId, [
        {
          uniqueId: r.uniqueId,
          name: t?.name ?? r.name,
          status: t?.status ?? (status === 'skipped' ? 'skipped' : 'error'),
          severity: t?.severity,
          failures: t?.failures ?? 0,
          sql: t?.sql,
          sample: t?.sample ?? [],
          message: t?.message ?? r.message,
          durationMs: Math.round(t?.durationMs ?? r.durationMs),
        },
      ]);
    }
  } catch (error) {
    session.logger.warn(
      { node: r.uniqueId, err: { message: (error as Error).message } },
      'could not record a node result',
    );
  }
}

function jobStatusOf(
  status: string,
  testStatus: string | undefined,
): 'success' | 'failed' | 'skipped' | 'warn' {
  const s = testStatus ?? status;
  if (s === 'success' || s === 'pass') return 'success';
  if (s === 'warn') return 'warn';
  if (s === 'skipped' || s === 'skip') return 'skipped';
  return 'failed';
}
