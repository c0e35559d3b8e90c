import type { ModelConfig, OnSchemaChange } from '../graph.js';
import type { ConfigLayer } from '../project-files.js';

const ON_SCHEMA_CHANGE: readonly OnSchemaChange[] = [
  'ignore',
  'fail',
  'append_new_columns',
  'sync_all_columns',
];

function grantsOf(raw: unknown, report: (msg: string) => void): Record<string, string[]> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    report('grants must map privileges to grantees (grants: { select: [reporter] })');
    return undefined;
  }
  const out: Record<string, string[]> = {};
  for (const [privilege, grantees] of Object.entries(raw as Record<string, unknown>)) {
    const list = typeof grantees === 'string' ? [grantees] : grantees;
    if (!Array.isArray(list) || !list.every((g) => typeof g === 'string')) {
      report(`grants.${privilege} must be a grantee or a list of grantees`);
      continue;
    }
    out[privilege.toLowerCase()] = list as string[];
  }
  return out;
}

function persistDocsOf(raw: unknown, report: (msg: string) => void): ModelConfig['persistDocs'] {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    report('persist_docs must be { relation: true|false, columns: true|false }');
    return undefined;
  }
  const { relation, columns } = raw as Record<string, unknown>;
  return { relation: relation === true, columns: columns === true };
}

/**
 * The materialization configs of dbt's `config()` / `+…` keys: `on_schema_change`, `grants`,
 * `persist_docs`. Each invalid value is reported and left out.
 *
 * @example
 * materializationConfig({ on_schema_change: 'append_new_columns', grants: { select: 'reporter' } }, console.error);
 * // { onSchemaChange: 'append_new_columns', grants: { select: ['reporter'] } }
 */
export function materializationConfig(
  raw: ConfigLayer,
  report: (msg: string) => void,
): Pick<ModelConfig, 'onSchemaChange' | 'grants' | 'persistDocs'> {
  const out: Pick<ModelConfig, 'onSchemaChange' | 'grants' | 'persistDocs'> = {};
  const mode = raw.on_schema_change;
  if (mode !== undefined && mode !== null) {
    if (ON_SCHEMA_CHANGE.includes(mode as OnSchemaChange)) out.onSchemaChange = mode as OnSchemaChange;
    else report(`unknown on_schema_change ${JSON.stringify(mode)} (expected ${ON_SCHEMA_CHANGE.join(', ')})`);
  }
  const grants = grantsOf(raw.grants, report);
  if (grants) out.grants = grants;
  const persistDocs = persistDocsOf(raw.persist_docs, report);
  if (persistDocs) out.persistDocs = persistDocs;
  return out;
}
