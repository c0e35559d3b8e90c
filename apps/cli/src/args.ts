import { parseArgs } from 'node:util';
import { didYouMean } from './did-you-mean.js';
import { CliError } from './errors.js';

/** One flag of a command: how it parses, and how `--help` shows it. */
export interface FlagDef {
  type: 'string' | 'boolean';
  /** Repeatable: every occurrence is kept, in order (`--select a --select b`). */
  multiple?: boolean;
  description: string;
  valueHint?: string;
}

/** A command's flags by name (kebab-case, without `--`). */
export type FlagDefs = Readonly<Record<string, FlagDef>>;

/** A positional argument (only `init DIR` has one). */
export interface PositionalDef {
  name: string;
  description: string;
  required: boolean;
}

/** Flags as parsed, before the command's zod schema types them. */
export type RawFlags = Record<string, string | boolean | string[] | undefined>;

/** `--project` and `--log-level`: every command that reads a project. */
export const projectFlags = {
  project: {
    type: 'string',
    description: 'Project directory (default: current directory)',
    valueHint: 'DIR',
  },
  'log-level': {
    type: 'string',
    description: 'trace|debug|info|warn|error|silent (default info; warn with text output)',
    valueHint: 'LEVEL',
  },
  'log-format': {
    type: 'string',
    description: 'text|json (default text on a terminal, json lines otherwise)',
    valueHint: 'FORMAT',
  },
} as const satisfies FlagDefs;

/** `--date` or `--start`/`--end`. */
export const intervalFlags = {
  date: {
    type: 'string',
    description: 'Logical date YYYY-MM-DD (Airflow: {{ ds }})',
    valueHint: 'YYYY-MM-DD',
  },
  start: { type: 'string', description: 'First day of a range (inclusive)', valueHint: 'YYYY-MM-DD' },
  end: { type: 'string', description: 'End of a range (exclusive)', valueHint: 'YYYY-MM-DD' },
} as const satisfies FlagDefs;

export const sourceFlags = {
  source: {
    type: 'string',
    multiple: true,
    description: 'Only these sources (comma-separated too; empty = every source)',
    valueHint: 'NAME',
  },
} as const satisfies FlagDefs;

/** dbt selection: a value is one spec (`a,b` is an intersection); repeats and spaces are unions. */
export const selectionFlags = {
  select: {
    type: 'string',
    multiple: true,
    description: "Nodes to run, dbt syntax: 'a b' or repeated = union, 'a,b' = intersection",
    valueHint: 'SPEC',
  },
  exclude: {
    type: 'string',
    multiple: true,
    description: 'Nodes to leave out, dbt syntax (as --select)',
    valueHint: 'SPEC',
  },
} as const satisfies FlagDefs;

export const targetSchemaFlag = {
  'target-schema': {
    type: 'string',
    description: 'Build models into this schema (default warehouse.schema)',
    valueHint: 'SCHEMA',
  },
} as const satisfies FlagDefs;

/** Slim CI: a previous run's artifacts to compare (`state:`), defer to, or take results from (`result:`). */
export const stateFlags = {
  state: {
    type: 'string',
    description:
      'Directory holding a previous manifest.json (state:modified, --defer) and run_results.json (result:)',
    valueHint: 'DIR',
  },
  defer: {
    type: 'boolean',
    description: 'Read unselected parents missing in this target from the --state relations',
  },
  'favor-state': {
    type: 'boolean',
    description: 'With --defer: read unselected parents from --state even when they exist here',
  },
} as const satisfies FlagDefs;

export const buildFlags = {
  ...selectionFlags,
  ...stateFlags,
  threads: {
    type: 'string',
    description: 'Concurrent nodes, 1-64 (default: build.threads or 4)',
    valueHint: 'N',
  },
  'fail-fast': { type: 'boolean', description: 'Stop at the first failing node' },
  'full-refresh': { type: 'boolean', description: 'Rebuild incremental models from scratch' },
  ...targetSchemaFlag,
} as const satisfies FlagDefs;

/** Rejects flags the command does not define, with a "did you mean" hint (exit 2). */
export function assertKnownFlags(rawArgs: readonly string[], flags: FlagDefs): void {
  const names = new Set<string>(['help', 'h', ...Object.keys(flags)]);
  for (const arg of rawArgs) {
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-') continue;
    const name = arg.replace(/^--?/, '').split('=')[0] ?? '';
    if (names.has(name)) continue;
    const hint = didYouMean(
      name,
      [...names].filter((n) => n.length > 1),
    );
    throw new CliError('USAGE', `unknown option --${name}${hint ? ` (did you mean --${hint}?)` : ''}`);
  }
}

/**
 * Parses a command's argv once: unknown flags (with a hint), missing values and stray positionals
 * are usage errors (exit 2). Values come back untyped; the command's zod schema types them.
 *
 * @example
 * parseFlags(['--date', '2026-05-01', '--source', 'a'], { ...intervalFlags, ...sourceFlags });
 * // { flags: { date: '2026-05-01', source: ['a'] }, positionals: [] }
 */
export function parseFlags(
  rawArgs: readonly string[],
  flags: FlagDefs,
  positionals: readonly PositionalDef[] = [],
): { flags: RawFlags; positionals: string[] } {
  assertKnownFlags(rawArgs, flags);
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, def] of Object.entries(flags))
    options[name] = { type: def.type, ...(def.multiple ? { multiple: true } : {}) };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...rawArgs], options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new CliError('USAGE', usageMessage(error), { cause: error });
  }
  if (parsed.positionals.length > positionals.length) {
    throw new CliError(
      'USAGE',
      `unexpected argument ${JSON.stringify(parsed.positionals[positionals.length])}`,
    );
  }
  const missing = positionals.slice(parsed.positionals.length).find((p) => p.required);
  if (missing) throw new CliError('USAGE', `missing argument ${missing.name.toUpperCase()}`);
  const { help: _help, ...values } = parsed.values;
  return { flags: values as RawFlags, positionals: parsed.positionals };
}

/** node:util's messages, in this CLI's words (`--date` needs a value, not "argument missing"). */
function usageMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const needsValue = /Option '(-\w, )?(--[\w-]+) <value>' argument missing/.exec(message);
  if (needsValue) return `${needsValue[2]} needs a value`;
  const notBoolean = /Option '(-\w, )?(--[\w-]+)' does not take an argument/.exec(message);
  if (notBoolean) return `${notBoolean[2]} does not take a value`;
  return message.split('\n')[0] ?? message;
}

/**
 * `--source` values as a list: repeated flags and commas both separate names, blanks are dropped,
 * so an empty `--source ''` (an Airflow template that rendered empty) selects every source.
 *
 * @example
 * sourceList(['orders,customers', 'rates']); // ['orders', 'customers', 'rates']
 */
export function sourceList(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

/**
 * `--select` / `--exclude` values as dbt selector specs: a value is never split on commas (`a,b`
 * is dbt's intersection, which modeling's selector grammar reads); spaces inside one value and
 * repeated flags are unions (modeling splits on spaces). Blank values are dropped.
 *
 * @example
 * selectorList(['stg_orders,tag:nope', 'fct_orders']); // ['stg_orders,tag:nope', 'fct_orders']
 */
export function selectorList(values: readonly string[] | undefined): string[] {
  return (values ?? []).map((v) => v.trim()).filter(Boolean);
}
