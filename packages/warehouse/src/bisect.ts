import { pipeline } from 'node:stream/promises';
import { isDataError } from '@dataflow/pg';
import type pg from 'pg';
import { throwIfAborted } from './abort.js';
import { copyErrorLine, copyStream } from './copy-into.js';
import {
  type FileLoadContext,
  type FileOutcome,
  type FilePlan,
  maybeSavepoint,
  onClient,
  storedStages,
} from './copy-plan.js';
import type { ManifestFile } from './lake.js';
import { readCsvRecords, readNdjsonRecords, type SourceRecord } from './records.js';
import { recordReject } from './rejects.js';

/** Rows held at most at once while isolating bad rows (one batch, bisected in place). */
const BISECT_BATCH_ROWS = 10_000;
const BISECT_BATCH_BYTES = 16 * 1024 * 1024;

/**
 * A record's COPY text for a bisection batch. The record number goes first, where it cannot
 * fill in for a missing trailing field of a short row (which must still fail).
 */
function copyText(record: SourceRecord, plan: FilePlan): string {
  return plan.recordColumn ? `${record.record},${record.copy}` : (record.copy as string);
}

/**
 * COPYs `batch`; a batch failing with a data error is split around the record the server
 * names (or in halves) until the bad rows are single and recorded as rejects.
 */
async function copyBatch(
  client: pg.ClientBase,
  ctx: FileLoadContext,
  plan: FilePlan,
  outcome: FileOutcome,
  batch: SourceRecord[],
): Promise<void> {
  if (batch.length === 0) return;
  throwIfAborted(ctx.signal, `loading ${outcome.file}`);
  try {
    outcome.loaded += await maybeSavepoint(client, plan, () =>
      copyStream(client, plan.batchSql, [batch.map((r) => copyText(r, plan)).join('')], {
        signal: ctx.signal,
      }),
    );
  } catch (error) {
    if (!isDataError(error)) throw error;
    if (batch.length === 1) {
      const e = error as { message?: string; code?: string };
      await recordReject(
        client,
        ctx,
        outcome,
        batch[0] as SourceRecord,
        e.message ?? 'rejected',
        e.code ?? null,
      );
      return;
    }
    // The server names the failing record (`COPY t, line N`, counted in records for CSV): split
    // around it. Each part is still COPYed and checked, so a wrong hint only costs time; without
    // one, halve (pgloader's bisection).
    const hint = copyErrorLine(error);
    const parts =
      hint !== undefined && hint >= 1 && hint <= batch.length
        ? [batch.slice(0, hint - 1), batch.slice(hint - 1, hint), batch.slice(hint)]
        : [batch.slice(0, Math.ceil(batch.length / 2)), batch.slice(Math.ceil(batch.length / 2))];
    for (const part of parts) await copyBatch(client, ctx, plan, outcome, part);
  }
}

/**
 * pgloader's recovery: re-read the file, COPY it in bounded batches, isolating bad rows by
 * bisection and recording them with their physical line. Memory holds at most one batch. The
 * stored bytes are verified against the manifest on this pass too.
 *
 * @example
 * const outcome = await copyWithBisect(ctx, entry, plan); // outcome.rejected rows recorded
 */
export async function copyWithBisect(
  ctx: FileLoadContext,
  entry: ManifestFile,
  plan: FilePlan,
): Promise<FileOutcome> {
  const outcome: FileOutcome = { file: entry.key, loaded: 0, rejected: 0 };
  const body = await ctx.store.get(entry.key, { signal: ctx.signal });
  return onClient(ctx, plan, async (client) => {
    const consume = async (bytes: AsyncIterable<Buffer | string>): Promise<void> => {
      const records =
        ctx.manifest.format === 'csv'
          ? readCsvRecords(bytes, ctx.columns, entry.key)
          : readNdjsonRecords(bytes, ctx.columns);
      let batch: SourceRecord[] = [];
      let batchBytes = 0;
      for await (const record of records) {
        if (record.copy === undefined) {
          await recordReject(client, ctx, outcome, record, record.error ?? 'unconvertible row', null);
          continue;
        }
        batch.push(record);
        batchBytes += record.copy.length;
        if (batch.length >= BISECT_BATCH_ROWS || batchBytes >= BISECT_BATCH_BYTES) {
          await copyBatch(client, ctx, plan, outcome, batch);
          batch = [];
          batchBytes = 0;
        }
      }
      await copyBatch(client, ctx, plan, outcome, batch);
    };
    await (pipeline as (...args: unknown[]) => Promise<void>)(
      body,
      ...storedStages(ctx.manifest, entry, ctx.table),
      consume,
      { signal: ctx.signal },
    );
    return outcome;
  });
}
