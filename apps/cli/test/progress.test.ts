import { describe, expect, it } from 'vitest';
import type { CliIo } from '../src/io.js';
import { createProgress } from '../src/progress.js';

function io(tty: boolean): CliIo & { err: string[] } {
  const err: string[] = [];
  return {
    err,
    stdout: { write: () => true },
    stderr: Object.assign({ write: (s: string) => err.push(s), isTTY: tty, columns: 120 }, {}),
    stdoutIsTTY: tty,
    stderrIsTTY: tty,
  };
}

describe('createProgress', () => {
  it('writes nothing when stderr is not a terminal (progress never goes to logs)', () => {
    const target = io(false);
    const p = createProgress(target);
    p.setTotal(3);
    p.step('ingest orders');
    p.stop();
    expect(target.err).toEqual([]);
  });

  it('draws a bar with the step label on a terminal', () => {
    const target = io(true);
    const p = createProgress(target);
    p.setTotal(2);
    p.step('ingest orders 2026-05-01');
    p.step('load orders 2026-05-01');
    p.stop();
    const text = target.err.join('');
    // cli-progress throttles redraws, so intermediate labels may be skipped; start and end are drawn.
    expect(text).toContain('] 0/2');
    expect(text).toContain('] 2/2 done');
  });
});
