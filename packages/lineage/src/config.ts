import { z } from 'zod';
import { LineageError } from './errors.js';

/** Which transport sends events; `none` turns lineage off. */
export type TransportKind = 'http' | 'file' | 'console' | 'none';

/**
 * The `lineage:` object of a project config (snake_case keys like the rest of `dataflow.yml`).
 *
 * @example
 * lineageConfigSchema.parse({ transport: 'http', url: 'http://marquez:5000', timeout_ms: 3000 });
 */
export const lineageConfigSchema = z.strictObject({
  /** Default: `http` when a URL is set, `file` when a file is set, else `none`. */
  transport: z.enum(['http', 'file', 'console', 'none']).optional(),
  /** The backend's base URL (Marquez: `http://host:5000`). */
  url: z.string().optional(),
  /** Path under `url` events are posted to. */
  endpoint: z.string().optional(),
  /** Sent as `Authorization: Bearer <key>`; never logged. */
  api_key: z.string().optional(),
  timeout_ms: z.int().positive().max(120_000).optional(),
  /** Further attempts after a network error, a 429 or a 5xx (a timeout is not retried). */
  retries: z.int().min(0).max(5).optional(),
  /** NDJSON file the `file` transport appends to. */
  file: z.string().optional(),
  /** The job namespace. */
  namespace: z.string().min(1).optional(),
});

/** The `lineage:` config as written. */
export type LineageConfigInput = z.infer<typeof lineageConfigSchema>;

/** Where and how events go, after config and environment are combined. */
export type ResolvedLineageConfig =
  | { transport: 'none'; namespace: string }
  | {
      transport: 'http';
      namespace: string;
      url: string;
      endpoint: string;
      apiKey?: string | undefined;
      timeoutMs: number;
      retries: number;
    }
  | { transport: 'file'; namespace: string; file: string }
  | { transport: 'console'; namespace: string };

/** Defaults, as the OpenLineage clients have them (5 s timeout, `api/v1/lineage`). */
export const LINEAGE_DEFAULTS = {
  namespace: 'dataflow',
  endpoint: 'api/v1/lineage',
  timeoutMs: 5000,
  retries: 2,
} as const;

const TRANSPORT_ENV = 'OPENLINEAGE__TRANSPORT__TYPE';

/**
 * Combines the `lineage:` config with the OpenLineage environment: a value in the config wins,
 * the env fills what it leaves out (`OPENLINEAGE_URL`, `OPENLINEAGE_ENDPOINT`,
 * `OPENLINEAGE_API_KEY`, `OPENLINEAGE_NAMESPACE`, `OPENLINEAGE__TRANSPORT__TYPE`,
 * `OPENLINEAGE__TRANSPORT__LOG_FILE_PATH`); `OPENLINEAGE_DISABLED=true` turns it off.
 * Throws `LineageError` `BAD_CONFIG` naming the key at fault.
 *
 * @example
 * resolveLineageConfig(undefined, { OPENLINEAGE_URL: 'http://marquez:5000' });
 * // { transport: 'http', url: 'http://marquez:5000', endpoint: 'api/v1/lineage', … }
 */
export function resolveLineageConfig(
  config: LineageConfigInput | undefined,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedLineageConfig {
  const parsed = lineageConfigSchema.safeParse(config ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path.length ? `lineage.${issue.path.join('.')}` : 'lineage';
    throw new LineageError('BAD_CONFIG', `${key}: ${issue?.message}`, {
      cause: parsed.error,
    });
  }
  const c = parsed.data;
  const namespace = c.namespace ?? (env.OPENLINEAGE_NAMESPACE || LINEAGE_DEFAULTS.namespace);
  if (/^(1|true|yes)$/i.test(env.OPENLINEAGE_DISABLED ?? '')) return { transport: 'none', namespace };
  const url = c.url ?? (env.OPENLINEAGE_URL || undefined);
  const file = c.file ?? (env.OPENLINEAGE__TRANSPORT__LOG_FILE_PATH || undefined);
  const envTransport = env[TRANSPORT_ENV]?.toLowerCase() || undefined;
  const transport = c.transport ?? envTransport ?? (url ? 'http' : file ? 'file' : 'none');
  switch (transport) {
    case 'none':
    case 'console':
      return { transport, namespace };
    case 'file':
      if (!file) throw new LineageError('BAD_CONFIG', 'lineage.file: the file transport needs a file path');
      return { transport, namespace, file };
    case 'http': {
      if (!url)
        throw new LineageError(
          'BAD_CONFIG',
          'lineage.url: the http transport needs a URL (or OPENLINEAGE_URL)',
        );
      if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) {
        throw new LineageError('BAD_CONFIG', 'lineage.url: expected an http:// or https:// URL');
      }
      const apiKey = c.api_key ?? (env.OPENLINEAGE_API_KEY || undefined);
      return {
        transport,
        namespace,
        url,
        endpoint: c.endpoint ?? (env.OPENLINEAGE_ENDPOINT || LINEAGE_DEFAULTS.endpoint),
        ...(apiKey ? { apiKey } : {}),
        timeoutMs: c.timeout_ms ?? LINEAGE_DEFAULTS.timeoutMs,
        retries: c.retries ?? LINEAGE_DEFAULTS.retries,
      };
    }
    default:
      throw new LineageError(
        'BAD_CONFIG',
        `${TRANSPORT_ENV}: expected http, file, console or none, got ${JSON.stringify(transport)}`,
      );
  }
}
