import type { PipelineSpec } from './run-pipeline.js';

/** A pipeline command's name. */
export type PipelineCommandName = 'run' | 'ingest' | 'load' | 'build' | 'seed' | 'test' | 'snapshot';

/**
 * What each pipeline command runs: its steps per day, whether it needs an interval, which node
 * types its build step runs. `retry` reads a previous run's command name back through this table.
 */
export const PIPELINE_SPECS: Readonly<Record<PipelineCommandName, PipelineSpec>> = {
  run: { name: 'run', steps: ['ingest', 'load', 'build'], needsInterval: true },
  ingest: { name: 'ingest', steps: ['ingest'], needsInterval: true },
  load: { name: 'load', steps: ['load'], needsInterval: true },
  // Every resource type: seeds, snapshots, unit tests before their models, models, data tests.
  build: { name: 'build', steps: ['build'], needsInterval: false },
  seed: { name: 'seed', steps: ['build'], needsInterval: false, resourceTypes: ['seed'] },
  test: { name: 'test', steps: ['build'], needsInterval: false, resourceTypes: ['test', 'unit_test'] },
  snapshot: { name: 'snapshot', steps: ['build'], needsInterval: false, resourceTypes: ['snapshot'] },
};

/** Whether `name` is a pipeline command (one `retry` can re-run). */
export const isPipelineCommand = (name: unknown): name is PipelineCommandName =>
  typeof name === 'string' && Object.hasOwn(PIPELINE_SPECS, name);
