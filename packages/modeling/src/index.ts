export { type DependentView, qualify, quoteIdent } from '@dataflow/pg';
export {
  compiledPath,
  manifestJson,
  type RunArtifact,
  runResultsJson,
  writeArtifacts,
  writeManifest,
  writeRunResults,
} from './artifacts.js';
export {
  type BuildOptions,
  type BuildPlan,
  type BuildResourceType,
  type BuildResult,
  build,
  type NodeResult,
  planBuild,
} from './build.js';
export {
  type ChecksumOptions,
  graphChecksums,
  type NodeChecksums,
  nodeChecksums,
  normaliseBody,
  seedFileChecksum,
} from './checksums.js';
export { assertCompiled, type CompileOptions, type CompileResult, compileProject } from './compile.js';
export {
  applyDefer,
  chooseDeferred,
  type DeferredRelation,
  deferCandidates,
  deferRenderer,
  existingRelations,
} from './defer.js';
export {
  defineModel,
  defineProject,
  type ModelContext,
  type ModelDefinition,
  type ModelSpec,
  type ProjectDefinition,
  type ProjectSpec,
  type SeedDefinition,
  type SingularTestDefinition,
  type TestSpec,
  type UnknownRefs,
} from './define.js';
export { DEFAULT_HUB_URL } from './deps/hub.js';
export {
  type InstalledPackage,
  type InstallPackagesOptions,
  type InstallPackagesResult,
  installPackages,
} from './deps/install.js';
export {
  isModelingError,
  isRetryableCause,
  ModelingError,
  type ModelingErrorCode,
  type ModelingErrorOptions,
} from './errors.js';
export {
  type FreshnessCriteria,
  type FreshnessWindow,
  freshnessCriteria,
  planFreshnessAge,
} from './freshness/criteria.js';
export {
  evaluateFreshness,
  type FreshnessOptions,
  type FreshnessResult,
  type FreshnessStatus,
} from './freshness/evaluate.js';
export { type FreshnessRun, sourcesJson, writeSourcesJson } from './freshness/sources-json.js';
export {
  type CompiledGraph,
  type Diagnostic,
  type GraphNode,
  type IncrementalStrategy,
  type Materialization,
  type ModelConfig,
  type ModelNode,
  type OnSchemaChange,
  RELATION_PLACEHOLDER,
  type RelationInfo,
  type ResourceType,
  type SeedNode,
  type SnapshotNode,
  type SourceNode,
  type TestNode,
  type UnitTestNode,
} from './graph.js';
export { type RenderedGraph, renderGraph } from './introspection/render-graph.js';
export type { DbtTarget } from './jinja/dbt-context.js';
export type { Logger, MaterializeOutcome } from './materialize.js';
export {
  type ColumnInfo,
  planCreateTemp,
  planDuplicateKeyCheck,
  planIncremental,
  planNullKeyCheck,
  planReplaceView,
  planSwap,
  type RelationKind,
  viewColumnsCompatible,
  type WorkNames,
  workNames,
} from './plan.js';
export { type SelectionState, type SelectOptions, selectNodes, selectSources } from './select.js';
export {
  DEFAULT_SNAPSHOT_COLUMNS,
  type HardDeletes,
  resolveSnapshotConfig,
  type SnapshotConfig,
  type SnapshotMetaColumns,
  type SnapshotStrategy,
} from './snapshot/config.js';
export {
  planSnapshotAddColumns,
  planSnapshotApply,
  planSnapshotCloses,
  planSnapshotCreate,
  planSnapshotInserts,
  planSnapshotSource,
  planSnapshotTime,
  SNAPSHOT_TIME_SQL,
  type SnapshotChangeInputs,
  snapshotInsertColumns,
} from './snapshot/plan.js';
export {
  runSnapshot,
  type SnapshotOutcome,
  type SnapshotRunOptions,
  type SnapshotSpec,
} from './snapshot/run.js';
export { type RelationRef, type SqlFragment, type SqlValue, sql } from './sql-fragment.js';
export {
  type PreviousResults,
  parseRunResults,
  parseStateManifest,
  readPreviousResults,
  readStateManifest,
  type StateManifest,
  type StateNode,
} from './state.js';
export { type DiffRow, formatRowDiff, planRowDiff, type RowDiff } from './unit-test/diff.js';
export {
  type Fixture,
  type FixtureFormat,
  type FixtureValue,
  inferColumnType,
  parseFixture,
} from './unit-test/fixture.js';
export { runUnitTest, type UnitTestResult, type UnitTestRunOptions } from './unit-test/run.js';
export type { UnitTestInput, UnitTestModel, UnitTestSpec } from './unit-test/spec.js';
