import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { ObjectStore, PartitionManifest } from '@dataflow/ingest';

/** Test helper: writes a committed partition in ingest's lake layout (parts, manifest, _SUCCESS). */
export async function writePartition(
  store: ObjectStore,
  options: {
    source: string;
    ds: string;
    columns: string[];
    /** Whole part files (CSV: header first). */
    files: string[];
    format?: 'csv' | 'ndjson';
    gzip?: boolean;
    attempt?: string;
    /** Data rows per file when lines do not tell (multi-line fields). */
    rows?: number[];
    /** A window partition (`w=<id>`) instead of `dt=<ds>`. */
    partition?: string;
    schema?: PartitionManifest['schema'];
    cursor?: PartitionManifest['cursor'];
  },
): Promise<PartitionManifest> {
  const format = options.format ?? 'csv';
  const attempt = options.attempt ?? 'a1';
  const partition = options.partition ?? `dt=${options.ds}`;
  const prefix = `${options.source}/${partition}/`;
  const files: PartitionManifest['files'] = [];
  for (const [i, content] of options.files.entries()) {
    const key = `${prefix}part-${String(i).padStart(5, '0')}-${attempt}.${format}${options.gzip ? '.gz' : ''}`;
    const body = options.gzip ? gzipSync(content) : Buffer.from(content);
    await store.putBytes(key, body);
    const lines = content.split('\n').filter((l) => l.length > 0).length;
    files.push({
      key,
      rows: options.rows?.[i] ?? (format === 'csv' ? lines - 1 : lines),
      bytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
    });
  }
  const end = new Date(Date.parse(`${options.ds}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  const manifest: PartitionManifest = {
    version: 1,
    source: options.source,
    partition,
    interval: { start: options.ds, end },
    runId: 'ingest-run',
    attempt,
    createdAt: new Date().toISOString(),
    format,
    compression: options.gzip ? 'gzip' : 'none',
    columns: options.columns,
    files,
    rows: files.reduce((n, f) => n + f.rows, 0),
    bytes: files.reduce((n, f) => n + f.bytes, 0),
    ...(options.schema ? { schema: options.schema } : {}),
    ...(options.cursor ? { cursor: options.cursor } : {}),
  };
  await store.putBytes(`${prefix}_manifest.json`, JSON.stringify(manifest));
  await store.putBytes(`${prefix}_SUCCESS`, '');
  return manifest;
}

/** `{ start: ds, end: ds + 1 day }`. */
export function day(ds: string): { start: string; end: string } {
  const end = new Date(Date.parse(`${ds}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return { start: ds, end };
}

/** A CSV file: header plus rows. */
export function csv(columns: string[], rows: Array<Array<string | number>>): string {
  return `${[columns.join(','), ...rows.map((r) => r.join(','))].join('\n')}\n`;
}

/** NDJSON part file: one JSON object per line. */
export function ndjson(records: Array<Record<string, unknown>>): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join('');
}
