import type { ArgsDef } from 'citty';
import { didYouMean } from './config.js';
import { CliError } from './errors.js';

/** Flags every project command accepts. */
export const projectArgs = {
  project: {
    type: 'string',
    description: 'Project directory (default: current directory)',
    valueHint: 'DIR',
  },
  'log-level': {
    type: 'string',
    description: 'trace|debug|info|warn|error (default info)',
    valueHint: 'LEVEL',
  },
} as const satisfies ArgsDef;

/** `--date` or `--start`/`--end`. */
export const intervalArgs = {
  date: {
    type: 'string',
    description: 'Logical date YYYY-MM-DD (Airflow: {{ ds }})',
    valueHint: 'YYYY-MM-DD',
  },
  start: { type: 'string', description: 'First day of a range (inclusive)', valueHint: 'YYYY-MM-DD' },
  end: { type: 'string', description: 'End of a range (exclusive)', valueHint: 'YYYY-MM-DD' },
} as const satisfies ArgsDef;

export const sourceArgs = {
  source: {
    type: 'string',
    description: 'Only this source (repeatable, or comma-separated)',
    valueHint: 'NAME',
  },
} as const satisfies ArgsDef;

export const buildArgs = {
  select: { type: 'string', description: 'Node selection, dbt syntax (repeatable)', valueHint: 'SPEC' },
  exclude: { type: 'string', description: 'Nodes to leave out, dbt syntax (repeatable)', valueHint: 'SPEC' },
  threads: { type: 'string', description: 'Concurrent nodes (default: build.threads or 4)', valueHint: 'N' },
  'fail-fast': { type: 'boolean', description: 'Stop at the first failing node' },
  'full-refresh': { type: 'boolean', description: 'Rebuild incremental models from scratch' },
  'target-schema': {
    type: 'string',
    description: 'Build models into this schema (default warehouse.schema)',
    valueHint: 'SCHEMA',
  },
} as const satisfies ArgsDef;

/**
 * All values of a repeatable flag (`--source a --source b`, `--source=a,b`), in order.
 *
 * @example
 * repeatable(['--source', 'a', '--source=b,c'], 'source'); // ['a', 'b', 'c']
 */
export function repeatable(rawArgs: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i] ?? '';
    if (arg === '--') break;
    let value: string | undefined;
    if (arg === `--${name}`) value = rawArgs[++i];
    else if (arg.startsWith(`--${name}=`)) value = arg.slice(name.length + 3);
    if (value === undefined) continue;
    out.push(
      ...value
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean),
    );
  }
  return out;
}

/** Rejects flags the command does not define, with a "did you mean" hint (exit 2). */
export function assertKnownFlags(command: string, rawArgs: readonly string[], args: ArgsDef): void {
  const names = new Set<string>(['help', 'h']);
  for (const [name, def] of Object.entries(args)) {
    names.add(name);
    const alias = (def as { alias?: string | string[] }).alias;
    for (const a of Array.isArray(alias) ? alias : alias ? [alias] : []) names.add(a);
  }
  for (const arg of rawArgs) {
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-') continue;
    const name = arg.replace(/^--?/, '').split('=')[0] ?? '';
    const bare = name.startsWith('no-') ? name.slice(3) : name;
    if (names.has(name) || names.has(bare)) continue;
    const hint = didYouMean(
      name,
      [...names].filter((n) => n.length > 1),
    );
    throw new CliError(
      'USAGE',
      `dataflow ${command}: unknown option --${name}${hint ? ` (did you mean --${hint}?)` : ''}`,
    );
  }
}

/** Parses `--threads`. */
export function parseThreads(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new CliError('USAGE', `--threads: expected an integer 1-64, got ${JSON.stringify(value)}`);
  return n;
}
