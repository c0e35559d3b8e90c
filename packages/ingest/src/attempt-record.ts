import { z } from 'zod';
import type { Logger } from './logger.js';
import type { IncompleteWrite, ObjectStore } from './object-store.js';

/** Folder (inside a partition) of the records of attempts in progress. */
export const ATTEMPTS_DIR = '_attempts/';

/** What a running attempt says about itself, so a later run can collect what it leaves behind. */
export interface AttemptRecord {
  version: 1;
  attempt: string;
  runId: string;
  startedAt: string;
  /** Refreshed while the attempt runs: a record older than the grace period is a dead attempt's. */
  heartbeatAt: string;
  /** Open multipart uploads (S3 UploadIds) of this attempt, to abort by id. */
  uploads: Array<{ key: string; id: string; started: string }>;
}

const recordSchema = z.object({
  version: z.literal(1),
  attempt: z.string(),
  runId: z.string(),
  startedAt: z.string(),
  heartbeatAt: z.string(),
  uploads: z.array(z.object({ key: z.string(), id: z.string(), started: z.string() })),
});

/** Key of an attempt's record: `<prefix>_attempts/<attempt>.json`. */
export const attemptRecordKey = (prefix: string, attempt: string): string =>
  `${prefix}${ATTEMPTS_DIR}${attempt}.json`;

const ATTEMPT_IN_KEY =
  /(?:^|\/)(?:\.?(?:_rejects\/)?part-\d{5}-([0-9a-f]{8})\.|_attempts\/([0-9a-f]{8})\.json$)/;

/**
 * The attempt id a lake key belongs to (a part file, a rejects file, an attempt record, or the
 * temp file of one of those), or undefined for the manifest, `_SUCCESS`, the lock and strangers.
 *
 * @example
 * attemptOfKey('orders/dt=2024-01-01/part-00003-3f9a1c2e.csv.gz'); // '3f9a1c2e'
 */
export function attemptOfKey(key: string): string | undefined {
  const m = ATTEMPT_IN_KEY.exec(key);
  return m?.[1] ?? m?.[2];
}

/** Parses a record; undefined when it is not one (a foreign or truncated object is just garbage). */
export function parseAttemptRecord(text: string): AttemptRecord | undefined {
  try {
    const r = recordSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Keeps an attempt's record fresh while the attempt runs: written when started, rewritten every
 * `intervalMs` and whenever an upload id becomes known, deleted when the attempt ends.
 */
export class AttemptHeartbeat {
  private readonly record: AttemptRecord;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: ObjectStore,
    readonly key: string,
    ids: { attempt: string; runId: string },
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {
    const now = new Date().toISOString();
    this.record = { version: 1, ...ids, startedAt: now, heartbeatAt: now, uploads: [] };
  }

  /** Writes the record (before any data file) and starts refreshing it. */
  async start(): Promise<void> {
    await this.write();
    this.timer = setInterval(() => void this.refresh(), this.intervalMs);
    this.timer.unref();
  }

  addUpload(write: IncompleteWrite): void {
    this.record.uploads.push({ key: write.key, id: write.id, started: write.started.toISOString() });
    void this.refresh();
  }

  /** Stops refreshing and removes the record; never throws (a left record is swept later). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.writing;
    await this.store.delete([this.key]).catch((error: unknown) => {
      this.logger.warn({ key: this.key, err: error }, 'ingest: could not remove the attempt record');
    });
  }

  private refresh(): Promise<void> {
    if (this.timer === undefined) return this.writing;
    this.writing = this.writing
      .then(() => this.write())
      .catch((error: unknown) => {
        this.logger.warn({ key: this.key, err: error }, 'ingest: could not refresh the attempt record');
      });
    return this.writing;
  }

  private async write(): Promise<void> {
    this.record.heartbeatAt = new Date().toISOString();
    await this.store.putBytes(this.key, JSON.stringify(this.record), { contentType: 'application/json' });
  }
}
