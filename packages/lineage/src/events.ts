import {
  type BaseFacet,
  errorMessageFacet,
  jobTypeFacet,
  nominalTimeFacet,
  parentFacet,
  type RunRef,
  SCHEMA_URLS,
  sqlFacet,
} from './facets.js';
import { stableUuid } from './stable-uuid.js';

/** The run state transitions dataflow emits (one START, then one of the others). */
export type LineageEventType = 'START' | 'COMPLETE' | 'FAIL' | 'ABORT';
/** The kinds of job inside a dataflow command. */
export type JobKind = 'ingest' | 'load' | 'seed' | 'model' | 'test';

/** A dataset in an event, with its facets. */
export interface Dataset {
  namespace: string;
  name: string;
  facets?: Record<string, BaseFacet>;
}
/** An input dataset, with input facets (rows read, data test outcomes). */
export interface InputDataset extends Dataset {
  inputFacets?: Record<string, BaseFacet>;
}
/** An output dataset, with output facets (rows written). */
export interface OutputDataset extends Dataset {
  outputFacets?: Record<string, BaseFacet>;
}

/** An OpenLineage RunEvent as this package builds it. */
export interface RunEvent {
  eventTime: string;
  producer: string;
  schemaURL: string;
  eventType: LineageEventType;
  run: { runId: string; facets: Record<string, BaseFacet> };
  job: { namespace: string; name: string; facets: Record<string, BaseFacet> };
  inputs: InputDataset[];
  outputs: OutputDataset[];
}

/** One dataflow command invocation: the root of its jobs' events. */
export interface LineageRun {
  /** URI of what produced the events (`producer` and every facet's `_producer`). */
  producer: string;
  /** The job namespace (`OPENLINEAGE_NAMESPACE`, the `lineage:` config, or `dataflow`). */
  namespace: string;
  project: string;
  command: string;
  /** dataflow's run id (`20260501T000000Z-1a2b3c4d`); the OpenLineage runId is derived from it. */
  runId: string;
  interval?: { start: string; end: string } | undefined;
  /** The orchestrator's task run (Airflow), when there is one. */
  parent?: RunRef | undefined;
  /** The top of the orchestrator's hierarchy (the Airflow DAG run); defaults to `parent`. */
  root?: RunRef | undefined;
}

/** What one job reads and writes; built by `ingestLineage`, `loadLineage`, `nodeLineage`. */
export interface JobLineage {
  kind: JobKind;
  /** The job's target: source, model, seed or test name. */
  name: string;
  partition?: string | undefined;
  sql?: string | undefined;
  inputs: InputDataset[];
  outputs: OutputDataset[];
}

/** When and how a run ended, for the events that close it. */
export interface EventOptions {
  eventTime?: Date | string;
  /** FAIL / ABORT: the error whose message goes into the ErrorMessageRunFacet. */
  error?: unknown;
}

const timeOf = (t: Date | string | undefined) =>
  t === undefined
    ? new Date().toISOString()
    : typeof t === 'string'
      ? new Date(t).toISOString()
      : t.toISOString();

const messageOf = (error: unknown) =>
  error instanceof Error ? error.message : typeof error === 'string' ? error : 'unknown error';

/**
 * The OpenLineage job and run of the command itself: job `<project>.<command>`, a runId derived
 * from dataflow's run id.
 *
 * @example
 * commandRef(run); // { namespace: 'dataflow', name: 'shop.run', runId: '…' }
 */
export function commandRef(run: LineageRun): RunRef {
  return { namespace: run.namespace, name: `${run.project}.${run.command}`, runId: stableUuid(run.runId) };
}

/**
 * The job and run of one step: job `<project>.<kind>.<name>`, runId derived from the command's
 * run id, kind, name and partition (the START and the COMPLETE of a job share it).
 *
 * @example
 * jobRef(run, { kind: 'load', name: 'orders', partition: '2026-05-01', inputs: [], outputs: [] });
 */
export function jobRef(run: LineageRun, job: Pick<JobLineage, 'kind' | 'name' | 'partition'>): RunRef {
  return {
    namespace: run.namespace,
    name: `${run.project}.${job.kind}.${job.name}`,
    runId: stableUuid(run.runId, job.kind, job.name, job.partition ?? ''),
  };
}

function runFacets(run: LineageRun, eventType: LineageEventType, options: EventOptions) {
  const facets: Record<string, BaseFacet> = {};
  if (run.interval) facets.nominalTime = nominalTimeFacet(run.producer, run.interval);
  if ((eventType === 'FAIL' || eventType === 'ABORT') && options.error !== undefined) {
    facets.errorMessage = errorMessageFacet(run.producer, messageOf(options.error));
  }
  return facets;
}

/**
 * The RunEvent of the command (`dataflow run`, `build`…), child of the Airflow task when
 * there is one.
 *
 * @example
 * await emitter.emit(commandEvent(run, 'START'));
 * await emitter.emit(commandEvent(run, 'FAIL', { error }));
 */
export function commandEvent(
  run: LineageRun,
  eventType: LineageEventType,
  options: EventOptions = {},
): RunEvent {
  const self = commandRef(run);
  const facets = runFacets(run, eventType, options);
  if (run.parent) facets.parent = parentFacet(run.producer, run.parent, run.root);
  return {
    eventTime: timeOf(options.eventTime),
    producer: run.producer,
    schemaURL: SCHEMA_URLS.runEvent,
    eventType,
    run: { runId: self.runId, facets },
    job: {
      namespace: self.namespace,
      name: self.name,
      facets: { jobType: jobTypeFacet(run.producer, 'COMMAND') },
    },
    inputs: [],
    outputs: [],
  };
}

/**
 * The RunEvent of one job (ingest, load, seed, model, test) with its datasets; its parent is
 * the command's run and its root the Airflow DAG run (or the command when not under Airflow).
 *
 * @example
 * const job = loadLineage({ source: 'orders', lakeUrl, partition: ds, warehouse, schema: 'public', table: 'raw_orders' });
 * await emitter.emit(jobEvent(run, job, 'START'));
 */
export function jobEvent(
  run: LineageRun,
  job: JobLineage,
  eventType: LineageEventType,
  options: EventOptions = {},
): RunEvent {
  const self = jobRef(run, job);
  const facets = runFacets(run, eventType, options);
  facets.parent = parentFacet(run.producer, commandRef(run), run.root ?? run.parent ?? commandRef(run));
  const jobFacets: Record<string, BaseFacet> = {
    jobType: jobTypeFacet(run.producer, job.kind.toUpperCase()),
  };
  if (job.sql) jobFacets.sql = sqlFacet(run.producer, job.sql);
  return {
    eventTime: timeOf(options.eventTime),
    producer: run.producer,
    schemaURL: SCHEMA_URLS.runEvent,
    eventType,
    run: { runId: self.runId, facets },
    job: { namespace: self.namespace, name: self.name, facets: jobFacets },
    inputs: job.inputs,
    outputs: job.outputs,
  };
}
