import { CliError } from './errors.js';
import { resolveDays } from './interval.js';

// Argument checks without zod: the hot commands (`load`, `ingest`, `run`) parse their flags with
// these, so a process that only loads data never pays zod's start-up. The zod schemas of the other
// commands (`arg-schemas.ts`) reuse the same rules and messages.

/** Flags as `parseFlags` returns them plus positionals as `_`, before a command types them. */
export type FlagValues = Readonly<Record<string, unknown>>;

export const IDENTIFIER_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const IDENTIFIER_MESSAGE = 'expected a plain identifier ([A-Za-z_][A-Za-z0-9_]*)';

/** A usage error about one flag: `--name: message` (exit 2), the form the zod schemas' issues take. */
export function flagError(name: string, message: string): CliError {
  return new CliError('USAGE', `--${name}: ${message}`);
}

/** An optional string flag; `nonEmpty` names what an empty value should have been. */
export function optionalString(flags: FlagValues, name: string, nonEmpty?: string): string | undefined {
  const value = flags[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw flagError(name, 'expected a value');
  if (nonEmpty !== undefined && value.length === 0) throw flagError(name, nonEmpty);
  return value;
}

/** An optional boolean flag. */
export function optionalBoolean(flags: FlagValues, name: string): boolean | undefined {
  const value = flags[name];
  if (value === undefined || typeof value === 'boolean') return value;
  throw flagError(name, 'does not take a value');
}

/** A repeatable string flag (`--source a --source b`). */
export function stringList(flags: FlagValues, name: string): string[] | undefined {
  const value = flags[name];
  if (value === undefined) return undefined;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  throw flagError(name, 'expected a value');
}

/** `--threads`: an integer 1-64; the message of an invalid value, else the number. */
export function threadsValue(value: string): number | { message: string } {
  const n = Number(value);
  if (/^\d+$/.test(value) && n >= 1 && n <= 64) return n;
  return { message: `expected an integer 1-64, got ${JSON.stringify(value)}` };
}

/** Days of `--date` or `--start`/`--end`; throws CliError USAGE on a bad combination or date. */
export const daysOf = (v: {
  date?: string | undefined;
  start?: string | undefined;
  end?: string | undefined;
}) =>
  resolveDays({
    ...(v.date !== undefined ? { date: v.date } : {}),
    ...(v.start !== undefined ? { start: v.start } : {}),
    ...(v.end !== undefined ? { end: v.end } : {}),
  });

/** Checks `--state` / `--defer` / `--favor-state` together; throws CliError USAGE. */
export function stateOptionsOf(v: {
  state?: string | undefined;
  defer?: boolean | undefined;
  'favor-state'?: boolean | undefined;
}): { state?: string; defer: boolean; favorState: boolean } {
  if (v['favor-state'] && !v.defer) throw new CliError('USAGE', '--favor-state needs --defer');
  if (v.defer && v.state === undefined) throw new CliError('USAGE', '--defer needs --state DIR');
  return {
    ...(v.state !== undefined ? { state: v.state } : {}),
    defer: v.defer === true,
    favorState: v['favor-state'] === true,
  };
}
