export {
  LINEAGE_DEFAULTS,
  type LineageConfigInput,
  lineageConfigSchema,
  type ResolvedLineageConfig,
  resolveLineageConfig,
  type TransportKind,
} from './config.js';
export {
  createLineageEmitter,
  createLineageRecorder,
  type LineageEmitter,
  type LineageEmitterOptions,
  type LineageRecorder,
  type Logger,
} from './emitter.js';
export { LineageError, type LineageErrorCode } from './errors.js';
export {
  commandEvent,
  commandRef,
  type Dataset,
  type EventOptions,
  type InputDataset,
  type JobKind,
  type JobLineage,
  jobEvent,
  jobRef,
  type LineageEventType,
  type LineageRun,
  type OutputDataset,
  type RunEvent,
} from './events.js';
export {
  type Assertion,
  type BaseFacet,
  dataQualityAssertionsFacet,
  dataQualityMetricsFacet,
  errorMessageFacet,
  jobTypeFacet,
  nominalTimeFacet,
  outputStatisticsFacet,
  type ParentRunFacet,
  parentFacet,
  type RunRef,
  SCHEMA_URLS,
  type SchemaField,
  schemaFacet,
  sqlFacet,
} from './facets.js';
export { type GenerateSiteOptions, generateSite } from './generate-site.js';
export { DEFAULT_LAYOUT, type LayoutOptions, layoutGraph, type Position } from './graph-layout.js';
export {
  type IngestLineageInput,
  ingestLineage,
  type LoadLineageInput,
  loadLineage,
  type NodeLineageInput,
  nodeLineage,
  type WriteStats,
} from './job-lineage.js';
export { type Manifest, type ManifestNode, manifestNode, parseManifest, relationOf } from './manifest.js';
export {
  type DatasetName,
  lakeDataset,
  locationDataset,
  type PostgresLocation,
  postgresDataset,
  postgresLocation,
} from './naming.js';
export { type ParentContext, parentFromEnv } from './parent.js';
export { LINEAGE_VERSION, PRODUCER } from './producer.js';
export { type RunEventShape, runEventSchema } from './run-event-schema.js';
export {
  buildSiteData,
  LAST_RUNS,
  type LakeSource,
  type SiteData,
  type SiteNode,
  type SiteNodeKind,
  type SiteNodeRun,
} from './site-data.js';
export { renderSiteHtml, scriptJson } from './site-html.js';
export { parseRuns, type SiteJob, type SiteRun, type SiteTestResult } from './site-runs.js';
export { stableUuid } from './stable-uuid.js';
export {
  createConsoleTransport,
  createFileTransport,
  createHttpTransport,
  createTransport,
  type HttpTransportOptions,
  type LineageTransport,
} from './transport.js';
