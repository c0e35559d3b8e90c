import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type PreviousResults, parseRunResults } from '@dataflow/modeling';
import { CliError } from '../errors.js';
import { type RunRecordArgs, runRecordArgsSchema } from './run-record.js';

/**
 * Reads `<dir>/run_results.json` for `dataflow retry`: the invocation (`args`) and the node
 * statuses. A missing file or one not written by a dataflow pipeline command is a usage error
 * naming the file.
 *
 * @example
 * const { record, results } = await readRunRecord('target');
 */
export async function readRunRecord(
  dir: string,
): Promise<{ record: RunRecordArgs; results: PreviousResults }> {
  const file = join(dir, 'run_results.json');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CliError(
      'USAGE',
      missing
        ? `${file}: not found; nothing to retry (run a pipeline command first)`
        : `${file}: not valid JSON (${(error as Error).message})`,
      { cause: error },
    );
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
