import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type PreviousResults, parseRunResults } from '@dataflow/modeling';
import { z } from 'zod';
import { CliError } from '../errors.js';
import type { RunRecordArgs } from './run-record.js';

// Here, not beside `runRecordArgs`: only `retry` reads a stored record, and the pipeline commands
// that write one must not load zod.
const runRecordArgsSchema = z.object({
  which: z.string(),
  select: z.array(z.string()).default([]),
  exclude: z.array(z.string()).default([]),
  sources: z.array(z.string()).default([]),
  threads: z.number().int().positive().optional(),
  fail_fast: z.boolean().optional(),
  full_refresh: z.boolean().default(false),
  target_schema: z.string().optional(),
  state: z.string().optional(),
  defer: z.boolean().default(false),
  favor_state: z.boolean().default(false),
  days: z.array(z.string()).default([]),
  completed_days: z.array(z.string()).default([]),
}) satisfies z.ZodType<RunRecordArgs>;

/**
 * Reads `<dir>/run_results.json` for `dataflow retry`: the invocation (`args`) and the node
 * statuses; `undefined` when there is no such file. One that is not JSON or was not written by a
 * dataflow pipeline command is a usage error naming the file.
 *
 * @example
 * const previous = await readRunRecord('target');
 */
export async function readRunRecord(
  dir: string,
): Promise<{ record: RunRecordArgs; results: PreviousResults } | undefined> {
  const file = join(dir, 'run_results.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError('USAGE', `${file}: cannot be read (${(error as Error).message})`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliError('USAGE', `${file}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  const args = runRecordArgsSchema.safeParse((json as { args?: unknown } | null)?.args);
  if (!args.success) {
    const issue = args.error.issues[0];
    throw new CliError(
      'USAGE',
      `${file}: args.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'} (not written by a dataflow pipeline command)`,
    );
  }
  return { record: args.data, results: parseRunResults(json, file) };
}
