import { quoteIdent } from '@dataflow/pg';
import type { OnSchemaChange, RelationInfo } from './graph.js';
import type { ColumnInfo } from './plan.js';

/** How an incremental batch's columns differ from its table's. */
export interface SchemaDiff {
  /** In the batch, not in the table. */
  added: ColumnInfo[];
  /** In the table, not in the batch. */
  removed: ColumnInfo[];
  /** In both, with another type (`format_type` text). */
  retyped: Array<{ name: string; from: string; to: string }>;
}

/** What {@link planSchemaChange} decides. */
export type SchemaChangePlan =
  | {
      kind: 'apply';
      /** ALTER TABLE statements, in order (empty when nothing changes or the mode ignores it). */
      statements: string[];
      /** Whether the statements drop or retype columns (dependent views must be dropped and recreated). */
      touchesViews: boolean;
      /** Batch columns to insert into the table once the statements ran. */
      insertColumns: string[];
    }
  | { kind: 'fail'; message: string };

/**
 * The difference between a table's columns and a batch's. Pure.
 *
 * @example
 * diffColumns([{ name: 'id', type: 'integer' }], [{ name: 'id', type: 'bigint' }, { name: 'x', type: 'text' }]);
 * // { added: [{ name: 'x', type: 'text' }], removed: [], retyped: [{ name: 'id', from: 'integer', to: 'bigint' }] }
 */
export function diffColumns(target: readonly ColumnInfo[], batch: readonly ColumnInfo[]): SchemaDiff {
  const inTarget = new Map(target.map((c) => [c.name, c]));
  const inBatch = new Set(batch.map((c) => c.name));
  return {
    added: batch.filter((c) => !inTarget.has(c.name)),
    removed: target.filter((c) => !inBatch.has(c.name)),
    retyped: batch
      .filter((c) => inTarget.has(c.name) && inTarget.get(c.name)?.type !== c.type)
      .map((c) => ({ name: c.name, from: inTarget.get(c.name)?.type as string, to: c.type })),
  };
}

function describe(diff: SchemaDiff): string {
  const parts: string[] = [];
  if (diff.added.length)
    parts.push(`new columns ${diff.added.map((c) => `${c.name} (${c.type})`).join(', ')}`);
  if (diff.removed.length) parts.push(`missing columns ${diff.removed.map((c) => c.name).join(', ')}`);
  if (diff.retyped.length)
    parts.push(`changed types ${diff.retyped.map((c) => `${c.name} ${c.from} → ${c.to}`).join(', ')}`);
  return parts.join('; ');
}

/**
 * dbt's `on_schema_change` for one incremental run: `ignore` inserts the columns both have;
 * `fail` refuses any difference, naming the columns; `append_new_columns` adds the batch's new
 * columns; `sync_all_columns` also drops the table's columns the batch lacks and retypes changed
 * ones. Pure: the statements run in the publish transaction.
 *
 * @example
 * planSchemaChange({ mode: 'append_new_columns', relation, modelName: 'orders', target, batch });
 * // { kind: 'apply', statements: ['alter table "a"."orders" add column "x" text'], touchesViews: false, insertColumns: ['id', 'x'] }
 */
export function planSchemaChange(args: {
  mode: OnSchemaChange;
  relation: RelationInfo;
  modelName: string;
  target: readonly ColumnInfo[];
  batch: readonly ColumnInfo[];
}): SchemaChangePlan {
  const { mode, relation, target, batch } = args;
  const diff = diffColumns(target, batch);
  const changed = diff.added.length + diff.removed.length + diff.retyped.length > 0;
  const both = batch.map((c) => c.name).filter((n) => target.some((t) => t.name === n));
  if (!changed || mode === 'ignore')
    return { kind: 'apply', statements: [], touchesViews: false, insertColumns: both };
  if (mode === 'fail')
    return {
      kind: 'fail',
      message: `incremental model ${args.modelName}: its columns differ from ${relation.sql} (${describe(diff)}) and on_schema_change is fail; rebuild it with --full-refresh or set on_schema_change to append_new_columns or sync_all_columns`,
    };
  const alter = `alter table ${relation.sql}`;
  const statements = diff.added.map((c) => `${alter} add column ${quoteIdent(c.name)} ${c.type}`);
  if (mode === 'append_new_columns')
    return { kind: 'apply', statements, touchesViews: false, insertColumns: batch.map((c) => c.name) };
  for (const c of diff.removed) statements.push(`${alter} drop column ${quoteIdent(c.name)}`);
  for (const c of diff.retyped)
    statements.push(
      `${alter} alter column ${quoteIdent(c.name)} type ${c.to} using ${quoteIdent(c.name)}::${c.to}`,
    );
  return {
    kind: 'apply',
    statements,
    touchesViews: diff.removed.length + diff.retyped.length > 0,
    insertColumns: batch.map((c) => c.name),
  };
}
