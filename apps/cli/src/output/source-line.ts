import type { Palette } from './colors.js';
import { statusLine } from './status-line.js';
import { formatBytes, formatCount, formatSeconds } from './units.js';

/** What an ingest's or a load's result line shows. */
export interface SourceLineInput {
  index: number;
  total: number;
  step: 'ingest' | 'load';
  source: string;
  /** The day (`2026-05-01`). */
  partition: string;
  status: 'ok' | 'skip' | 'error';
  rows?: number | undefined;
  rejected?: number | undefined;
  /** Ingest: source bytes read; load: stored bytes read. */
  bytes?: number | undefined;
  /** Load: `schema.table`. */
  table?: string | undefined;
  durationMs: number;
}

/**
 * One source step's result line, in the same shape as a node's:
 * `1 of 8 OK ingested orders 2026-05-01 ..... [1,000 rows, 1.5 MB in 0.12s]`. Pure.
 *
 * @example
 * sourceLine({ index: 2, total: 8, step: 'load', source: 'orders', partition: '2026-05-01',
 *   status: 'ok', rows: 100, table: 'analytics.raw_orders', durationMs: 200 }, palette(false));
 */
export function sourceLine(s: SourceLineInput, colors: Palette): string {
  const place = { index: s.index, total: s.total };
  const took = formatSeconds(s.durationMs);
  if (s.status === 'skip') {
    const text = `${s.step} ${s.source} ${s.partition}: nothing committed`;
    return statusLine({ ...place, word: 'SKIP', text, result: 'SKIP' }, colors);
  }
  if (s.status === 'error') {
    const text = `${s.step === 'ingest' ? 'ingesting' : 'loading'} ${s.source} ${s.partition}`;
    return statusLine({ ...place, word: 'ERROR', text, result: `ERROR in ${took}` }, colors);
  }
  const rejected = s.rejected ? `, ${formatCount(s.rejected)} rejected` : '';
  const bytes = s.bytes !== undefined ? `, ${formatBytes(s.bytes)}` : '';
  const rows = `${formatCount(s.rows ?? 0)} rows${rejected}${bytes}`;
  const text =
    s.step === 'ingest'
      ? `ingested ${s.source} ${s.partition}`
      : `loaded ${s.source} ${s.partition}${s.table ? ` into ${s.table}` : ''}`;
  return statusLine(
    { ...place, word: s.rejected ? 'WARN' : 'OK', text, result: `${rows} in ${took}` },
    colors,
  );
}
