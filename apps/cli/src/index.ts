export { assertKnownFlags, repeatable } from './args.js';
export { commands, type RunCliOptions, rootCommand, runCli } from './cli.js';
export {
  type ApiSourceConfig,
  type CsvSourceConfig,
  configSchema,
  didYouMean,
  interpolateEnv,
  type LoadedProject,
  loadProject,
  type ProjectConfig,
  parseConfig,
  parseTsConfig,
  type SourceConfig,
} from './config.js';
export { type DataflowConfig, defineConfig } from './define-config.js';
export { acquireEmbeddedPostgres, type EmbeddedPostgresHandle, resolveDataDir } from './embedded-postgres.js';
export { CliError, type CliErrorCode } from './errors.js';
export { EXIT, exitCodeFor, statusForExit } from './exit-codes.js';
export { type DayInterval, requireDays, resolveDays } from './interval.js';
export { scaffoldFiles } from './scaffold.js';
export { buildSummary, formatSummaryText, type RunSummary, type RunTotals } from './summary.js';
export { pickConfigExport, splitTsConfig, TS_CONFIG_FILE } from './ts-config.js';
export { VERSION } from './version.js';
