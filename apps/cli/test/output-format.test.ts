import { describe, expect, it } from 'vitest';
import { transferBar } from '../src/output/bar-line.js';
import { colorEnabled, palette } from '../src/output/colors.js';
import { endSummary } from '../src/output/end-summary.js';
import { failureBlock } from '../src/output/failure-block.js';
import { tidyLogErrors } from '../src/output/log-errors.js';
import { resolveOutputMode } from '../src/output/mode.js';
import { nodeLine } from '../src/output/node-line.js';
import { sampleTable } from '../src/output/sample-table.js';
import { sourceLine } from '../src/output/source-line.js';
import { textLogLine } from '../src/output/text-log.js';
import { formatBytes, formatEta, formatSeconds, transferRate } from '../src/output/units.js';

const plain = palette(false);
const ESC = '\u001b[';

describe('nodeLine (dbt result lines)', () => {
  const model = {
    index: 3,
    total: 8,
    resourceType: 'model' as const,
    status: 'success' as const,
    name: 'fct_orders',
    relation: 'analytics.fct_orders',
    materialized: 'table',
    rows: 1000,
    durationMs: 420,
  };

  it('a table model: OK created table model, the SELECT row count and the seconds, dot leader', () => {
    const line = nodeLine(model, plain);
    expect(line).toMatch(
      /^3 of 8 OK created table model analytics\.fct_orders \.{3,} \[SELECT 1,000 in 0\.42s\]$/,
    );
    // dbt aligns the brackets: the leader pads every line to the same column.
    const other = nodeLine({ ...model, relation: 'analytics.x', name: 'x' }, plain);
    expect(other.indexOf('[')).toBe(line.indexOf('['));
  });

  it('views, incremental merges, seeds and snapshots in their own words', () => {
    expect(nodeLine({ ...model, materialized: 'view', rows: undefined }, plain)).toMatch(
      /OK created view model analytics\.fct_orders \.+ \[CREATE VIEW in 0\.42s\]$/,
    );
    expect(nodeLine({ ...model, materialized: 'incremental', action: 'merge', rows: 12 }, plain)).toMatch(
      /OK created incremental model .* \[MERGE 12 in 0\.42s\]$/,
    );
    expect(nodeLine({ ...model, resourceType: 'seed', relation: 'a.codes', rows: 250 }, plain)).toMatch(
      /OK loaded seed file a\.codes \.+ \[INSERT 250 in 0\.42s\]$/,
    );
    expect(nodeLine({ ...model, resourceType: 'snapshot', relation: 'a.snap', rows: 2 }, plain)).toMatch(
      /OK snapshotted a\.snap \.+ \[INSERT 2 in 0\.42s\]$/,
    );
  });

  it('tests: PASS, FAIL and WARN with their failure count, ERROR, SKIP', () => {
    const test = {
      index: 1,
      total: 2,
      resourceType: 'test' as const,
      name: 'unique_orders_id',
      durationMs: 50,
    };
    expect(nodeLine({ ...test, status: 'pass', failures: 0 }, plain)).toMatch(
      /^1 of 2 PASS unique_orders_id \.+ \[PASS in 0\.05s\]$/,
    );
    expect(nodeLine({ ...test, status: 'fail', failures: 3 }, plain)).toMatch(
      /^1 of 2 FAIL unique_orders_id \.+ \[FAIL 3 in 0\.05s\]$/,
    );
    expect(nodeLine({ ...test, status: 'warn', failures: 2 }, plain)).toMatch(
      /WARN unique_orders_id \.+ \[WARN 2 in/,
    );
    expect(nodeLine({ ...test, status: 'error' }, plain)).toMatch(
      /ERROR unique_orders_id \.+ \[ERROR in 0\.05s\]$/,
    );
    expect(nodeLine({ ...test, status: 'skipped' }, plain)).toMatch(
      /SKIP test unique_orders_id \.+ \[SKIP\]$/,
    );
    expect(nodeLine({ ...test, resourceType: 'unit_test', status: 'fail' }, plain)).toMatch(
      /FAIL unit test unique_orders_id/,
    );
  });

  it('a failed model is ERROR creating …, a skipped one SKIP relation …', () => {
    expect(nodeLine({ ...model, status: 'error' }, plain)).toMatch(
      /^3 of 8 ERROR creating table model analytics\.fct_orders \.+ \[ERROR in 0\.42s\]$/,
    );
    expect(nodeLine({ ...model, status: 'skipped' }, plain)).toMatch(
      /SKIP relation analytics\.fct_orders \.+ \[SKIP\]$/,
    );
  });

  it('colours the status: green OK, red FAIL; none with colour off', () => {
    const colors = palette(true);
    expect(nodeLine(model, colors)).toContain(`${ESC}32mOK`);
    expect(nodeLine({ ...model, resourceType: 'test', status: 'fail', failures: 1 }, colors)).toContain(
      `${ESC}31m`,
    );
    expect(nodeLine(model, plain)).not.toContain(ESC);
  });
});

describe('sourceLine (ingest and load lines)', () => {
  const base = { index: 1, total: 8, source: 'orders', partition: '2026-05-01', durationMs: 120 };
  it('ingest: rows, bytes, seconds', () => {
    expect(
      sourceLine({ ...base, step: 'ingest', status: 'ok', rows: 1000, bytes: 1_500_000 }, plain),
    ).toMatch(/^1 of 8 OK ingested orders 2026-05-01 \.+ \[1,000 rows, 1\.5 MB in 0\.12s\]$/);
  });
  it('load: the target table; rejected rows make it a WARN', () => {
    const line = sourceLine(
      { ...base, step: 'load', status: 'ok', rows: 98, rejected: 2, table: 'analytics.raw_orders' },
      plain,
    );
    expect(line).toMatch(
      /^1 of 8 WARN loaded orders 2026-05-01 into analytics\.raw_orders \.+ \[98 rows, 2 rejected in 0\.12s\]$/,
    );
  });
  it('skip and error', () => {
    expect(sourceLine({ ...base, step: 'load', status: 'skip' }, plain)).toMatch(
      /SKIP load orders 2026-05-01: nothing committed \.+ \[SKIP\]$/,
    );
    expect(sourceLine({ ...base, step: 'ingest', status: 'error' }, plain)).toMatch(
      /ERROR ingesting orders 2026-05-01 \.+ \[ERROR in 0\.12s\]$/,
    );
  });
});

describe('endSummary (dbt Done line)', () => {
  it('counts PASS/WARN/ERROR/SKIP and TOTAL; what ran by kind', () => {
    const s = endSummary(
      { pass: 5, warn: 1, error: 2, skip: 3, ran: { ingest: 2, 'table model': 1, 'data test': 8 } },
      2310,
      plain,
    );
    expect(s.done).toBe('Done. PASS=5 WARN=1 ERROR=2 SKIP=3 TOTAL=11');
    expect(s.head).toEqual([
      'Finished running 2 ingests, 1 table model, 8 data tests in 2.31s.',
      '',
      'Completed with 2 errors and 1 warning:',
    ]);
  });
  it('Completed successfully when nothing failed or warned', () => {
    expect(endSummary({ pass: 1, warn: 0, error: 0, skip: 0, ran: { seed: 1 } }, 10, plain).head[2]).toBe(
      'Completed successfully',
    );
  });
});

describe('failureBlock (a failing test as dbt shows it)', () => {
  it('name and file, count against threshold with severity, the first 5 sample rows as a table, the compiled SQL path', () => {
    const sample = Array.from({ length: 7 }, (_, i) => ({ order_id: 1000 + i, n_records: 2 }));
    const lines = failureBlock(
      {
        kind: 'test',
        level: 'error',
        name: 'unique_stg_orders_order_id',
        file: 'models/schema.yml',
        message: 'Got 7 results, configured to fail if != 0',
        failures: 7,
        severity: 'error',
        sample,
        compiledPath: 'target/compiled/shop/models/schema.yml/unique_stg_orders_order_id.sql',
      },
      plain,
    );
    expect(lines).toEqual([
      'Failure in test unique_stg_orders_order_id (models/schema.yml)',
      '  Got 7 results, configured to fail if != 0 (severity error)',
      '',
      '  | order_id | n_records |',
      '  | -------- | --------- |',
      '  | 1000     | 2         |',
      '  | 1001     | 2         |',
      '  | 1002     | 2         |',
      '  | 1003     | 2         |',
      '  | 1004     | 2         |',
      '  (first 5 of 7 failing rows)',
      '',
      '  compiled code at target/compiled/shop/models/schema.yml/unique_stg_orders_order_id.sql',
    ]);
    expect(lines.join('\n')).not.toMatch(/\bat .*\(.*:\d+:\d+\)/); // no stack frames
  });

  it('a warning test is a Warning; a failed model shows its message', () => {
    expect(failureBlock({ kind: 'test', level: 'warn', name: 't', message: 'Got 1 result' }, plain)[0]).toBe(
      'Warning in test t',
    );
    expect(
      failureBlock(
        {
          kind: 'model',
          level: 'error',
          name: 'm',
          file: 'models/m.sql',
          message: 'relation "x" does not exist',
        },
        plain,
      ),
    ).toEqual(['Error in model m (models/m.sql)', '  relation "x" does not exist']);
  });
});

describe('sampleTable', () => {
  it('columns of every row in first-seen order; null, objects and long values shown', () => {
    expect(sampleTable([{ a: null }, { a: 'x'.repeat(40), b: { k: 1 } }])).toEqual([
      `| a${' '.repeat(31)} | b       |`,
      `| ${'-'.repeat(32)} | ------- |`,
      `| null${' '.repeat(28)} | null    |`,
      `| ${'x'.repeat(31)}… | {"k":1} |`,
    ]);
  });
});

describe('colours follow NO_COLOR / FORCE_COLOR', () => {
  it.each([
    [{}, true, true],
    [{}, false, false],
    [{ NO_COLOR: '1' }, true, false],
    [{ NO_COLOR: '' }, true, true],
    [{ FORCE_COLOR: '1' }, false, true],
    [{ FORCE_COLOR: '0' }, true, false],
    [{ NO_COLOR: '1', FORCE_COLOR: '1' }, true, false],
    [{ TERM: 'dumb' }, true, false],
  ] as const)('env %j on a TTY %s: colour %s', (env, tty, expected) => {
    expect(colorEnabled(env, tty)).toBe(expected);
  });
});

describe('resolveOutputMode', () => {
  it('text with bars on a terminal, json lines off one; --log-format wins', () => {
    expect(resolveOutputMode({ env: {}, stderrIsTTY: true, level: 'warn' })).toEqual({
      format: 'text',
      color: true,
      live: true,
      stacks: false,
    });
    expect(resolveOutputMode({ env: {}, stderrIsTTY: false, level: 'info' })).toEqual({
      format: 'json',
      color: false,
      live: false,
      stacks: false,
    });
    expect(resolveOutputMode({ flag: 'text', env: {}, stderrIsTTY: false, level: 'debug' })).toEqual({
      format: 'text',
      color: false,
      live: false,
      stacks: true,
    });
    expect(resolveOutputMode({ flag: 'json', env: {}, stderrIsTTY: true, level: 'info' }).live).toBe(false);
    expect(
      resolveOutputMode({ env: { DATAFLOW_LOG_FORMAT: 'text' }, stderrIsTTY: false, level: 'info' }).format,
    ).toBe('text');
  });
  it('an unknown format is a usage error (exit 2)', () => {
    expect(() => resolveOutputMode({ flag: 'yaml', env: {}, stderrIsTTY: false, level: 'info' })).toThrow(
      /--log-format: expected one of text\|json, got "yaml"/,
    );
  });
});

describe('ETA and units', () => {
  it('ETA = bytes left / average rate; fraction of the total', () => {
    expect(transferRate({ bytes: 4_000_000, rows: 1000, totalBytes: 10_000_000 }, 2000)).toEqual({
      bytesPerSecond: 2_000_000,
      rowsPerSecond: 500,
      etaMs: 3000,
      fraction: 0.4,
    });
  });
  it('no ETA without a total or before anything moved; never negative when the count overshoots', () => {
    expect(transferRate({ bytes: 100, rows: 1 }, 1000).etaMs).toBeUndefined();
    expect(transferRate({ bytes: 0, rows: 0, totalBytes: 100 }, 1000)).toEqual({ fraction: 0 });
    expect(transferRate({ bytes: 120, rows: 1, totalBytes: 100 }, 1000)).toMatchObject({
      etaMs: 0,
      fraction: 1,
    });
  });
  it('bytes in SI units, seconds as dbt, ETA in whole seconds', () => {
    expect([formatBytes(512), formatBytes(1500), formatBytes(11_000_000)]).toEqual([
      '512 B',
      '1.5 kB',
      '11.0 MB',
    ]);
    expect([formatSeconds(420), formatSeconds(65_000), formatSeconds(3_725_000)]).toEqual([
      '0.42s',
      '1m 05s',
      '1h 02m 05s',
    ]);
    expect([formatEta(2100), formatEta(65_000)]).toEqual(['3s', '1m 05s']);
  });
  it('a transfer bar with a total shows percent, amount, rows, rate and ETA; without one rows and rate', () => {
    expect(transferBar('ingest orders 2026-05-01', { rows: 1000, bytes: 4e6, totalBytes: 1e7 }, 2000)).toBe(
      'ingest orders 2026-05-01 [████████░░░░░░░░░░░░]  40% 4.0/10.0 MB · 2.0 MB/s · ETA 3s · 1,000 rows',
    );
    expect(transferBar('ingest rates 2026-05-01', { rows: 8, bytes: 165 }, 1000)).toBe(
      'ingest rates 2026-05-01 165 B · 165 B/s · 8 rows',
    );
  });
});

describe('log lines', () => {
  const stackTrace = 'ModelingError: boom\n    at run (file:///x/build.js:1:2)';
  it('below debug an error keeps type, code and message, loses its stack and context objects; keys snake_case', () => {
    const tidy = tidyLogErrors(
      {
        msg: 'node failed',
        err: {
          type: 'ModelingError',
          message: 'boom',
          stack: stackTrace,
          code: 'AUDIT_FAILED',
          sqlState: '23505',
          audits: [{}],
        },
      },
      false,
    );
    expect(tidy).toEqual({
      msg: 'node failed',
      err: { type: 'ModelingError', message: 'boom', code: 'AUDIT_FAILED', sql_state: '23505' },
    });
  });
  it('at debug the stack stays, and the text line prints it under the message', () => {
    const entry = {
      level: 'error',
      time: '2026-05-01T08:01:02.000Z',
      msg: 'node failed',
      err: { message: 'boom', stack: stackTrace },
    };
    const tidy = tidyLogErrors(entry, true);
    expect((tidy.err as { stack: string }).stack).toBe(stackTrace);
    const text = textLogLine(tidy, plain);
    expect(text).toMatch(/^\d\d:\d\d:\d\d ERROR node failed {2}err=boom\nModelingError: boom\n {4}at run/);
  });
  it('a text log line: clock, level, message, fields (run_id and command left out)', () => {
    expect(
      textLogLine(
        {
          level: 'warn',
          time: '2026-05-01T08:01:02.000Z',
          run_id: 'r',
          command: 'run',
          msg: 'slow',
          table: 'a b',
          n: 2,
        },
        plain,
      ),
    ).toMatch(/^\d\d:\d\d:\d\d WARN {2}slow {2}table="a b" n=2$/);
  });
});
