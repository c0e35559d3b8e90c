/** The `dataflow airflow` flags that shape the generated file, as parsed. */
export interface AirflowFlags {
  project?: string | undefined;
  out?: string | undefined;
  'dag-id'?: string | undefined;
  schedule?: string | undefined;
  'start-date'?: string | undefined;
  'worker-project'?: string | undefined;
  'target-schema'?: string | undefined;
  select: string[];
  exclude: string[];
}

const SAFE_ARG = /^[A-Za-z0-9_@%+=:,./-]+$/;
const shellWord = (value: string) => (SAFE_ARG.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`);

/**
 * Canonical form of the generating command, for the file header: flags in a fixed order,
 * `--check` and `--log-level` left out, values shell-quoted when needed. Pure.
 *
 * @example
 * airflowCommandLine({ project: 'shop', select: ['tag:daily'], exclude: [] }); // 'dataflow airflow --project shop --select tag:daily'
 */
export function airflowCommandLine(flags: AirflowFlags): string {
  const parts = ['dataflow airflow'];
  const single = [
    'project',
    'out',
    'dag-id',
    'schedule',
    'start-date',
    'worker-project',
    'target-schema',
  ] as const;
  for (const name of single) {
    const value = flags[name];
    if (value !== undefined) parts.push(`--${name} ${shellWord(value)}`);
  }
  for (const name of ['select', 'exclude'] as const)
    for (const value of flags[name]) parts.push(`--${name} ${shellWord(value)}`);
  return parts.join(' ');
}
