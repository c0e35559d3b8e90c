import { join } from 'node:path';
import { artifactMetadata, writeAtomic } from '../artifacts.js';
import type { FreshnessWindow } from './criteria.js';
import type { FreshnessResult } from './evaluate.js';

const DBT_SOURCES_SCHEMA = 'https://schemas.getdbt.com/dbt/sources/v3.json';

/** A freshness run, for `sources.json`. */
export interface FreshnessRun {
  invocationId: string;
  results: FreshnessResult[];
  elapsedMs: number;
}

const window = (w?: FreshnessWindow) =>
  w ? { count: w.count, period: w.period } : { count: null, period: null };

/**
 * dbt-like `target/sources.json` (schema v3): one result per source with `max_loaded_at`,
 * `snapshotted_at`, `max_loaded_at_time_ago_in_s`, `status` and `criteria`. Pure.
 *
 * @example
 * await writeFile('target/sources.json', JSON.stringify(sourcesJson({ invocationId: runId, results, elapsedMs })));
 */
export function sourcesJson(
  run: FreshnessRun,
  generatedAt = new Date().toISOString(),
): Record<string, unknown> {
  return {
    metadata: artifactMetadata(DBT_SOURCES_SCHEMA, run.invocationId, generatedAt),
    results: run.results.map((r) => ({
      unique_id: r.uniqueId,
      max_loaded_at: r.maxLoadedAt,
      snapshotted_at: r.snapshottedAt,
      max_loaded_at_time_ago_in_s: r.ageSeconds,
      status: r.status,
      criteria: {
        warn_after: window(r.criteria?.warnAfter),
        error_after: window(r.criteria?.errorAfter),
        filter: r.criteria?.filter ?? null,
      },
      adapter_response: {},
      timing: [
        {
          name: 'execute',
          started_at: r.startedAt,
          completed_at: new Date(Date.parse(r.startedAt) + r.durationMs).toISOString(),
        },
      ],
      thread_id: null,
      execution_time: r.durationMs / 1000,
      ...(r.message ? { message: r.message } : {}),
    })),
    elapsed_time: run.elapsedMs / 1000,
  };
}

/**
 * Writes `sources.json` into `targetDir` under a temp name and renames it, so readers never see half.
 *
 * @example
 * await writeSourcesJson('target', { invocationId: runId, results, elapsedMs });
 */
export async function writeSourcesJson(targetDir: string, run: FreshnessRun): Promise<string> {
  const path = join(targetDir, 'sources.json');
  await writeAtomic(path, `${JSON.stringify(sourcesJson(run), null, 2)}\n`);
  return path;
}
