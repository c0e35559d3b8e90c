/** Where each facet's schema lives (OpenLineage spec 2-0-2 and the facet versions it ships). */
export const SCHEMA_URLS = {
  runEvent: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
  parent: 'https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet',
  nominalTime: 'https://openlineage.io/spec/facets/1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet',
  errorMessage:
    'https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet',
  jobType: 'https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet',
  sql: 'https://openlineage.io/spec/facets/1-1-0/SQLJobFacet.json#/$defs/SQLJobFacet',
  schema: 'https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet',
  outputStatistics:
    'https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet',
  dataQualityMetrics:
    'https://openlineage.io/spec/facets/1-0-3/DataQualityMetricsInputDatasetFacet.json#/$defs/DataQualityMetricsInputDatasetFacet',
  dataQualityAssertions:
    'https://openlineage.io/spec/facets/1-1-0/DataQualityAssertionsDatasetFacet.json#/$defs/DataQualityAssertionsDatasetFacet',
} as const;

/** The fields every facet carries. */
export interface BaseFacet {
  _producer: string;
  _schemaURL: string;
}

/** A job and run that this run belongs to (an Airflow task, or the dataflow command). */
export interface RunRef {
  namespace: string;
  name: string;
  runId: string;
}

/** ParentRunFacet: the immediate parent, and the root of the hierarchy. */
export interface ParentRunFacet extends BaseFacet {
  run: { runId: string };
  job: { namespace: string; name: string };
  root?: { run: { runId: string }; job: { namespace: string; name: string } };
}

/** A column of a dataset (SchemaDatasetFacet field). */
export interface SchemaField {
  name: string;
  type?: string;
  description?: string;
  ordinal_position?: number;
}

/** One data test's outcome on a dataset (DataQualityAssertionsDatasetFacet). */
export interface Assertion {
  assertion: string;
  success: boolean;
  column?: string;
  severity?: string;
  name?: string;
  content?: string;
  contentType?: string;
}

const base = (producer: string, url: string): BaseFacet => ({ _producer: producer, _schemaURL: url });

/**
 * ParentRunFacet for `parent`, with `root` (the parent itself when no root is given).
 *
 * @example
 * parentFacet(PRODUCER, { namespace: 'airflow', name: 'shop.load', runId }, undefined);
 */
export function parentFacet(producer: string, parent: RunRef, root: RunRef | undefined): ParentRunFacet {
  const top = root ?? parent;
  return {
    ...base(producer, SCHEMA_URLS.parent),
    run: { runId: parent.runId },
    job: { namespace: parent.namespace, name: parent.name },
    root: { run: { runId: top.runId }, job: { namespace: top.namespace, name: top.name } },
  };
}

/**
 * NominalTimeRunFacet of a day interval (`end` exclusive), as UTC midnights.
 *
 * @example
 * nominalTimeFacet(PRODUCER, { start: '2026-05-01', end: '2026-05-02' });
 */
export function nominalTimeFacet(producer: string, interval: { start: string; end: string }) {
  return {
    ...base(producer, SCHEMA_URLS.nominalTime),
    nominalStartTime: new Date(`${interval.start}T00:00:00Z`).toISOString(),
    nominalEndTime: new Date(`${interval.end}T00:00:00Z`).toISOString(),
  };
}

/**
 * ErrorMessageRunFacet. Only the message: stacks are not sent (they can hold paths and values).
 *
 * @example
 * errorMessageFacet(PRODUCER, 'COPY failed: invalid input syntax for type integer');
 */
export function errorMessageFacet(producer: string, message: string) {
  return { ...base(producer, SCHEMA_URLS.errorMessage), message, programmingLanguage: 'JavaScript' };
}

/**
 * JobTypeJobFacet: a batch job of the DATAFLOW integration (`jobType` COMMAND, INGEST, LOAD, MODEL…).
 *
 * @example
 * jobTypeFacet(PRODUCER, 'MODEL');
 */
export function jobTypeFacet(producer: string, jobType: string) {
  return {
    ...base(producer, SCHEMA_URLS.jobType),
    processingType: 'BATCH',
    integration: 'DATAFLOW',
    jobType,
  };
}

/**
 * SQLJobFacet with the postgres dialect.
 *
 * @example
 * sqlFacet(PRODUCER, 'select * from raw_orders');
 */
export function sqlFacet(producer: string, query: string) {
  return { ...base(producer, SCHEMA_URLS.sql), query, dialect: 'postgres' };
}

/**
 * SchemaDatasetFacet; columns are numbered from 1 in the order given.
 *
 * @example
 * schemaFacet(PRODUCER, [{ name: 'id', type: 'integer' }]);
 */
export function schemaFacet(producer: string, columns: ReadonlyArray<Omit<SchemaField, 'ordinal_position'>>) {
  return {
    ...base(producer, SCHEMA_URLS.schema),
    fields: columns.map((c, i) => ({ ...c, ordinal_position: i + 1 })),
  };
}

/**
 * OutputStatisticsOutputDatasetFacet: rows (and bytes, files) written.
 *
 * @example
 * outputStatisticsFacet(PRODUCER, { rowCount: 1000, size: 52_000, fileCount: 1 });
 */
export function outputStatisticsFacet(
  producer: string,
  stats: { rowCount: number; size?: number | undefined; fileCount?: number | undefined },
) {
  return { ...base(producer, SCHEMA_URLS.outputStatistics), ...definedIntegers(stats) };
}

/**
 * DataQualityMetricsInputDatasetFacet: rows (and bytes, files) read; no per-column metrics.
 *
 * @example
 * dataQualityMetricsFacet(PRODUCER, { rowCount: 1000 });
 */
export function dataQualityMetricsFacet(
  producer: string,
  stats: { rowCount: number; bytes?: number | undefined; fileCount?: number | undefined },
) {
  return { ...base(producer, SCHEMA_URLS.dataQualityMetrics), ...definedIntegers(stats), columnMetrics: {} };
}

/**
 * DataQualityAssertionsDatasetFacet of data test outcomes.
 *
 * @example
 * dataQualityAssertionsFacet(PRODUCER, [{ assertion: 'not_null', success: true, column: 'id' }]);
 */
export function dataQualityAssertionsFacet(producer: string, assertions: readonly Assertion[]) {
  return { ...base(producer, SCHEMA_URLS.dataQualityAssertions), assertions: [...assertions] };
}

function definedIntegers(values: Record<string, number | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && Number.isFinite(value)) out[key] = Math.round(value);
  }
  return out;
}
