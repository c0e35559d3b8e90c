import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { withClient as pgWithClient, qualify, quoteIdent } from '@dataflow/pg';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { toWarehouseError, WarehouseError } from './errors.js';
import { buildCopySql } from './sql.js';

/** COPY data is written in CopyData messages of at least this size (fewer syscalls and messages). */
export const COPY_CHUNK_BYTES = 64 * 1024;

/** A stream transform usable as a `pipeline()` stage: bytes in, bytes out. */
export type ByteTransform = (
  source: AsyncIterable<Buffer | string>,
  options: { signal: AbortSignal },
) => AsyncIterable<Buffer>;

/**
 * Re-chunks a byte stream into buffers of at least `minBytes` (the last one may be smaller).
 * Each output buffer is assembled once from the parts it spans.
 *
 * @example
 * await pipeline(source, chunkAtLeast(), client.query(copyFrom(copySql))); // COPY gets chunks of >= 64 KiB
 */
export function chunkAtLeast(minBytes: number = COPY_CHUNK_BYTES): ByteTransform {
  return async function* chunker(source) {
    let parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of source) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      parts.push(buf);
      size += buf.length;
      if (size >= minBytes) {
        yield parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
        parts = [];
        size = 0;
      }
    }
    if (size > 0) yield parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
  };
}

/**
 * Runs `fn` on a dedicated pool client (`@dataflow/pg`'s `withClient`); on any failure the client
 * is discarded, never handed back mid-COPY.
 */
export function withClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return pgWithClient(pool, fn, { discardOn: 'any' });
}

/** Line number PostgreSQL reports in a COPY error's CONTEXT (`COPY t, line 12, column x`). */
export function copyErrorLine(error: unknown): number | undefined {
  const where = (error as { where?: unknown } | null)?.where;
  if (typeof where !== 'string') return undefined;
  const match = /\bline (\d+)\b/.exec(where);
  return match ? Number(match[1]) : undefined;
}

/**
 * Streams `source` through `transforms` and a ≥ 64 KiB chunker into `COPY … FROM STDIN` on
 * `client`. Resolves with the row count after the server confirmed the COPY. On any failure
 * (source error, abort, server error) pipeline destroys the COPY stream, which sends CopyFail,
 * so the server rolls the COPY back.
 */
export async function copyStream(
  client: pg.ClientBase,
  sql: string,
  source: Readable | AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
  options: {
    transforms?: Array<ByteTransform | NodeJS.ReadWriteStream>;
    signal?: AbortSignal | undefined;
  } = {},
): Promise<number> {
  const sink = client.query(copyFrom(sql));
  const stages = [...(options.transforms ?? []), chunkAtLeast()];
  // pipeline's overloads cannot type a variadic middle; the stages are all byte transforms.
  await (pipeline as (...args: unknown[]) => Promise<void>)(
    source,
    ...stages,
    sink,
    options.signal ? { signal: options.signal } : {},
  );
  return sink.rowCount;
}

/** Options of {@link copyInto}. */
export interface CopyIntoOptions {
  table: string;
  schema?: string;
  columns?: string[];
  source: Readable;
  format?: 'csv' | 'text';
  header?: boolean;
  delimiter?: string;
  nullString?: string;
  signal?: AbortSignal;
}

/**
 * COPYs a byte stream (CSV or PostgreSQL text format) into an existing table, on a dedicated
 * pool client released when done. All or nothing: when the source fails, the signal aborts or
 * the server rejects a row, the COPY is rolled back (CopyFail) and nothing is committed.
 *
 * @example
 * const { rows } = await copyInto(pool, {
 *   table: 'orders', columns: ['id', 'amount'], header: true,
 *   source: createReadStream('orders.csv'),
 * });
 */
export async function copyInto(pool: pg.Pool, options: CopyIntoOptions): Promise<{ rows: number }> {
  const target = qualify(options.schema, options.table);
  options.columns?.forEach(quoteIdent);
  if (options.format === 'text' && options.header) {
    throw new WarehouseError('INVALID_OPTIONS', 'HEADER is only supported with format csv', {
      table: options.table,
    });
  }
  const sql = buildCopySql(target, options.columns, {
    format: options.format ?? 'csv',
    ...(options.header ? { header: true } : {}),
    ...(options.delimiter !== undefined ? { delimiter: options.delimiter } : {}),
    ...(options.nullString !== undefined ? { nullString: options.nullString } : {}),
  });
  if (options.signal?.aborted) {
    options.source.destroy();
    throw new WarehouseError('ABORTED', `COPY into ${target}: aborted`, {
      table: options.table,
      cause: options.signal.reason,
    });
  }
  try {
    const rows = await withClient(pool, (client) =>
      copyStream(client, sql, options.source, { signal: options.signal }),
    );
    return { rows };
  } catch (error) {
    const line = copyErrorLine(error);
    throw toWarehouseError(error, 'COPY_FAILED', `COPY into ${target}`, {
      table: options.table,
      ...(line !== undefined ? { line } : {}),
    });
  } finally {
    if (!options.source.destroyed) options.source.destroy();
  }
}
