import type { Palette } from './colors.js';
import { type StatusWord, statusLine } from './status-line.js';
import { formatCount, formatSeconds } from './units.js';

/** What a node's result line shows (a modeling NodeResult plus its place and materialization). */
export interface NodeLineInput {
  index: number;
  total: number;
  resourceType: 'model' | 'seed' | 'snapshot' | 'test' | 'unit_test';
  status: 'success' | 'error' | 'skipped' | 'pass' | 'warn' | 'fail';
  name: string;
  /** `schema.identifier` (models, seeds, snapshots). */
  relation?: string | undefined;
  /** `view`, `table`, `incremental`, … (models). */
  materialized?: string | undefined;
  rows?: number | undefined;
  durationMs: number;
  /** Tests: failing rows. */
  failures?: number | undefined;
  /** What the materialization did (`merge`, `append`, …). */
  action?: string | undefined;
}

const isTest = (n: NodeLineInput) => n.resourceType === 'test' || n.resourceType === 'unit_test';

function wordOf(n: NodeLineInput): StatusWord {
  if (n.status === 'skipped') return 'SKIP';
  if (n.status === 'error') return 'ERROR';
  if (n.status === 'warn') return 'WARN';
  if (n.status === 'fail') return 'FAIL';
  return isTest(n) ? 'PASS' : 'OK';
}

/** What was built, in dbt's words (`created table model a.b`, `loaded seed file a.b`). */
function builtText(n: NodeLineInput): string {
  const relation = n.relation ?? n.name;
  if (n.resourceType === 'seed') return `seed file ${relation}`;
  if (n.resourceType === 'snapshot') return `snapshot ${relation}`;
  return `${n.materialized ?? ''} model ${relation}`.trim();
}

/** The bracket of a successful model, seed or snapshot: the statement and its row count. */
function builtResult(n: NodeLineInput): string {
  if (n.resourceType === 'model' && n.materialized === 'view') return 'CREATE VIEW';
  if (n.rows === undefined) return 'OK';
  const rows = formatCount(n.rows);
  if (n.resourceType === 'model' && n.materialized === 'incremental')
    return n.action === 'merge' ? `MERGE ${rows}` : `INSERT ${rows}`;
  return n.resourceType === 'model' ? `SELECT ${rows}` : `INSERT ${rows}`;
}

/**
 * One node's result line as dbt prints it. Pure.
 *
 * @example
 * nodeLine({ index: 3, total: 8, resourceType: 'model', status: 'success', name: 'fct_orders',
 *   relation: 'analytics.fct_orders', materialized: 'table', rows: 1000, durationMs: 420 }, palette(false));
 * // '3 of 8 OK created table model analytics.fct_orders ..... [SELECT 1,000 in 0.42s]'
 */
export function nodeLine(n: NodeLineInput, colors: Palette): string {
  const word = wordOf(n);
  const took = formatSeconds(n.durationMs);
  const place = { index: n.index, total: n.total, word };
  if (isTest(n)) {
    const what = n.resourceType === 'unit_test' ? `unit test ${n.name}` : n.name;
    if (word === 'SKIP') return statusLine({ ...place, text: `test ${what}`, result: 'SKIP' }, colors);
    const count = (word === 'FAIL' || word === 'WARN') && n.failures !== undefined ? ` ${n.failures}` : '';
    return statusLine({ ...place, text: `${what}`, result: `${word}${count} in ${took}` }, colors);
  }
  if (word === 'SKIP')
    return statusLine({ ...place, text: `relation ${n.relation ?? n.name}`, result: 'SKIP' }, colors);
  if (word === 'ERROR')
    return statusLine({ ...place, text: `creating ${builtText(n)}`, result: `ERROR in ${took}` }, colors);
  const text =
    n.resourceType === 'snapshot'
      ? `snapshotted ${n.relation ?? n.name}`
      : `${n.resourceType === 'seed' ? 'loaded' : 'created'} ${builtText(n)}`;
  return statusLine({ ...place, text, result: `${builtResult(n)} in ${took}` }, colors);
}
