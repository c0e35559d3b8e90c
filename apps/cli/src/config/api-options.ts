import { apiSourceOptions, type IngestApiOptions } from '@dataflow/ingest';
import type { ApiSourceConfig } from './schema.js';

// Apart from `library-options.ts`: the API source mapping is ingest's zod half, which a project
// of CSV sources never loads (issue 13).

/**
 * The run-independent part of `ingestApi`'s options for an API source (the mapping is ingest's);
 * the source's `primary_key` is the cursor's boundary key unless `incremental:` names one.
 */
export function apiIngestOptions(
  name: string,
  source: ApiSourceConfig,
): Omit<IngestApiOptions, 'interval' | 'store' | 'runId' | 'signal' | 'logger'> {
  const options = apiSourceOptions(source);
  const { incremental } = options;
  const boundaryKey = incremental?.primaryKey ?? source.primary_key;
  return {
    source: name,
    ...options,
    ...(incremental
      ? { incremental: { ...incremental, ...(boundaryKey?.length ? { primaryKey: [...boundaryKey] } : {}) } }
      : {}),
  };
}
