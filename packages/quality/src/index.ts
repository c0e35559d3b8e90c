export type { TestDefinition } from './builtin-tests.js';
export { type CompileGenericTestOptions, compileGenericTest, compileSingularTest } from './compile.js';
export {
  DEFAULT_STORE_FAILURES_LIMIT,
  evaluateThreshold,
  parseTestConfig,
  statusFor,
  storesFailuresAs,
} from './config.js';
export { isQualityError, QualityError, type QualityErrorCode, type QualityErrorOptions } from './errors.js';
export { defaultTestAlias, defaultTestName } from './naming.js';
export { createTestRegistry, type DefineTestOptions, type TestRegistry } from './registry.js';
export {
  type QualityLogger,
  type RunTestOptions,
  type RunTestsOptions,
  runTest,
  runTests,
  summarize,
} from './run.js';
export { toJsonSafe } from './sample.js';
export { quoteIdentifier, quoteLiteral } from './sql.js';
export type {
  CompiledTest,
  GenericTestContext,
  GenericTestFunction,
  GenericTestInvocation,
  RelationResolver,
  Severity,
  StoreFailuresRelation,
  TestConfig,
  TestResult,
  TestStatus,
  TestSummary,
} from './types.js';
