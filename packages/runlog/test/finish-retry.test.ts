import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createRunLog } from '../src/index.js';

/** A pool whose queries fail with the given errors first, then report one updated row. */
function flakyPool(failures: unknown[]) {
  const calls: string[] = [];
  const pool = {
    async query(text: string) {
      calls.push(text.split(' ')[0] ?? '');
      const failure = failures.shift();
      if (failure) throw failure;
      return { rowCount: 1, rows: [] };
    },
  } as unknown as pg.Pool;
  return { pool, calls };
}

const lost = () => Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });

describe('finishRun: the final run-log write', () => {
  it('is retried after a lost connection, so the run does not stay running', async () => {
    const { pool, calls } = flakyPool([
      lost(),
      Object.assign(new Error('admin shutdown'), { code: '57P01' }),
    ]);
    const runLog = createRunLog(pool, { finishRetry: { delayMs: 1 } });
    await runLog.finishRun('r1', { status: 'success', exitCode: 0 });
    expect(calls).toEqual(['update', 'update', 'update']);
  });

  it('gives up after the bounded number of attempts with the cause in the message', async () => {
    const { pool, calls } = flakyPool([lost(), lost(), lost(), lost(), lost()]);
    const runLog = createRunLog(pool, { finishRetry: { delayMs: 1, attempts: 3 } });
    await expect(runLog.finishRun('r1', { status: 'failed', exitCode: 1 })).rejects.toMatchObject({
      code: 'QUERY_FAILED',
      message: 'run log: finishRun failed: ECONNRESET Connection terminated unexpectedly',
    });
    expect(calls).toHaveLength(3);
  });

  it('does not retry a failure that a retry cannot fix', async () => {
    const { pool, calls } = flakyPool([Object.assign(new Error('syntax'), { code: '42601' })]);
    const runLog = createRunLog(pool, { finishRetry: { delayMs: 1 } });
    await expect(runLog.finishRun('r1', { status: 'success', exitCode: 0 })).rejects.toMatchObject({
      code: 'QUERY_FAILED',
    });
    expect(calls).toHaveLength(1);
  });
});
