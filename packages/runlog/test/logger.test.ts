import { describe, expect, it } from 'vitest';
import { createLogger, createRedactor } from '../src/index.js';

function collector() {
  const lines: string[] = [];
  return { lines, destination: { write: (s: string) => lines.push(s) } };
}

describe('createLogger', () => {
  it('writes one JSON line per call with run_id, level label and message', () => {
    const { lines, destination } = collector();
    const log = createLogger({ runId: 'run-1', destination, bindings: { command: 'run' } });
    log.info({ source: 'orders', rows: 3 }, 'ingested');
    log.debug({ hidden: true }, 'below level');
    expect(lines).toHaveLength(1);
    const rec = JSON.parse(lines[0] ?? '');
    expect(rec).toMatchObject({ run_id: 'run-1', command: 'run', level: 'info', source: 'orders', rows: 3 });
    expect(rec.msg).toBe('ingested');
  });

  it('binds run_id on child loggers too', () => {
    const { lines, destination } = collector();
    createLogger({ runId: 'run-2', destination }).child({ step: 'load' }).warn({}, 'slow');
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      run_id: 'run-2',
      step: 'load',
      level: 'warn',
      msg: 'slow',
    });
  });

  it('redacts secret keys, URL passwords and registered values', () => {
    const { lines, destination } = collector();
    const redactor = createRedactor(['tok-9f8e7d']);
    const log = createLogger({ runId: 'r', destination, redactor });
    log.info(
      {
        password: 'pw1234',
        request: { headers: { authorization: 'Bearer abcdef' }, url: 'https://x/y?token=tok-9f8e7d' },
        url: 'postgres://app:hunter22@db/x',
      },
      'calling with tok-9f8e7d',
    );
    const text = lines.join('');
    expect(text).not.toContain('pw1234');
    expect(text).not.toContain('abcdef');
    expect(text).not.toContain('hunter22');
    expect(text).not.toContain('tok-9f8e7d');
    const rec = JSON.parse(lines[0] ?? '');
    expect(rec.password).toBe('***');
    expect(rec.url).toBe('postgres://app:***@db/x');
    expect(rec.msg).toBe('calling with ***');
  });

  it('pretty mode prints readable lines, still redacted', () => {
    const { lines, destination } = collector();
    const log = createLogger({
      runId: 'r-pretty',
      destination,
      pretty: true,
      redactor: createRedactor(['zz-secret']),
    });
    log.info({ source: 'orders' }, 'loaded zz-secret');
    const text = lines.join('');
    expect(text).toContain('INFO');
    expect(text).toContain('loaded ***');
    expect(text).toContain('r-pretty');
    expect(() => JSON.parse(text)).toThrow();
  });
});
