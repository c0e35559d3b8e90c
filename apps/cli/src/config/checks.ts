import { CliError } from '../errors.js';
import type { ProjectConfig, SourceConfig } from './schema.js';

/** The raw table a source loads into: `table:`, else `raw_<source>`. */
export const tableOf = (name: string, source: SourceConfig): string => source.table ?? `raw_${name}`;

/**
 * Rules that span keys, which the schema cannot say: each source loads its own table (two sources
 * replacing the same partition of one table would delete each other's rows), `merge` needs
 * `primary_key`, and an `incremental` source appends or merges. Pure; the first problem is a one-line CliError naming the file and key (exit 2).
 *
 * @example
 * checkConfig(config, 'dataflow.yml'); // throws "dataflow.yml: sources.b.table: raw_a is also the table of source a; …"
 */
export function checkConfig(config: ProjectConfig, file: string): void {
  const owner = new Map<string, string>();
  for (const [name, source] of Object.entries(config.sources)) {
    const table = tableOf(name, source);
    const other = owner.get(table);
    if (other !== undefined) {
      throw new CliError(
        'CONFIG_INVALID',
        `${file}: sources.${name}.table: ${table} is also the table of source ${other}; sources ${other} and ${name} would replace each other's rows (give each source its own table)`,
      );
    }
    owner.set(table, name);
    if (source.incremental && source.disposition !== 'append' && source.disposition !== 'merge') {
      throw new CliError(
        'CONFIG_INVALID',
        `${file}: sources.${name}.disposition: an incremental source loads with append or merge (each run lands a window of changes; ${source.disposition} would replace the windows before it)`,
      );
    }
    if (source.disposition === 'merge' && !source.primary_key?.length) {
      throw new CliError(
        'CONFIG_INVALID',
        `${file}: sources.${name}.primary_key: required with disposition merge (the key rows are merged on)`,
      );
    }
  }
}
