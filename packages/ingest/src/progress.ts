import { performance } from 'node:perf_hooks';

/**
 * How far an ingest or a load has got. Counts only grow; the last call of a successful run has
 * the final counts.
 */
export interface TransferProgress {
  /** Rows written so far (ingest: records landed in parts; load: rows of the part files done). */
  rows: number;
  /** Bytes read so far (ingest: from the source; load: stored part bytes). */
  bytes: number;
  /** All the bytes there are to read, when known before reading (a local file's size, the manifest). */
  totalBytes?: number;
  /** All the rows there are, when known before reading (a load: the manifest's row count). */
  totalRows?: number;
}

/** The optional `onProgress` callback of `ingestCsv`, `ingestApi` and warehouse's `loadPartition`. */
export type OnProgress = (progress: TransferProgress) => void;

/** Counts that {@link createProgressCounter} reports through a throttled `onProgress`. */
export interface ProgressCounter {
  addRows(rows: number): void;
  addBytes(bytes: number): void;
  /** The total once the source tells it (an HTTP `content-length`, an S3 object's size). */
  setTotalBytes(totalBytes: number): void;
  /** Reports the current counts now (at the end of a run), whatever the throttle says. */
  flush(): void;
}

const noopCounter: ProgressCounter = {
  addRows: () => undefined,
  addBytes: () => undefined,
  setTotalBytes: () => undefined,
  flush: () => undefined,
};

/**
 * A counter that calls `onProgress` at most once per `intervalMs` (checked on each add, no
 * timer), and once more on `flush()`. A callback that throws is ignored: progress never fails
 * the work. Without `onProgress` it is a no-op.
 *
 * @example
 * const counter = createProgressCounter(options.onProgress, { totalBytes: 11_000_000 });
 * counter.addBytes(chunk.length); counter.addRows(1); counter.flush();
 */
export function createProgressCounter(
  onProgress: OnProgress | undefined,
  options: { totalBytes?: number; totalRows?: number; intervalMs?: number; now?: () => number } = {},
): ProgressCounter {
  if (!onProgress) return noopCounter;
  const now = options.now ?? (() => performance.now());
  const intervalMs = options.intervalMs ?? 200;
  const totals: { totalBytes?: number; totalRows?: number } = {
    ...(options.totalBytes !== undefined ? { totalBytes: options.totalBytes } : {}),
    ...(options.totalRows !== undefined ? { totalRows: options.totalRows } : {}),
  };
  let rows = 0;
  let bytes = 0;
  let last = Number.NEGATIVE_INFINITY;
  const report = () => {
    last = now();
    try {
      onProgress({ rows, bytes, ...totals });
    } catch {
      // A progress display must never break the transfer it displays.
    }
  };
  const maybeReport = () => {
    if (now() - last >= intervalMs) report();
  };
  return {
    addRows(n) {
      rows += n;
      maybeReport();
    },
    addBytes(n) {
      bytes += n;
      maybeReport();
    },
    setTotalBytes(n) {
      totals.totalBytes = n;
    },
    flush: report,
  };
}
