/**
 * Test helper: `table` with each row's load metadata joined back in (the documented join of
 * `_load_id` to `_dataflow_loads`): `_run_id`, `_source_files`, and `_partition` as text.
 */
export function withLoads(table: string): string {
  return (
    `(SELECT t.*, l.run_id AS _run_id, l.source_files AS _source_files, t._partition::text AS _day ` +
    `FROM ${table} t JOIN _dataflow_loads l ON l.load_id = t._load_id) r`
  );
}
