export { type DependentView, qualify, quoteIdent } from '@dataflow/pg';
export { compiledPath, manifestJson, type RunArtifact, runResultsJson, writeArtifacts } from './artifacts.js';
export {
  type BuildOptions,
  type BuildPlan,
  type BuildResult,
  build,
  type NodeResult,
  planBuild,
} from './build.js';
export { assertCompiled, type CompileOptions, type CompileResult, compileProject } from './compile.js';
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
  isRetryableCause,
  ModelingError,
  type ModelingErrorCode,
  type ModelingErrorOptions,
} from './errors.js';
export {
  type CompiledGraph,
  type Diagnostic,
  type GraphNode,
  type IncrementalStrategy,
  type Materialization,
  type ModelConfig,
  type ModelNode,
  RELATION_PLACEHOLDER,
  type RelationInfo,
  type ResourceType,
  type SeedNode,
  type SourceNode,
  type TestNode,
} from './graph.js';
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
export { type SelectOptions, selectNodes } from './select.js';
export { type RelationRef, type SqlFragment, type SqlValue, sql } from './sql-fragment.js';
