import type { CliCommand } from './lifecycle.js';

/** A command as the root knows it: one line for `--help`, and how to load it (on use only). */
export interface CommandEntry {
  description: string;
  load(): Promise<CliCommand>;
}

// Commands are imported when used: `dataflow --version` and `--help` load none of them, and a
// command loads only the libraries it needs.
/** Every subcommand, by name, in `--help` order. */
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  run: {
    description: 'Ingest, load, then build and test, for each day of the interval',
    load: async () => (await import('./commands/pipeline.js')).runCommand,
  },
  ingest: {
    description: 'Land source data for the interval in the lake',
    load: async () => (await import('./commands/pipeline.js')).ingestCommand,
  },
  load: {
    description: 'Load committed lake partitions into raw tables (exit 99 when none is committed)',
    load: async () => (await import('./commands/pipeline.js')).loadCommand,
  },
  build: {
    description: 'Build seeds, snapshots and models, run unit and data tests (write-audit-publish)',
    load: async () => (await import('./commands/pipeline.js')).buildCommand,
  },
  seed: {
    description: 'Load seed CSV files',
    load: async () => (await import('./commands/pipeline.js')).seedCommand,
  },
  snapshot: {
    description: 'Run snapshots (SCD2 history tables)',
    load: async () => (await import('./commands/pipeline.js')).snapshotCommand,
  },
  test: {
    description: 'Run unit tests and data tests against the published relations',
    load: async () => (await import('./commands/pipeline.js')).testCommand,
  },
  retry: {
    description: 'Re-run what the last pipeline command did not finish (days of a range, failed nodes)',
    load: async () => (await import('./commands/retry.js')).retryCommand,
  },
  ls: {
    description: 'List the selected nodes (no database): --select, --resource-type, --output json|name|path',
    load: async () => (await import('./commands/ls.js')).lsCommand,
  },
  freshness: {
    description: 'Check sources against their freshness rules; target/sources.json (exit 3 past error_after)',
    load: async () => (await import('./commands/freshness.js')).freshnessCommand,
  },
  deps: {
    description: 'Install packages.yml packages (hub, git, local) and write package-lock.yml',
    load: async () => (await import('./commands/deps.js')).depsCommand,
  },
  compile: {
    description: 'Compile the project (no database): nodes, diagnostics, target/ artifacts',
    load: async () => (await import('./commands/compile.js')).compileCommand,
  },
  airflow: {
    description: 'Generate an Airflow DAG with one task per model (Cosmos style) from the compiled project',
    load: async () => (await import('./commands/airflow.js')).airflowCommand,
  },
  docs: {
    description: 'Generate the lineage and run-history site (docs generate [--out DIR])',
    load: async () => (await import('./commands/docs.js')).docsCommand,
  },
  runs: {
    description: 'Recent runs from the run log (table, or --json)',
    load: async () => (await import('./commands/runs.js')).runsCommand,
  },
  state: {
    description:
      'Show, set or reset the cursor state of an incremental source (state show|set|reset --source X)',
    load: async () => (await import('./commands/state.js')).stateCommand,
  },
  init: {
    description: 'Scaffold a working example project in DIR (--typescript for dataflow.config.ts)',
    load: async () => (await import('./commands/init.js')).initCommand,
  },
};
