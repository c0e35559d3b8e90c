import type { CliLineage, OpenLineageInput } from './lineage.js';

/** The session's lineage when nothing configures it: no event, no import of @dataflow/lineage. */
export const LINEAGE_OFF: CliLineage = {
  enabled: false,
  run: async () => undefined,
  job: async () => undefined,
};

/**
 * Whether lineage may be on: a `lineage:` key in the config, or any non-empty `OPENLINEAGE_*`
 * variable (the library then decides, `OPENLINEAGE_DISABLED` included).
 *
 * @example
 * lineageRequested(undefined, { OPENLINEAGE_URL: 'http://marquez:5000' }); // true
 */
export function lineageRequested(
  config: unknown,
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  return config !== undefined || Object.entries(env).some(([k, v]) => k.startsWith('OPENLINEAGE_') && !!v);
}

/**
 * {@link openLineage} behind an import: a project without lineage never loads @dataflow/lineage
 * (start-up time of every `load` / `ingest`, issue 13).
 *
 * @example
 * const lineage = await openLineageIfRequested({ config: config.lineage, env, projectDir, project: 'shop', command: 'load', runId, logger });
 */
export async function openLineageIfRequested(input: OpenLineageInput): Promise<CliLineage> {
  if (!lineageRequested(input.config, input.env)) return LINEAGE_OFF;
  const { openLineage } = await import('./lineage.js');
  return openLineage(input);
}
