import { isAbsolute, resolve } from 'node:path';
import type { PartitionManifest } from '@dataflow/ingest';
import {
  createLineageEmitter,
  createLineageRecorder,
  createTransport,
  ingestLineage,
  type JobLineage,
  type LineageConfigInput,
  LineageError,
  type LineageEventType,
  type LineageRecorder,
  type Logger,
  loadLineage,
  type Manifest,
  nodeLineage,
  PRODUCER,
  parentFromEnv,
  postgresLocation,
  resolveLineageConfig,
} from '@dataflow/lineage';
import type { SourceConfig } from './config/schema.js';
import { CliError } from './errors.js';

/** The OpenLineage side of one CLI invocation; every method is a no-op when lineage is off. */
export interface CliLineage {
  readonly enabled: boolean;
  /** The command's own run: START when the session opens, COMPLETE / FAIL / ABORT when it closes. */
  run(type: LineageEventType, error?: unknown): Promise<void>;
  /** One ingest, load, seed, model or test job. */
  job(
    type: LineageEventType,
    job: JobLineage,
    options?: { error?: unknown; eventTime?: string },
  ): Promise<void>;
}

/** What {@link openLineage} needs from the session. */
export interface OpenLineageInput {
  config: LineageConfigInput | undefined;
  env: Readonly<Record<string, string | undefined>>;
  projectDir: string;
  project: string;
  command: string;
  runId: string;
  interval?: { start: string; end: string } | undefined;
  logger: Logger;
}

const OFF: CliLineage = { enabled: false, run: async () => undefined, job: async () => undefined };

/**
 * Lineage for one invocation, from the `lineage:` config and the `OPENLINEAGE_*` / `AIRFLOW_CTX_*`
 * environment. A bad `lineage:` config is a config error (thrown, exit 2); sending never throws.
 *
 * @example
 * const lineage = openLineage({ config: config.lineage, env, projectDir, project: 'shop', command: 'run', runId, logger });
 * await lineage.run('START');
 */
export function openLineage(input: OpenLineageInput): CliLineage {
  let resolved: ReturnType<typeof resolveLineageConfig>;
  try {
    resolved = resolveLineageConfig(input.config, input.env);
  } catch (error) {
    if (!(error instanceof LineageError)) throw error;
    throw new CliError('CONFIG_INVALID', error.message, { cause: error });
  }
  if (resolved.transport === 'none') return OFF;
  const transport = createTransport(
    resolved.transport === 'file' && !isAbsolute(resolved.file)
      ? { ...resolved, file: resolve(input.projectDir, resolved.file) }
      : resolved,
  );
  const { parent, root, warnings } = parentFromEnv(input.env);
  for (const w of warnings) input.logger.warn({}, w);
  const recorder: LineageRecorder = createLineageRecorder(
    {
      producer: PRODUCER,
      namespace: resolved.namespace,
      project: input.project,
      command: input.command,
      runId: input.runId,
      interval: input.interval,
      parent,
      root,
    },
    createLineageEmitter({ transport, logger: input.logger }),
  );
  return {
    enabled: true,
    run: (type, error) => recorder.runEvent(type, error === undefined ? {} : { error }),
    job: (type, job, options = {}) => recorder.jobEvent(job, type, options),
  };
}

/** Where a source's rows come from, as lineage names it: the day's file or the API's URL. */
export function sourceLocation(source: SourceConfig, projectDir: string, ds: string): string {
  if (source.type === 'api') return source.url;
  const location = source.location.replace(/\{\{\s*ds\s*\}\}/g, ds);
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(location) || isAbsolute(location)
    ? location
    : resolve(projectDir, location);
}

/**
 * The ingest job of a source and day (`manifest` once it landed: columns, rows, bytes, files).
 *
 * @example
 * await lineage.job('COMPLETE', ingestJob({ name, source, projectDir, lakeUrl, ds, manifest }));
 */
export function ingestJob(input: {
  name: string;
  source: SourceConfig;
  projectDir: string;
  lakeUrl: string;
  ds: string;
  manifest?: PartitionManifest | undefined;
}): JobLineage {
  const { manifest } = input;
  return ingestLineage({
    producer: PRODUCER,
    source: input.name,
    location: sourceLocation(input.source, input.projectDir, input.ds),
    lakeUrl: input.lakeUrl,
    partition: input.ds,
    columns: manifest?.columns,
    written: manifest
      ? { rows: manifest.rows, bytes: manifest.bytes, files: manifest.files.length }
      : undefined,
  });
}

/**
 * The load job of a source and day (`result` once loaded).
 *
 * @example
 * await lineage.job('COMPLETE', loadJob({ name, lakeUrl, ds, warehouseUrl, schema, table, result }));
 */
export function loadJob(input: {
  name: string;
  lakeUrl: string;
  ds: string;
  warehouseUrl: string;
  schema: string;
  table: string;
  result?: { rowsIn: number; rowsLoaded: number } | undefined;
}): JobLineage {
  return loadLineage({
    producer: PRODUCER,
    source: input.name,
    lakeUrl: input.lakeUrl,
    partition: input.ds,
    warehouse: postgresLocation(input.warehouseUrl),
    schema: input.schema,
    table: input.table,
    read: input.result ? { rows: input.result.rowsIn } : undefined,
    written: input.result ? { rows: input.result.rowsLoaded } : undefined,
  });
}

/**
 * A built node's job (model, seed or test) from the compiled manifest, with its rows or its
 * test outcome; undefined for nodes lineage does not describe (sources, unknown ids).
 *
 * @example
 * const job = nodeJob(manifest, result, warehouseUrl);
 */
export function nodeJob(
  manifest: Manifest,
  result: {
    uniqueId: string;
    rows?: number | undefined;
    test?: { status: string; failures: number } | undefined;
  },
  warehouseUrl: string,
): JobLineage | undefined {
  return nodeLineage({
    producer: PRODUCER,
    manifest,
    uniqueId: result.uniqueId,
    warehouse: postgresLocation(warehouseUrl),
    rows: result.rows,
    test: result.test
      ? { success: result.test.status === 'pass', failures: result.test.failures }
      : undefined,
  });
}

/** The part of modeling's `NodeResult` lineage reads. */
export interface BuiltNode {
  uniqueId: string;
  status: 'success' | 'error' | 'skipped' | 'pass' | 'warn' | 'fail';
  startedAt: string;
  durationMs: number;
  rows?: number | undefined;
  message?: string | undefined;
  test?: { status: string; failures: number; message?: string | undefined } | undefined;
}

/**
 * A built node's START and COMPLETE (FAIL for an error or a failed test), timed as the build
 * saw it; skipped nodes and nodes lineage does not describe send nothing.
 *
 * @example
 * onNodeResult: (r) => pending.push(emitNodeEvents(session.lineage, manifest, r, session.database.url)),
 */
export async function emitNodeEvents(
  lineage: CliLineage,
  manifest: Manifest,
  node: BuiltNode,
  warehouseUrl: string,
): Promise<void> {
  if (!lineage.enabled || node.status === 'skipped') return;
  const job = nodeJob(manifest, node, warehouseUrl);
  if (!job) return;
  const endedAt = new Date(Date.parse(node.startedAt) + node.durationMs).toISOString();
  await lineage.job('START', job, { eventTime: node.startedAt });
  const failed = node.status === 'error' || node.status === 'fail';
  const message = node.message ?? node.test?.message ?? `${node.status}`;
  await lineage.job(failed ? 'FAIL' : 'COMPLETE', job, {
    eventTime: endedAt,
    ...(failed ? { error: new Error(message) } : {}),
  });
}
