import { formatBytes, formatCount, formatEta, transferRate } from './units.js';

const WIDTH = 20;

/** `[██████░░░░]` for a fraction 0..1. */
export function bar(fraction: number, width = WIDTH): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'█'.repeat(full)}${'░'.repeat(width - full)}]`;
}

/**
 * The live line of one ingest or load: with a known total a bar, percent, bytes of total, rows,
 * throughput and ETA; without one rows, bytes and throughput. Pure.
 *
 * @example
 * transferBar('ingest orders 2026-05-01', { rows: 1000, bytes: 4e6, totalBytes: 1e7 }, 2000);
 * // 'ingest orders 2026-05-01 [████████░░░░░░░░░░░░]  40% 4.0/10.0 MB · 2.0 MB/s · ETA 3s · 1,000 rows'
 */
export function transferBar(
  label: string,
  progress: { rows: number; bytes: number; totalBytes?: number | undefined },
  elapsedMs: number,
): string {
  const rate = transferRate(progress, elapsedMs);
  const rows = `${formatCount(progress.rows)} rows`;
  const speed = rate.bytesPerSecond !== undefined ? ` · ${formatBytes(rate.bytesPerSecond)}/s` : '';
  if (rate.fraction === undefined || progress.totalBytes === undefined) {
    return `${label} ${formatBytes(progress.bytes)}${speed} · ${rows}`;
  }
  const [done = '', doneUnit] = formatBytes(progress.bytes).split(' ');
  const total = formatBytes(progress.totalBytes);
  const amount =
    doneUnit === total.split(' ')[1] ? `${done}/${total}` : `${formatBytes(progress.bytes)}/${total}`;
  const percent = `${Math.floor(rate.fraction * 100)}%`.padStart(4);
  // The ETA before the row count: a narrow terminal cuts the end of the line.
  const eta = rate.etaMs !== undefined ? ` · ETA ${formatEta(rate.etaMs)}` : '';
  return `${label} ${bar(rate.fraction)} ${percent} ${amount}${speed}${eta} · ${rows}`;
}

/**
 * The live line of a build: a bar of nodes done of the total and the nodes running.
 *
 * @example
 * buildBar('build', 3, 8, ['fct_orders']); // 'build [███████░░░░░░░░░░░░░] 3/8 · running fct_orders'
 */
export function buildBar(label: string, done: number, total: number, running: readonly string[]): string {
  const now =
    running.length > 0
      ? ` · running ${running.slice(0, 3).join(', ')}${running.length > 3 ? ', …' : ''}`
      : '';
  return `${label} ${bar(total > 0 ? done / total : 0)} ${done}/${total}${now}`;
}
