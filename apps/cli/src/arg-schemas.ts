import { z } from 'zod';
import { selectorList, sourceList } from './args.js';
import { CliError } from './errors.js';
import { isDay, resolveDays } from './interval.js';

// zod pieces of the commands' argument schemas: flags arrive as node:util parses them (strings,
// booleans, string arrays for repeatable flags) and leave typed.

/** `--project`, `--log-level` (the lifecycle validates the level itself). */
export const projectArgFields = {
  project: z.string().min(1, 'expected a directory').optional(),
  'log-level': z.string().optional(),
};

/** `--date` / `--start` / `--end` → the days to run (`[]` when none is given). */
export const intervalArgFields = {
  date: z.string().optional(),
  start: z.string().optional(),
  end: z.string().optional(),
};

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

export const sourcesArg = z.array(z.string()).optional().transform(sourceList);
export const selectorsArg = z.array(z.string()).optional().transform(selectorList);

export const threadsArg = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (/^\d+$/.test(value) && n >= 1 && n <= 64) return n;
    ctx.addIssue({ code: 'custom', message: `expected an integer 1-64, got ${JSON.stringify(value)}` });
    return z.NEVER;
  });

export const identifierArg = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a plain identifier ([A-Za-z_][A-Za-z0-9_]*)');

export const dateArg = z.string().refine(isDay, 'expected a date YYYY-MM-DD');

/** `--state DIR`, `--defer`, `--favor-state`: `--defer` and `--favor-state` need `--state`. */
export const stateArgFields = {
  state: z.string().min(1, 'expected a directory').optional(),
  defer: z.boolean().optional(),
  'favor-state': z.boolean().optional(),
};

/** Checks the combination of {@link stateArgFields}; throws CliError USAGE. */
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
