import type { RunRef } from './facets.js';
import { stableUuid } from './stable-uuid.js';

/** The orchestrator run a dataflow command belongs to, read from the environment. */
export interface ParentContext {
  /** The immediate parent (the Airflow task run). */
  parent?: RunRef;
  /** The top of the hierarchy (the Airflow DAG run). */
  root?: RunRef;
  /** Environment values that were present but could not be used. */
  warnings: string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parseRef(value: string): RunRef | undefined {
  // `namespace/job/runId`: the job name may itself contain '/', namespace and runId may not.
  const first = value.indexOf('/');
  const last = value.lastIndexOf('/');
  if (first <= 0 || last <= first + 1) return undefined;
  const runId = value.slice(last + 1);
  if (!UUID.test(runId)) return undefined;
  return { namespace: value.slice(0, first), name: value.slice(first + 1, last), runId };
}

/**
 * The parent run from the environment. `OPENLINEAGE_PARENT_ID` (`namespace/job/runId`, what
 * Airflow's OpenLineage provider hands to a task through its `lineage_parent_id` macro) and
 * `OPENLINEAGE_ROOT_PARENT_ID` win; otherwise Airflow's `AIRFLOW_CTX_DAG_ID`,
 * `AIRFLOW_CTX_TASK_ID`, `AIRFLOW_CTX_DAG_RUN_ID` (and `AIRFLOW_CTX_TRY_NUMBER`) name the task
 * `<dag>.<task>` and the DAG run `<dag>` in `OPENLINEAGE_NAMESPACE` (default `default`, as
 * Airflow's), with run ids derived from them: stable across the events of one try, but not the
 * ids Airflow's own OpenLineage listener would send.
 *
 * @example
 * const { parent, root } = parentFromEnv(process.env);
 */
export function parentFromEnv(env: Readonly<Record<string, string | undefined>>): ParentContext {
  const warnings: string[] = [];
  const explicit = env.OPENLINEAGE_PARENT_ID;
  if (explicit) {
    const parent = parseRef(explicit);
    if (parent) {
      const rootValue = env.OPENLINEAGE_ROOT_PARENT_ID;
      const root = rootValue ? parseRef(rootValue) : undefined;
      if (rootValue && !root) warnings.push('OPENLINEAGE_ROOT_PARENT_ID is not namespace/job/uuid; ignored');
      return { parent, ...(root ? { root } : {}), warnings };
    }
    warnings.push('OPENLINEAGE_PARENT_ID is not namespace/job/uuid; ignored');
  }
  const dagId = env.AIRFLOW_CTX_DAG_ID;
  const taskId = env.AIRFLOW_CTX_TASK_ID;
  const dagRunId = env.AIRFLOW_CTX_DAG_RUN_ID;
  if (!dagId || !taskId || !dagRunId) return { warnings };
  const namespace = env.OPENLINEAGE_NAMESPACE || 'default';
  const tryNumber = env.AIRFLOW_CTX_TRY_NUMBER ?? '';
  return {
    parent: {
      namespace,
      name: `${dagId}.${taskId}`,
      runId: stableUuid('airflow', dagId, taskId, dagRunId, tryNumber),
    },
    root: { namespace, name: dagId, runId: stableUuid('airflow', dagId, dagRunId) },
    warnings,
  };
}
