import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { RowRef } from './errors.js';
import type { LakeStore, PartitionManifest } from './lake.js';
import { readCsvRecords, readNdjsonRecords } from './records.js';

/**
 * Stored bytes of part files re-read at most, in total, to turn record numbers into physical
 * lines: an error message is not worth a long scan, the record number still names the row.
 */
export const LINE_LOOKUP_MAX_BYTES = 64 * 1024 * 1024;

/** `4 (line 5)` or `4`. */
function position(ref: RowRef): string {
  return ref.line === undefined ? String(ref.record) : `${ref.record} (line ${ref.line})`;
}

/**
 * Names rows by file and record, consecutive rows of one file together:
 * `a.csv records 4 (line 5), 17 (line 18); b.csv record 2`. `within` joins the records of one
 * file, `between` the files. Never a row value.
 */
export function formatRowRefs(refs: readonly RowRef[], within = ', ', between = '; '): string {
  const runs: RowRef[][] = [];
  for (const ref of refs) {
    const last = runs[runs.length - 1];
    if (last && last[0]?.file === ref.file) last.push(ref);
    else runs.push([ref]);
  }
  return runs
    .map((run) => `${run[0]?.file} record${run.length > 1 ? 's' : ''} ${run.map(position).join(within)}`)
    .join(between);
}

/**
 * Physical lines of `refs` (header = line 1, multi-line fields counted), found by re-reading
 * each named part file only up to its last named record, as long as the files read stay within
 * {@link LINE_LOOKUP_MAX_BYTES} together (a file that would exceed it is skipped). Returns the refs with `line` set where it was resolved; a
 * file that cannot be re-read leaves its refs as they are (the error being reported matters
 * more than its line numbers).
 */
export async function resolveLines(
  store: LakeStore,
  manifest: PartitionManifest,
  refs: readonly RowRef[],
  signal?: AbortSignal,
): Promise<RowRef[]> {
  const lines = new Map<string, Map<number, number>>();
  let budget = LINE_LOOKUP_MAX_BYTES;
  for (const file of new Set(refs.map((r) => r.file))) {
    const entry = manifest.files.find((f) => f.key === file);
    if (!entry || entry.bytes > budget) continue;
    budget -= entry.bytes;
    const wanted = new Set(refs.filter((r) => r.file === file).map((r) => r.record));
    const found = new Map<number, number>();
    try {
      await scanRecords(store, manifest, file, Math.max(...wanted), signal, (record, line) => {
        if (wanted.has(record)) found.set(record, line);
      });
      lines.set(file, found);
    } catch {
      // Best effort: lines only enrich the key error being built; leave this file's rows without
      // lines rather than replace that error with a read failure.
    }
  }
  return refs.map((ref) => {
    const line = lines.get(ref.file)?.get(ref.record);
    return line === undefined ? { ...ref } : { ...ref, line };
  });
}

/** Streams `file`'s records until record `last`, calling `visit(record, line)` for each. */
async function scanRecords(
  store: LakeStore,
  manifest: PartitionManifest,
  file: string,
  last: number,
  signal: AbortSignal | undefined,
  visit: (record: number, line: number) => void,
): Promise<void> {
  const body = await store.get(file, signal ? { signal } : {});
  let done = false;
  const consume = async (bytes: AsyncIterable<Buffer | string>): Promise<void> => {
    const records =
      manifest.format === 'csv'
        ? readCsvRecords(bytes, manifest.columns, file)
        : readNdjsonRecords(bytes, manifest.columns);
    for await (const r of records) {
      visit(r.record, r.line);
      if (r.record >= last) {
        done = true;
        return;
      }
    }
  };
  const stages = manifest.compression === 'gzip' ? [createGunzip()] : [];
  try {
    await (pipeline as (...args: unknown[]) => Promise<void>)(
      body,
      ...stages,
      consume,
      signal ? { signal } : {},
    );
  } catch (error) {
    // Stopping early destroys the upstream stages, which pipeline may report as an abort.
    if (!done) throw error;
  }
}
