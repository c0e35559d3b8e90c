/** The status a finished node reports to the scheduler (a {@link NodeResult} status). */
export type ScheduledStatus = 'success' | 'error' | 'skipped' | 'pass' | 'warn' | 'fail';

/** Options of {@link createScheduler}. */
export interface SchedulerOptions {
  /** Runnable ids in a stable order (ties start in this order). */
  order: readonly string[];
  /** Node → nodes it waits for. Ids not in `order` count only once {@link Scheduler.finish}ed. */
  waitsFor: Readonly<Record<string, readonly string[]>>;
  /** Most nodes running at once (at least 1). */
  threads: number;
  /** Stop starting nodes after the first one that does not end `success` / `pass` / `warn`. */
  failFast?: boolean;
  /**
   * Whether a finished node's status keeps its dependents from running. Default: `error`,
   * `skipped` and `fail` block (a caller passes the test's severity rule for `fail`).
   */
  blocks?(id: string, status: ScheduledStatus): boolean;
  /** Name of a node in skip messages (default: its id). */
  nameOf?(id: string): string;
  /**
   * Nodes outside `order` that failed before the build (id → what happened, e.g. `failed to
   * compile`): their dependents are skipped with `skipped: upstream <name> <what happened>`.
   */
  failed?: Readonly<Record<string, string>>;
}

/** What to do now: nodes to report as skipped, nodes to start. */
export interface ScheduleStep {
  skip: Array<{ id: string; message: string }>;
  start: string[];
  /** True when nothing runs and nothing is left: the build is over. */
  done: boolean;
}

/**
 * A build's queue (dbt's `graph/queue.py`): a pure state machine, no I/O. The caller takes a
 * step, starts its nodes, reports each one's end with {@link Scheduler.finish}, then takes the next step.
 */
export interface Scheduler {
  next(): ScheduleStep;
  finish(id: string, status: ScheduledStatus): void;
  /** Starts nothing more: every pending node is skipped with `skipped: <reason>` (first reason wins). */
  stop(reason: string): void;
  readonly running: ReadonlySet<string>;
  readonly stopReason: string | undefined;
}

const OK = new Set<ScheduledStatus>(['success', 'pass', 'warn']);
const defaultBlocks = (_id: string, s: ScheduledStatus) => s === 'error' || s === 'skipped' || s === 'fail';

/**
 * @example
 * const queue = createScheduler({ order: ['a', 'b'], waitsFor: { a: [], b: ['a'] }, threads: 4 });
 * queue.next();                 // { skip: [], start: ['a'], done: false }
 * queue.finish('a', 'error');
 * queue.next();                 // { skip: [{ id: 'b', message: 'skipped: upstream a error' }], start: [], done: true }
 */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const threads = Math.max(1, options.threads);
  const blocks = options.blocks ?? defaultBlocks;
  const nameOf = options.nameOf ?? ((id: string) => id);
  const pending = new Set(options.order);
  const running = new Set<string>();
  const failed = options.failed ?? {};
  const done = new Map<string, ScheduledStatus>(Object.keys(failed).map((id) => [id, 'error']));
  let stopReason: string | undefined;
  const blocking = (id: string) => {
    const s = done.get(id);
    return s !== undefined && blocks(id, s);
  };
  const skipped = (id: string, message: string, out: ScheduleStep['skip']) => {
    pending.delete(id);
    done.set(id, 'skipped');
    out.push({ id, message });
  };
  const propagate = (out: ScheduleStep['skip']) => {
    // Skipping one node can block the next in `order`: repeat until nothing changes.
    for (let changed = true; changed; ) {
      changed = false;
      for (const id of pending) {
        const bad = options.waitsFor[id]?.find(blocking);
        if (bad === undefined) continue;
        skipped(id, `skipped: upstream ${nameOf(bad)} ${failed[bad] ?? done.get(bad)}`, out);
        changed = true;
      }
    }
  };
  return {
    running,
    get stopReason() {
      return stopReason;
    },
    stop(reason) {
      stopReason ??= reason;
    },
    finish(id, status) {
      running.delete(id);
      done.set(id, status);
      if (options.failFast && !OK.has(status)) stopReason ??= `fail-fast after ${nameOf(id)}`;
    },
    next() {
      const step: ScheduleStep = { skip: [], start: [], done: false };
      propagate(step.skip);
      if (stopReason) for (const id of pending) skipped(id, `skipped: ${stopReason}`, step.skip);
      for (const id of pending) {
        if (running.size >= threads) break;
        if (!(options.waitsFor[id] ?? []).every((d) => done.has(d) && !blocking(d))) continue;
        pending.delete(id);
        running.add(id);
        step.start.push(id);
      }
      if (running.size === 0) {
        // Nothing runs and nothing is runnable: whatever is left waits on nodes outside the build.
        for (const id of pending) skipped(id, 'skipped: dependencies did not run', step.skip);
        step.done = true;
      }
      return step;
    },
  };
}
