import { LineageError } from './errors.js';
import {
  commandEvent,
  type EventOptions,
  type JobLineage,
  jobEvent,
  type LineageEventType,
  type LineageRun,
  type RunEvent,
} from './events.js';
import type { LineageTransport } from './transport.js';

/** The structural logger dataflow's libraries take (pino's `(obj, msg)` signature). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Sends events without ever failing its caller. */
export interface LineageEmitter {
  /** Sends one event; a failure is logged as a warning and counted, never thrown. */
  emit(event: RunEvent): Promise<void>;
  /** Events sent, failed, and dropped after the emitter gave up on the backend. */
  readonly stats: { sent: number; failed: number; dropped: number };
}

/** Options of {@link createLineageEmitter}. */
export interface LineageEmitterOptions {
  transport: LineageTransport;
  logger?: Logger | undefined;
  /** After this many failures in a row the rest of the run's events are dropped (default 3). */
  maxConsecutiveFailures?: number | undefined;
  /**
   * Cancels sends in flight. Not the run's SIGTERM signal: the ABORT event is sent after it
   * fired, and each send is bounded by the transport's timeout anyway.
   */
  signal?: AbortSignal | undefined;
}

/**
 * Wraps a transport so lineage can never fail or stall a run for long: a failed send is a
 * warning (code and message, never the API key), and after `maxConsecutiveFailures` failures in
 * a row (a backend that is down or hangs) further events are dropped with one warning, which
 * bounds the time a dead backend costs a run.
 *
 * @example
 * const emitter = createLineageEmitter({ transport: createTransport(resolved), logger });
 * await emitter.emit(commandEvent(run, 'START'));
 */
export function createLineageEmitter(options: LineageEmitterOptions): LineageEmitter {
  const max = options.maxConsecutiveFailures ?? 3;
  const stats = { sent: 0, failed: 0, dropped: 0 };
  let consecutive = 0;
  return {
    stats,
    async emit(event) {
      if (options.transport.kind === 'none') return;
      if (consecutive >= max) {
        stats.dropped++;
        return;
      }
      try {
        await options.transport.send(event, options.signal);
        stats.sent++;
        consecutive = 0;
      } catch (error) {
        stats.failed++;
        consecutive++;
        const code = error instanceof LineageError ? error.code : 'EMIT_FAILED';
        options.logger?.warn(
          {
            err: { code, message: (error as Error).message },
            event_type: event.eventType,
            job: event.job.name,
          },
          'could not emit an OpenLineage event; the run goes on',
        );
        if (consecutive === max) {
          options.logger?.warn(
            { failures: consecutive },
            `OpenLineage: ${consecutive} failures in a row; no more events are sent in this run`,
          );
        }
      }
    },
  };
}

/** The events of one command and its jobs, sent through an emitter. */
export interface LineageRecorder {
  readonly run: LineageRun;
  runEvent(eventType: LineageEventType, options?: EventOptions): Promise<void>;
  jobEvent(job: JobLineage, eventType: LineageEventType, options?: EventOptions): Promise<void>;
}

/**
 * Binds a {@link LineageRun} to an emitter: what a CLI calls at each step's start and end.
 *
 * @example
 * const lineage = createLineageRecorder(run, emitter);
 * await lineage.runEvent('START');
 * await lineage.jobEvent(loadLineage({ … }), 'COMPLETE');
 */
export function createLineageRecorder(run: LineageRun, emitter: LineageEmitter): LineageRecorder {
  return {
    run,
    runEvent: (eventType, options) => emitter.emit(commandEvent(run, eventType, options)),
    jobEvent: (job, eventType, options) => emitter.emit(jobEvent(run, job, eventType, options)),
  };
}
