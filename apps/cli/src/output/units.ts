/**
 * Bytes in decimal units, as `ls -h --si` and download tools show them: `512 B`, `1.5 kB`,
 * `11.0 MB`.
 *
 * @example
 * formatBytes(1_500); // '1.5 kB'
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 'B';
  for (const u of units) {
    if (value < 1000) break;
    value /= 1000;
    unit = u;
  }
  return `${value.toFixed(1)} ${unit}`;
}

/**
 * A count with thousands separators: `1,000,000`.
 *
 * @example
 * formatCount(1234567); // '1,234,567'
 */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/**
 * A duration as dbt prints it: seconds with two decimals under a minute, `1m 05s` above.
 *
 * @example
 * formatSeconds(420); // '0.42s'
 */
export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(2)}s`;
  const whole = Math.round(s);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const sec = String(whole % 60).padStart(2, '0');
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m ${sec}s` : `${m}m ${sec}s`;
}

/** Throughput and time left of a transfer that has run `elapsedMs`. */
export interface TransferRate {
  /** Bytes per second; undefined before anything moved. */
  bytesPerSecond?: number;
  rowsPerSecond?: number;
  /** Milliseconds left at the average rate so far; undefined without a total or a rate. */
  etaMs?: number;
  /** 0..1 of the total, when there is one. */
  fraction?: number;
}

/**
 * Average throughput and the ETA of a transfer: `(total - done) / (done / elapsed)`, clamped at
 * 0 (counts may overshoot an estimated total). Pure.
 *
 * @example
 * transferRate({ bytes: 4_000_000, rows: 1000, totalBytes: 10_000_000 }, 2000);
 * // { bytesPerSecond: 2_000_000, rowsPerSecond: 500, etaMs: 3000, fraction: 0.4 }
 */
export function transferRate(
  progress: { bytes: number; rows: number; totalBytes?: number | undefined },
  elapsedMs: number,
): TransferRate {
  const seconds = elapsedMs / 1000;
  const out: TransferRate = {};
  if (seconds > 0 && progress.bytes > 0) out.bytesPerSecond = progress.bytes / seconds;
  if (seconds > 0 && progress.rows > 0) out.rowsPerSecond = progress.rows / seconds;
  const total = progress.totalBytes;
  if (total !== undefined && total > 0) {
    out.fraction = Math.min(1, progress.bytes / total);
    if (out.bytesPerSecond !== undefined) {
      out.etaMs = Math.max(0, ((total - progress.bytes) / out.bytesPerSecond) * 1000);
    }
  }
  return out;
}

/**
 * Time left in whole seconds: `ETA 7s`, `ETA 1m 05s`.
 *
 * @example
 * formatEta(65_000); // '1m 05s'
 */
export function formatEta(ms: number): string {
  const whole = Math.ceil(ms / 1000);
  if (whole < 60) return `${whole}s`;
  return formatSeconds(whole * 1000);
}
