import { describe, expect, it } from 'vitest';
import { createScheduler, type ScheduledStatus, type Scheduler } from '../src/schedule.js';

/** Runs the queue to the end, finishing each started node with `statusOf(id)`; returns the event log. */
function drain(
  queue: Scheduler,
  statusOf: (id: string) => ScheduledStatus,
  finishOrder: 'fifo' | 'lifo' = 'fifo',
) {
  const log: string[] = [];
  const running: string[] = [];
  for (let guard = 0; guard < 100; guard++) {
    const step = queue.next();
    for (const s of step.skip) log.push(`skip ${s.id}: ${s.message}`);
    for (const id of step.start) {
      log.push(`start ${id}`);
      running.push(id);
    }
    if (step.done) return log;
    const id = (finishOrder === 'fifo' ? running.shift() : running.pop()) as string;
    log.push(`finish ${id} ${statusOf(id)}`);
    queue.finish(id, statusOf(id));
  }
  throw new Error('scheduler did not finish');
}

const diamond = { order: ['a', 'b', 'c', 'd'], waitsFor: { a: [], b: ['a'], c: ['a'], d: ['b', 'c'] } };

describe('createScheduler', () => {
  it('starts a node only after all it waits for succeeded, in the given order', () => {
    const log = drain(createScheduler({ ...diamond, threads: 4 }), () => 'success');
    expect(log).toEqual([
      'start a',
      'finish a success',
      'start b',
      'start c',
      'finish b success',
      'finish c success',
      'start d',
      'finish d success',
    ]);
  });

  it('never runs more than `threads` nodes at once', () => {
    const queue = createScheduler({ order: ['a', 'b', 'c'], waitsFor: {}, threads: 2 });
    expect(queue.next().start).toEqual(['a', 'b']);
    expect(queue.next().start).toEqual([]);
    queue.finish('b', 'success');
    expect(queue.next().start).toEqual(['c']);
    expect(queue.running).toEqual(new Set(['a', 'c']));
  });

  it('skips every descendant of a failed node, transitively, and lets independent nodes run', () => {
    const queue = createScheduler({
      order: ['a', 'b', 'c', 'x'],
      waitsFor: { a: [], b: ['a'], c: ['b'], x: [] },
      threads: 1,
    });
    const log = drain(queue, (id) => (id === 'a' ? 'error' : 'success'));
    expect(log).toEqual([
      'start a',
      'finish a error',
      'skip b: skipped: upstream a error',
      'skip c: skipped: upstream b skipped',
      'start x',
      'finish x success',
    ]);
  });

  it('skips the dependents of a node that failed before the build (a model that failed to compile)', () => {
    const queue = createScheduler({
      order: ['b', 'c', 'x'],
      waitsFor: { b: ['a'], c: ['b'], x: [] },
      threads: 1,
      failed: { a: 'failed to compile' },
    });
    const log = drain(queue, () => 'success');
    expect(log).toEqual([
      'skip b: skipped: upstream a failed to compile',
      'skip c: skipped: upstream b skipped',
      'start x',
      'finish x success',
    ]);
  });

  it('a failing test blocks its dependents only when `blocks` says so (severity warn does not)', () => {
    const waitsFor = { t: [], child: ['t'] };
    const warn = drain(
      createScheduler({ order: ['t', 'child'], waitsFor, threads: 1, blocks: (_id, s) => s === 'error' }),
      (id) => (id === 't' ? 'fail' : 'success'),
    );
    expect(warn).toContain('start child');
    const error = drain(createScheduler({ order: ['t', 'child'], waitsFor, threads: 1 }), (id) =>
      id === 't' ? 'fail' : 'success',
    );
    expect(error).toContain('skip child: skipped: upstream t fail');
  });

  it('fail-fast starts nothing after the first failure and skips the rest with the reason', () => {
    const queue = createScheduler({
      order: ['a', 'b', 'c'],
      waitsFor: {},
      threads: 2,
      failFast: true,
      nameOf: (id) => id.toUpperCase(),
    });
    const log = drain(queue, (id) => (id === 'a' ? 'error' : 'success'));
    expect(log).toEqual([
      'start a',
      'start b',
      'finish a error',
      'skip c: skipped: fail-fast after A',
      'finish b success',
    ]);
  });

  it('without fail-fast a failure does not stop independent nodes', () => {
    const log = drain(createScheduler({ order: ['a', 'b'], waitsFor: {}, threads: 1 }), (id) =>
      id === 'a' ? 'error' : 'success',
    );
    expect(log).toContain('start b');
  });

  it('stop() skips what is pending, keeps the first reason and waits for running nodes', () => {
    const queue = createScheduler({ order: ['a', 'b'], waitsFor: {}, threads: 1 });
    expect(queue.next().start).toEqual(['a']);
    queue.stop('build aborted');
    queue.stop('later reason');
    const step = queue.next();
    expect(step).toEqual({ skip: [{ id: 'b', message: 'skipped: build aborted' }], start: [], done: false });
    queue.finish('a', 'success');
    expect(queue.next()).toEqual({ skip: [], start: [], done: true });
  });

  it('nodes waiting on something outside the build are skipped when nothing else can run', () => {
    const queue = createScheduler({ order: ['a', 'b'], waitsFor: { a: [], b: ['elsewhere'] }, threads: 2 });
    const log = drain(queue, () => 'success');
    expect(log).toEqual(['start a', 'finish a success', 'skip b: skipped: dependencies did not run']);
  });
});
