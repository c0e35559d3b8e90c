import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/parse.js';
import { parseDurationMs, poolTimeouts } from '../src/connection-options.js';
import { installSignalHandlers, type SignalProcess } from '../src/shutdown.js';

describe('warehouse timeouts', () => {
  it('durations: milliseconds or a number with ms|s|min|h; anything else is not one', () => {
    expect(parseDurationMs(1500)).toBe(1500);
    expect(parseDurationMs('250')).toBe(250);
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('30s')).toBe(30_000);
    expect(parseDurationMs('10min')).toBe(600_000);
    expect(parseDurationMs('6h')).toBe(21_600_000);
    expect(parseDurationMs('0')).toBe(0);
    for (const bad of ['', '1.5s', '-1', '10 minutes', 'soon'])
      expect(parseDurationMs(bad), bad).toBeUndefined();
    expect(parseDurationMs(-5)).toBeUndefined();
  });

  it('defaults: connect 10s, statement 6h, lock 10min', () => {
    expect(poolTimeouts({})).toEqual({
      connectTimeoutMs: 10_000,
      statementTimeoutMs: 21_600_000,
      lockTimeoutMs: 600_000,
    });
  });

  it('dataflow.yml sets them under warehouse:, the environment overrides them', () => {
    const raw = {
      name: 'x',
      warehouse: { connect_timeout: '5s', statement_timeout: '1h', lock_timeout: 30000 },
    };
    const fromFile = parseConfig(raw, {}).config.warehouse;
    expect(poolTimeouts(fromFile)).toEqual({
      connectTimeoutMs: 5000,
      statementTimeoutMs: 3_600_000,
      lockTimeoutMs: 30_000,
    });
    const fromEnv = parseConfig(raw, {
      DATAFLOW_CONNECT_TIMEOUT: '2s',
      DATAFLOW_STATEMENT_TIMEOUT: '0',
      DATAFLOW_LOCK_TIMEOUT: '1min',
    }).config.warehouse;
    expect(poolTimeouts(fromEnv)).toEqual({
      connectTimeoutMs: 2000,
      statementTimeoutMs: 0,
      lockTimeoutMs: 60_000,
    });
  });

  it('a malformed timeout is a config error naming the key', () => {
    expect(() => parseConfig({ name: 'x', warehouse: { lock_timeout: 'ten minutes' } }, {})).toThrow(
      /lock_timeout/,
    );
    expect(() => parseConfig({ name: 'x' }, { DATAFLOW_CONNECT_TIMEOUT: 'soon' })).toThrow(/connect_timeout/);
  });
});

/** A process whose signals are fired by the test and whose exit is recorded. */
function fakeProcess(env: Record<string, string>) {
  const handlers = new Map<string, () => void>();
  let stderr = '';
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => {
    resolveExit = resolve;
  });
  const proc: SignalProcess = {
    on: (event, listener) => handlers.set(event, listener),
    exit: ((code: number) => {
      resolveExit(code);
    }) as SignalProcess['exit'],
    stderr: { write: (s: string) => (stderr += s) },
    env,
  };
  return { proc, fire: (s: string) => handlers.get(s)?.(), exited, stderr: () => stderr };
}

describe('signals', () => {
  it('SIGTERM aborts the command, and a command stuck past the grace period is exited with 143 and a reason', async () => {
    const fake = fakeProcess({ DATAFLOW_SHUTDOWN_GRACE: '10ms' });
    const controller = new AbortController();
    installSignalHandlers(controller, fake.proc);
    fake.fire('SIGTERM');
    expect(controller.signal.reason).toBe('SIGTERM');
    expect(await fake.exited).toBe(143);
    expect(fake.stderr()).toBe(
      'dataflow: SIGTERM: PostgreSQL did not answer within 0.01s; exiting 143 without recording the end of the run (the next run or `dataflow runs` marks it abandoned)\n',
    );
  });

  it('a second signal exits at once (130 for SIGINT)', async () => {
    const fake = fakeProcess({ DATAFLOW_SHUTDOWN_GRACE: '1h' });
    const controller = new AbortController();
    installSignalHandlers(controller, fake.proc);
    fake.fire('SIGINT');
    fake.fire('SIGINT');
    expect(await fake.exited).toBe(130);
    expect(fake.stderr()).toBe('');
  });
});
