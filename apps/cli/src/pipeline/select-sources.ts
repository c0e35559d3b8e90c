import type { ProjectConfig, SourceConfig } from '../config/schema.js';
import { hintFor } from '../did-you-mean.js';
import { CliError } from '../errors.js';

/**
 * The sources a command works on: every source, or those named by `--source`. An unknown name is
 * a usage error (exit 2) with a "did you mean": a typo must not turn into a skipped task.
 *
 * @example
 * selectSources(config, ['orders']); // [['orders', { type: 'csv', … }]]
 */
export function selectSources(
  config: ProjectConfig,
  requested: readonly string[],
): Array<[string, SourceConfig]> {
  const all = Object.entries(config.sources);
  if (requested.length === 0) return all;
  const known = Object.keys(config.sources);
  for (const name of requested) {
    if (known.includes(name)) continue;
    throw new CliError(
      'USAGE',
      `--source ${name}: no such source${hintFor(name, known)}; sources: ${known.join(', ') || '(none)'}`,
    );
  }
  return all.filter(([name]) => requested.includes(name));
}
