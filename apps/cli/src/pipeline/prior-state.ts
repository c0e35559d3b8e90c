import { resolve } from 'node:path';
import {
  applyDefer,
  type BuildPlan,
  type CompiledGraph,
  chooseDeferred,
  type DeferredRelation,
  deferCandidates,
  existingRelations,
  graphChecksums,
  type NodeChecksums,
  type PreviousResults,
  readPreviousResults,
  readStateManifest,
  type SelectionState,
  type StateManifest,
} from '@dataflow/modeling';
import type { RunLogger } from '@dataflow/runlog';
import type pg from 'pg';
import type { LoadedProject } from '../config/load.js';
import { targetDirOf } from './target-dir.js';

/** A previous run's artifacts, read once per command before this run overwrites `target/`. */
export interface PriorState {
  /** `--state DIR`'s manifest.json: for `state:` selectors and `--defer`. */
  previous?: StateManifest;
  /** run_results.json of `--state DIR`, else of `target/`: for `result:` selectors. */
  results?: PreviousResults;
  defer: boolean;
  favorState: boolean;
}

export { targetDirOf };

const usesResults = (specs: readonly string[] | undefined) =>
  (specs ?? []).some((s) => /(^|[\s,@+])result:/.test(s));

/**
 * Reads what the flags ask for: `--state DIR`'s manifest (required there), and a previous
 * run_results.json only when a `result:` selector needs it. Throws ModelingError STATE_INVALID
 * (exit 2) for a missing or malformed file.
 *
 * @example
 * const prior = await loadPriorState(project, cwd, { state: 'prod-artifacts', select: ['state:modified+'] });
 */
export async function loadPriorState(
  project: LoadedProject,
  cwd: string,
  flags: {
    state?: string | undefined;
    defer?: boolean | undefined;
    favorState?: boolean | undefined;
    previousResults?: PreviousResults | undefined;
    select?: readonly string[] | undefined;
    exclude?: readonly string[] | undefined;
  },
): Promise<PriorState> {
  const stateDir = flags.state !== undefined ? resolve(cwd, flags.state) : undefined;
  const previous = stateDir ? await readStateManifest(stateDir) : undefined;
  const results =
    flags.previousResults ??
    (usesResults(flags.select) || usesResults(flags.exclude)
      ? await readPreviousResults(stateDir ?? targetDirOf(project))
      : undefined);
  return {
    ...(previous ? { previous } : {}),
    ...(results ? { results } : {}),
    defer: flags.defer === true,
    favorState: flags.favorState === true,
  };
}

/**
 * What selection compares against for this graph: the prior state with the graph's checksums
 * (`current`, else computed here: seed files hashed) when there is a previous manifest.
 *
 * @example
 * const state = await selectionStateFor(graph, prior);
 */
export async function selectionStateFor(
  graph: CompiledGraph,
  prior: PriorState,
  current?: Record<string, NodeChecksums>,
): Promise<SelectionState> {
  return {
    ...(prior.previous
      ? { previous: prior.previous, current: current ?? (await graphChecksums(graph)) }
      : {}),
    ...(prior.results ? { results: prior.results } : {}),
  };
}

/**
 * `--defer` as dbt ≥ 1.5 does it: each unselected parent of the build that the previous manifest
 * knows is read from the previous relation when it is missing in this target (always with
 * `--favor-state`). Returns the graph to build (unchanged without `--defer`).
 *
 * @example
 * const toBuild = await deferGraph(pool, graph, plan, prior, logger);
 */
export async function deferGraph(
  pool: pg.Pool,
  graph: CompiledGraph,
  plan: BuildPlan,
  prior: PriorState,
  logger: RunLogger,
): Promise<{ graph: CompiledGraph; deferred: DeferredRelation[] }> {
  if (!prior.defer || !prior.previous) return { graph, deferred: [] };
  const selected = [...plan.order, ...Object.values(plan.audits).flat()];
  const candidates = deferCandidates(graph, selected, prior.previous);
  const existing = prior.favorState
    ? new Set<string>()
    : await existingRelations(
        pool,
        candidates.map((c) => c.from),
      );
  const deferred = chooseDeferred(candidates, existing, prior.favorState);
  for (const d of deferred)
    logger.info(
      { node: d.uniqueId, from: d.from.sql, to: d.to.sql },
      'deferred: reading the --state relation',
    );
  return { graph: applyDefer(graph, selected, deferred), deferred };
}
