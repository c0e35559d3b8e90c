import { createLogger, createRedactor } from '@dataflow/runlog';
import { describe, expect, it } from 'vitest';
import { LiveRenderer } from '../src/output/live-renderer.js';
import { resolveOutputMode } from '../src/output/mode.js';
import { createReporter } from '../src/output/reporter.js';
import { createTerminal } from '../src/output/terminal.js';

/**
 * A fake terminal: applies the writes (text, `\n`, `\r`, cursor up `ESC[nA`, erase down `ESC[J`)
 * to a screen of rows, so a test can assert what a person sees, plus the raw writes.
 */
function fakeTty(columns = 60) {
  const rows: string[] = [''];
  let y = 0;
  let x = 0;
  const writes: string[] = [];
  const stream = {
    isTTY: true,
    columns,
    write(chunk: string) {
      writes.push(chunk);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: parsing ANSI sequences
      for (const token of chunk.split(/(\u001b\[\d*[AJ]|\r|\n)/)) {
        if (!token) continue;
        if (token === '\n') {
          y += 1;
          x = 0;
          if (rows.length <= y) rows.push('');
        } else if (token === '\r') x = 0;
        else if (token.startsWith('\u001b[') && token.endsWith('A'))
          y = Math.max(0, y - Number(token.slice(2, -1) || '1'));
        else if (token === '\u001b[J') {
          rows.length = y + 1;
          rows[y] = (rows[y] ?? '').slice(0, x);
        } else {
          const row = rows[y] ?? '';
          rows[y] = row.slice(0, x) + token + row.slice(x + token.length);
          x += token.length;
        }
      }
      return true;
    },
  };
  return { stream, writes, screen: () => rows.slice(0, rows.at(-1) === '' ? -1 : undefined) };
}

describe('LiveRenderer on a fake TTY', () => {
  it('prints log lines ABOVE the bars, and the bars stay at the bottom, redrawn', () => {
    const tty = fakeTty();
    const live = new LiveRenderer(tty.stream, { throttleMs: 0 });
    live.setBar('a', 'ingest orders 10%');
    live.setBar('b', 'ingest payments 0%');
    expect(tty.screen()).toEqual(['ingest orders 10%', 'ingest payments 0%']);
    live.log('1 of 4 OK ingested customers');
    expect(tty.screen()).toEqual(['1 of 4 OK ingested customers', 'ingest orders 10%', 'ingest payments 0%']);
    live.setBar('a', 'ingest orders 55%');
    expect(tty.screen()).toEqual(['1 of 4 OK ingested customers', 'ingest orders 55%', 'ingest payments 0%']);
    live.setBar('a', undefined);
    live.log('2 of 4 OK ingested orders');
    expect(tty.screen()).toEqual([
      '1 of 4 OK ingested customers',
      '2 of 4 OK ingested orders',
      'ingest payments 0%',
    ]);
    live.stop();
    expect(tty.screen()).toEqual(['1 of 4 OK ingested customers', '2 of 4 OK ingested orders']);
    live.log('Done.');
    expect(tty.screen().at(-1)).toBe('Done.');
  });

  it('a bar redraw erases exactly the rows it drew (cursor up N, erase down), in one write', () => {
    const tty = fakeTty();
    const live = new LiveRenderer(tty.stream, { throttleMs: 0 });
    live.setBar('a', 'one');
    live.setBar('b', 'two');
    tty.writes.length = 0;
    live.log('line');
    expect(tty.writes).toEqual(['\u001b[2A\r\u001b[Jline\none\ntwo\n']);
  });

  it('throttles bar redraws: updates within the interval wait for the timer, logs redraw at once', () => {
    const tty = fakeTty();
    let t = 0;
    const live = new LiveRenderer(tty.stream, { throttleMs: 100, now: () => t });
    live.setBar('a', 'v1');
    const drawn = tty.writes.length;
    t = 10;
    live.setBar('a', 'v2');
    expect(tty.writes.length).toBe(drawn); // not redrawn yet
    live.log('x');
    expect(tty.screen()).toEqual(['x', 'v2']);
    live.stop();
  });

  it('cuts bars to the terminal width so each bar is one row', () => {
    const tty = fakeTty(30);
    const live = new LiveRenderer(tty.stream, { throttleMs: 0 });
    live.setBar('a', 'x'.repeat(50));
    expect(tty.screen()).toEqual([`${'x'.repeat(28)}…`]);
    live.stop();
  });
});

describe('the reporter over a terminal', () => {
  const logger = () => createLogger({ runId: 'r', level: 'silent' });

  it('text on a TTY: transfer bars while data moves, result lines above them, Done. at the end, no bars left', () => {
    const tty = fakeTty(120);
    const mode = resolveOutputMode({ env: { NO_COLOR: '1' }, stderrIsTTY: true, level: 'warn' });
    const terminal = createTerminal(tty.stream, mode, createRedactor(), { throttleMs: 0 });
    const reporter = createReporter(terminal, logger());
    reporter.planSources(2);
    const orders = reporter.sourceStarted('ingest', 'orders', '2026-05-01');
    orders.progress({ rows: 10, bytes: 500, totalBytes: 1000 });
    expect(tty.screen().at(-1)).toMatch(
      /^ingest orders 2026-05-01 \[█+░+\] {2}50% 500 B\/1\.0 kB · .*10 rows$/,
    );
    orders.finished({ status: 'ok', rows: 20 });
    const build = reporter.buildStarted('build', 1);
    build.nodeStarted('stg_orders');
    expect(tty.screen().at(-1)).toMatch(/^build \[░+\] 0\/1 · running stg_orders$/);
    build.nodeFinished({
      uniqueId: 'model.shop.stg_orders',
      kind: 'view model',
      line: {
        resourceType: 'model',
        status: 'success',
        name: 'stg_orders',
        relation: 'a.stg_orders',
        materialized: 'view',
        durationMs: 80,
      },
    });
    build.finished();
    reporter.finish(1000);
    const screen = tty.screen();
    expect(screen[0]).toMatch(/^1 of 2 OK ingested orders 2026-05-01 \.+ \[20 rows, 500 B in \d+\.\d\ds\]$/);
    expect(screen[1]).toMatch(/^1 of 1 OK created view model a\.stg_orders \.+ \[CREATE VIEW in 0\.08s\]$/);
    expect(screen.at(-1)).toBe('Done. PASS=2 WARN=0 ERROR=0 SKIP=0 TOTAL=2');
    expect(screen.some((l) => l.includes('█') || l.includes('░'))).toBe(false);
    expect(tty.writes.join('')).not.toContain('\u001b[39m'); // NO_COLOR: no colour reset code
    expect(tty.writes.join('')).not.toContain('\u001b[32m');
  });

  it('a failed ingest is one ERROR line and an error block at the end; a failure after its result line is not a second line', () => {
    const tty = fakeTty(120);
    const mode = resolveOutputMode({ env: {}, stderrIsTTY: false, flag: 'text', level: 'warn' });
    const terminal = createTerminal(tty.stream, mode, createRedactor());
    const reporter = createReporter(terminal, logger());
    reporter.planSources(2);
    const bad = reporter.sourceStarted('ingest', 'orders', '2026-05-01');
    bad.failed(new Error('orders: cannot read data/orders/2026-05-01.csv'));
    const good = reporter.sourceStarted('ingest', 'rates', '2026-05-01');
    good.finished({ status: 'ok', rows: 8 });
    good.failed(new Error('could not record the job'));
    reporter.finish(10);
    const screen = tty.screen();
    expect(screen.filter((l) => / of 2 /.test(l))).toEqual([
      expect.stringMatching(/^1 of 2 ERROR ingesting orders 2026-05-01 \.+ \[ERROR in \d+\.\d\ds\]$/),
      expect.stringMatching(/^2 of 2 OK ingested rates 2026-05-01 \.+ \[8 rows in/),
    ]);
    expect(screen).toContain('Error in ingest orders 2026-05-01');
    expect(screen).toContain('  orders: cannot read data/orders/2026-05-01.csv');
    expect(screen.at(-1)).toBe('Done. PASS=1 WARN=0 ERROR=1 SKIP=0 TOTAL=2');
  });

  it('json off a TTY: no bars, no escape codes; results and failures as snake_case JSON lines with sample rows', () => {
    const lines: string[] = [];
    const stderr = { write: (s: string) => lines.push(s) };
    const mode = resolveOutputMode({ env: {}, stderrIsTTY: false, level: 'info' });
    const terminal = createTerminal(stderr, mode, createRedactor());
    const log = createLogger({ runId: 'r', level: 'info', destination: terminal.logSink });
    const reporter = createReporter(terminal, log);
    const t = reporter.sourceStarted('load', 'orders', '2026-05-01');
    t.progress({ rows: 1, bytes: 10, totalBytes: 20 });
    t.finished({ status: 'ok', rows: 5, table: 'a.raw_orders' });
    const build = reporter.buildStarted('build', 1);
    build.nodeFinished({
      uniqueId: 'test.shop.unique_x',
      kind: 'data test',
      line: { resourceType: 'test', status: 'fail', name: 'unique_x', durationMs: 5, failures: 1 },
      failure: {
        kind: 'test',
        level: 'error',
        name: 'unique_x',
        failures: 1,
        severity: 'error',
        message: 'Got 1 result, configured to fail if != 0',
        sample: [{ id: 7 }],
        compiledPath: 'target/compiled/shop/x.sql',
      },
    });
    reporter.finish(100);
    const text = lines.join('');
    expect(text).not.toContain('\u001b[');
    const entries = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries[0]?.msg).toMatch(
      /^1 of 1 OK loaded orders 2026-05-01 into a\.raw_orders \[5 rows, 10 B in \d+\.\d\ds\]$/,
    );
    expect(entries.slice(1).map((e) => e.msg)).toEqual([
      '1 of 1 FAIL unique_x [FAIL 1 in 0.01s]',
      'test unique_x: Got 1 result, configured to fail if != 0',
      'Done. PASS=1 WARN=0 ERROR=1 SKIP=0 TOTAL=2',
    ]);
    expect(entries[2]).toMatchObject({
      level: 'error',
      failures: 1,
      severity: 'error',
      compiled_path: 'target/compiled/shop/x.sql',
      sample: [{ id: 7 }],
    });
    expect(entries[1]).toMatchObject({ node: 'test.shop.unique_x', resource_type: 'test', status: 'fail' });
  });
});
