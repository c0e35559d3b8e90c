import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { abortError, IngestError } from './errors.js';
import type { Logger } from './logger.js';
import type { ObjectStore } from './object-store.js';

/** Ends a lease; resolves once it is released. */
export type ReleaseLease = () => Promise<void>;

/**
 * Takes an exclusive lease on `key` (the partition prefix) for the commit of one attempt, waiting
 * for a current holder; rejects (e.g. `LOCK_TIMEOUT`) when it cannot. The CLI passes a
 * PostgreSQL advisory lease here when a warehouse is configured.
 *
 * @example
 * const lease: PartitionLease = async (key) => { await lockAdvisory(key); return () => unlockAdvisory(key); };
 */
export type PartitionLease = (key: string, options: { signal?: AbortSignal }) => Promise<ReleaseLease>;

/** Options of {@link storeLease}. */
export interface StoreLeaseOptions {
  /** A lock not refreshed for this long belongs to a dead process and is taken over. Default 60 s. */
  staleMs?: number;
  /** Give up with `LOCK_TIMEOUT` (retryable) after waiting this long. Default 120 s. */
  waitMs?: number;
  /** Poll interval while the lock is held by another attempt. Default 200 ms. */
  pollMs?: number;
  logger?: Logger;
}

interface LockBody {
  owner: string;
  expiresAt: number;
}

/** The lock object of a partition, next to its manifest. */
export const LOCK_NAME = '_lock';

async function readLock(store: ObjectStore, key: string): Promise<LockBody | undefined> {
  try {
    const stream = await store.get(key);
    let text = '';
    for await (const chunk of stream) text += String(chunk);
    const body = JSON.parse(text) as Partial<LockBody>;
    return typeof body.expiresAt === 'number'
      ? { owner: String(body.owner), expiresAt: body.expiresAt }
      : undefined;
  } catch {
    // Missing (just released) or unreadable (being written): look again on the next poll.
    return undefined;
  }
}

/**
 * A lease held as a lock object created with the store's atomic create-if-absent (`link()` on a
 * filesystem lake, `If-None-Match: *` on an S3 that really honours it). The holder refreshes the
 * lock every `staleMs / 3`; a lock past its expiry belongs to a dead process and is removed.
 * When the store cannot create atomically (s3rver, some S3-compatible servers) the lease excludes
 * nothing and says so once in the log: commits then stay safe through the grace period alone
 * (see `PartitionAttempt.commit`).
 *
 * @example
 * const lease = storeLease(store, { waitMs: 30_000 });
 * const release = await lease('orders/dt=2024-01-01/', {});
 * try { … } finally { await release(); }
 */
export function storeLease(store: ObjectStore, options: StoreLeaseOptions = {}): PartitionLease {
  const staleMs = options.staleMs ?? 60_000;
  const waitMs = options.waitMs ?? 120_000;
  const pollMs = options.pollMs ?? 200;
  let warned = false;
  return async (prefix, { signal }) => {
    const key = `${prefix}${LOCK_NAME}`;
    const owner = randomUUID();
    const body = (): string => JSON.stringify({ owner, expiresAt: Date.now() + staleMs });
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (signal?.aborted) throw abortError(signal, { location: key });
      const outcome = store.putIfAbsent ? await store.putIfAbsent(key, body()) : 'unsupported';
      if (outcome === 'unsupported') {
        if (!warned)
          options.logger?.warn(
            { store: store.url },
            'ingest: store has no atomic create; commits are not serialised',
          );
        warned = true;
        return async () => undefined;
      }
      if (outcome === 'created') return holdLock(store, key, owner, body, staleMs);
      const current = await readLock(store, key);
      if (current && current.expiresAt < Date.now()) {
        options.logger?.warn({ key }, 'ingest: taking over a stale partition lock');
        await store.delete([key]);
        continue;
      }
      if (Date.now() >= deadline) {
        throw new IngestError(
          'LOCK_TIMEOUT',
          `partition ${prefix} stayed locked by another ingest for ${waitMs} ms`,
          {
            location: key,
            retryable: true,
          },
        );
      }
      await sleep(pollMs, undefined, signal ? { signal } : {}).catch(() => undefined);
    }
  };
}

/** Refreshes a held lock until released; release removes it only while it is still ours. */
function holdLock(
  store: ObjectStore,
  key: string,
  owner: string,
  body: () => string,
  staleMs: number,
): ReleaseLease {
  let refreshing: Promise<void> = Promise.resolve();
  const timer = setInterval(
    () => {
      refreshing = refreshing.then(() => store.putBytes(key, body())).catch(() => undefined);
    },
    Math.max(1, Math.floor(staleMs / 3)),
  );
  timer.unref();
  return async () => {
    clearInterval(timer);
    // A refresh landing after the delete would leave a lock nobody holds.
    await refreshing;
    const current = await readLock(store, key);
    if (current === undefined || current.owner === owner) await store.delete([key]);
  };
}
