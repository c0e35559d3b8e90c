import type { Dataset, InputDataset, JobLineage, OutputDataset } from './events.js';
import {
  type Assertion,
  dataQualityAssertionsFacet,
  dataQualityMetricsFacet,
  outputStatisticsFacet,
  type SchemaField,
  schemaFacet,
} from './facets.js';
import { type Manifest, type ManifestNode, manifestNode, relationOf } from './manifest.js';
import {
  type DatasetName,
  lakeDataset,
  locationDataset,
  type PostgresLocation,
  postgresDataset,
} from './naming.js';

/** Rows, bytes and files a step wrote. */
export interface WriteStats {
  rows: number;
  bytes?: number | undefined;
  files?: number | undefined;
}

/** Input of {@link ingestLineage}. */
export interface IngestLineageInput {
  producer: string;
  source: string;
  /** Where the rows come from: absolute path, `http(s)://` or `s3://` URL (an API's base URL). */
  location?: string | undefined;
  lakeUrl: string;
  partition: string;
  /** Header columns, once known (COMPLETE). */
  columns?: readonly string[] | undefined;
  /** What landed (COMPLETE). */
  written?: WriteStats | undefined;
}

function withSchema(
  producer: string,
  name: DatasetName,
  fields: readonly SchemaField[] | undefined,
): Dataset {
  return fields && fields.length > 0
    ? { ...name, facets: { schema: schemaFacet(producer, fields) } }
    : { ...name };
}

/**
 * An ingest job: the source location → the lake dataset `<lake>/<source>`, with the header as
 * its schema and the rows, bytes and files written.
 *
 * @example
 * ingestLineage({ producer, source: 'orders', location: 'https://shop.example/orders.csv', lakeUrl: 's3://lake/raw', partition: '2026-05-01' });
 */
export function ingestLineage(input: IngestLineageInput): JobLineage {
  const { producer } = input;
  const output: OutputDataset = withSchema(
    producer,
    lakeDataset(input.lakeUrl, input.source),
    input.columns?.map((name) => ({ name })),
  );
  if (input.written) {
    output.outputFacets = {
      outputStatistics: outputStatisticsFacet(producer, {
        rowCount: input.written.rows,
        size: input.written.bytes,
        fileCount: input.written.files,
      }),
    };
  }
  return {
    kind: 'ingest',
    name: input.source,
    partition: input.partition,
    inputs: input.location ? [locationDataset(input.location)] : [],
    outputs: [output],
  };
}

/** Input of {@link loadLineage}. */
export interface LoadLineageInput {
  producer: string;
  source: string;
  lakeUrl: string;
  partition: string;
  warehouse: PostgresLocation;
  schema: string;
  table: string;
  columns?: ReadonlyArray<SchemaField> | undefined;
  /** Rows read from the lake, with the partition's bytes and files (COMPLETE). */
  read?: WriteStats | undefined;
  /** Rows loaded into the table (COMPLETE). */
  written?: WriteStats | undefined;
}

/**
 * A load job: the lake dataset → `postgres://host:port` `db.schema.raw_<source>`, with rows read
 * (DataQualityMetrics) and rows loaded (OutputStatistics).
 *
 * @example
 * loadLineage({ producer, source: 'orders', lakeUrl, partition: ds, warehouse, schema: 'public', table: 'raw_orders', read: { rows: 10 }, written: { rows: 9 } });
 */
export function loadLineage(input: LoadLineageInput): JobLineage {
  const { producer } = input;
  const lake: InputDataset = { ...lakeDataset(input.lakeUrl, input.source) };
  if (input.read) {
    lake.inputFacets = {
      dataQualityMetrics: dataQualityMetricsFacet(producer, {
        rowCount: input.read.rows,
        bytes: input.read.bytes,
        fileCount: input.read.files,
      }),
    };
  }
  const table: OutputDataset = withSchema(
    producer,
    postgresDataset(input.warehouse, input.schema, input.table),
    input.columns,
  );
  if (input.written) {
    table.outputFacets = {
      outputStatistics: outputStatisticsFacet(producer, { rowCount: input.written.rows }),
    };
  }
  return { kind: 'load', name: input.source, partition: input.partition, inputs: [lake], outputs: [table] };
}

/** Input of {@link nodeLineage}. */
export interface NodeLineageInput {
  producer: string;
  manifest: Manifest;
  uniqueId: string;
  warehouse: PostgresLocation;
  /** Rows the model or seed wrote (COMPLETE). */
  rows?: number | undefined;
  /** The test's outcome (COMPLETE / FAIL of a test). */
  test?: { success: boolean; failures?: number | undefined } | undefined;
}

const columnsOf = (node: ManifestNode): SchemaField[] =>
  Object.entries(node.columns ?? {}).map(([name, c]) =>
    c.description ? { name, description: c.description } : { name },
  );

/** Ephemeral models are CTEs, not relations: their inputs stand in for them. */
function inputRelations(manifest: Manifest, node: ManifestNode, seen = new Set<string>()): ManifestNode[] {
  const out: ManifestNode[] = [];
  for (const id of node.depends_on?.nodes ?? []) {
    if (seen.has(id)) continue;
    seen.add(id);
    const parent = manifestNode(manifest, id);
    if (!parent) continue;
    if (parent.config?.materialized === 'ephemeral') out.push(...inputRelations(manifest, parent, seen));
    else if (relationOf(parent)) out.push(parent);
  }
  return out;
}

function relationDataset(
  producer: string,
  warehouse: PostgresLocation,
  node: ManifestNode,
): Dataset | undefined {
  const relation = relationOf(node);
  if (!relation) return undefined;
  return withSchema(producer, postgresDataset(warehouse, relation.schema, relation.table), columnsOf(node));
}

function testAssertion(node: ManifestNode, success: boolean): Assertion {
  const assertion: Assertion = {
    assertion: node.test_metadata?.name ?? 'custom_sql',
    success,
    name: node.name,
    contentType: 'sql',
  };
  if (node.column_name) assertion.column = node.column_name;
  if (node.config?.severity) assertion.severity = node.config.severity.toLowerCase();
  if (node.compiled_code) assertion.content = node.compiled_code;
  return assertion;
}

/**
 * A model, seed or test of a compiled manifest: its parent relations (ephemeral models
 * expanded) → its relation with its columns; a test reads the node it is attached to and
 * reports its outcome as a DataQualityAssertion. Returns undefined for unknown ids and sources.
 *
 * @example
 * nodeLineage({ producer, manifest, uniqueId: 'model.shop.orders', warehouse, rows: 1000 });
 */
export function nodeLineage(input: NodeLineageInput): JobLineage | undefined {
  const { producer, manifest, warehouse } = input;
  const node = manifestNode(manifest, input.uniqueId);
  if (!node || node.resource_type === 'source') return undefined;
  const parents = inputRelations(manifest, node).filter((p) => relationOf(p));
  const inputs: InputDataset[] = parents.map((p) => relationDataset(producer, warehouse, p) as Dataset);
  if (node.resource_type === 'test') {
    const attachedId = node.attached_node ?? node.depends_on?.nodes[0];
    const tested =
      inputs[
        Math.max(
          0,
          parents.findIndex((p) => p.unique_id === attachedId),
        )
      ];
    if (input.test && tested) {
      tested.inputFacets = {
        dataQualityAssertions: dataQualityAssertionsFacet(producer, [
          testAssertion(node, input.test.success),
        ]),
      };
    }
    return { kind: 'test', name: node.name, sql: node.compiled_code ?? undefined, inputs, outputs: [] };
  }
  const output: OutputDataset | undefined = relationDataset(producer, warehouse, node);
  if (output && input.rows !== undefined) {
    output.outputFacets = { outputStatistics: outputStatisticsFacet(producer, { rowCount: input.rows }) };
  }
  return {
    // A snapshot is built like a model (the CLI records it as a model step): a job of that kind.
    kind: node.resource_type === 'snapshot' ? 'model' : node.resource_type,
    name: node.name,
    sql: node.resource_type === 'seed' ? undefined : (node.compiled_code ?? undefined),
    inputs,
    outputs: output ? [output] : [],
  };
}
