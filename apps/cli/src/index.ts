export { type FlagDef, type FlagDefs, parseFlags, selectorList, sourceList } from './args.js';
export { type RunCliOptions, runCli } from './cli.js';
export { checkConfig, tableOf } from './config/checks.js';
export { applyEnvOverrides, interpolateEnv } from './config/env.js';
export { formatConfigIssue } from './config/issues.js';
export {
  lakeOptions,
  loadOptions,
  modelingRelations,
  warehouseColumns,
} from './config/library-options.js';
export { type LoadedProject, loadProject } from './config/load.js';
export { parseConfig, parseTsConfig } from './config/parse.js';
export {
  type ApiSourceConfig,
  type CsvSourceConfig,
  configSchema,
  type ProjectConfig,
  type SourceConfig,
} from './config/schema.js';
export { type DataflowConfig, defineConfig } from './define-config.js';
export { didYouMean } from './did-you-mean.js';
export { acquireEmbeddedPostgres, type EmbeddedPostgresHandle, resolveDataDir } from './embedded-postgres.js';
export { CliError, type CliErrorCode, isCliError } from './errors.js';
export { EXIT, type ExitCode, statusForExit } from './exit-codes.js';
export { exitCodeFor, isConfigurationFailure } from './exit-mapping.js';
export { type DayInterval, isDay, requireDays, resolveDays } from './interval.js';
export {
  type CliCommand,
  type CommandSpec,
  defineCommand,
  type Invocation,
  type Needs,
} from './lifecycle.js';
export { COMMANDS } from './registry.js';
export { scaffoldFiles, scaffoldTsFiles } from './scaffold.js';
export { snakeKeys } from './snake-case.js';
export { buildSummary, formatSummaryText, type RunSummary, type RunTotals } from './summary.js';
export { pickConfigExport, splitTsConfig, TS_CONFIG_FILE } from './ts-config.js';
export { VERSION } from './version.js';
