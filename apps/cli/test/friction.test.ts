// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests feed literal ${ENV} references to the config parser
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger, type JobRecord } from '@dataflow/runlog';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { formatInterval, formatJobsTable, runDetailToJson } from '../src/commands/runs-format.js';
import { scaffoldFiles, snakeKeys } from '../src/index.js';
import { routeProcessWarnings } from '../src/process-warnings.js';
import { snakeCaseLogger } from '../src/snake-case.js';
import { cli, tempProject } from './helpers.js';
import { ROOT } from './ts-project.js';

// Some of these compile projects or load tsx: generous timeouts, no test depends on an idle machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
const project = async (files: Record<string, string>) => {
  const dir = await tempProject(files);
  dirs.push(dir);
  return dir;
};
const TWO_SOURCES = `name: shop
sources:
  orders: { type: csv, location: data/orders.csv }
  customers: { type: csv, location: data/customers.csv }
`;

describe('configuration mistakes fail early, exit 2, naming the file and key', () => {
  it('an unset ${VAR} names the variable and the key instead of falling back to the embedded server', async () => {
    const dir = await project({ 'dataflow.yml': 'name: x\nwarehouse:\n  url: ${DATABSE_URL}\n' });
    const r = await cli(['build'], { cwd: dir, env: { DATABASE_URL: 'postgres://h/d' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'dataflow build: dataflow.yml: warehouse.url: environment variable DATABSE_URL is not set (write ${DATABSE_URL:-} if it is optional)\n',
    );
    expect(r.summary).toMatchObject({ status: 'failed', exit_code: 2, error: { code: 'CONFIG_INVALID' } });
  });

  it('two sources mapped to one table exit 2 naming both', async () => {
    const dir = await project({
      'dataflow.yml': `${TWO_SOURCES.replace('data/customers.csv }', 'data/customers.csv, table: raw_orders }')}`,
    });
    const r = await cli(['load', '--date', '2026-05-01'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('sources.customers.table: raw_orders is also the table of source orders');
    expect(r.stderr).toContain('sources orders and customers');
  });

  it('dataflow compile finds merge without primary_key and an unknown column type', async () => {
    const merge = await project({
      'dataflow.yml': 'name: x\nsources:\n  o: { type: csv, location: o.csv, disposition: merge }\n',
    });
    const m = await cli(['compile'], { cwd: merge });
    expect(m.code).toBe(2);
    expect(m.stderr).toBe(
      'dataflow compile: dataflow.yml: sources.o.primary_key: required with disposition merge (the key rows are merged on)\n',
    );
    const type = await project({
      'dataflow.yml': 'name: x\nsources:\n  o: { type: csv, location: o.csv, columns: { id: bigserial } }\n',
    });
    const t = await cli(['compile'], { cwd: type });
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(
      /^dataflow compile: dataflow\.yml: sources\.o\.columns\.id: expected one of text\|/,
    );
  });
});

describe('--source', () => {
  it('an unknown source exits 2 with "did you mean", before any database is opened', async () => {
    const dir = await project({ 'dataflow.yml': TWO_SOURCES });
    // No warehouse.url: were a database opened, this would start an embedded PostgreSQL.
    const r = await cli(['ingest', '--date', '2026-05-01', '--source', 'ordres'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "dataflow ingest: --source ordres: no such source (did you mean 'orders'?); sources: orders, customers\n",
    );
    expect(r.summary).toMatchObject({ status: 'failed', exit_code: 2 });
    const listed = await cli(['load', '--date', '2026-05-01', '--source', 'orders,nope'], { cwd: dir });
    expect(listed.code).toBe(2);
    expect(listed.stderr).toContain('--source nope: no such source');
  });
});

describe('--help', () => {
  it('lists only the flags the command uses, with examples', async () => {
    const ingest = await cli(['ingest', '--help']);
    expect(ingest.code).toBe(0);
    expect(ingest.stdout).toContain('--source NAME');
    for (const unused of ['--select', '--threads', '--full-refresh', '--target-schema'])
      expect(ingest.stdout).not.toContain(unused);
    expect(ingest.stdout).toMatch(/EXAMPLES\n {2}dataflow ingest --date 2026-05-01\n/);
    const test = await cli(['test', '--help']);
    expect(test.stdout).toContain('--select SPEC');
    expect(test.stdout).not.toContain('--full-refresh');
    expect(test.stdout).not.toContain('--source');
    const init = await cli(['init', '--help']);
    expect(init.stdout).toContain('dataflow init DIR [flags]');
    expect(init.stdout).toContain('--typescript');
    expect(init.stdout).not.toContain('--project');
    const compile = await cli(['compile', '--help']);
    expect(compile.stdout).not.toContain('--date');
  });
});

describe('dataflow init', () => {
  it('the YAML scaffold documents ${VAR:-} as the explicit "optional"', () => {
    expect(scaffoldFiles('shop')['dataflow.yml']).toContain('${DATABASE_URL:-}');
  });

  it('--typescript scaffolds dataflow.config.ts whose models compile', async () => {
    const parent = await project({});
    const r = await cli(['init', 'tsshop', '--typescript'], { cwd: parent });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('created tsshop');
    const dir = join(parent, 'tsshop');
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg).toMatchObject({ type: 'module', dependencies: { '@dataflow/cli': '0.1.0' } });
    await expect(readFile(join(dir, 'dataflow.yml'), 'utf8')).rejects.toThrow();
    // The temp dir has no node_modules: map @dataflow/* to the workspace sources, as `npm install` would.
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          baseUrl: ROOT,
          paths: { '@dataflow/cli': ['apps/cli/src/index.ts'], '@dataflow/*': ['packages/*/src/index.ts'] },
        },
      }),
    );
    const compiled = await cli(['compile'], { cwd: dir });
    expect(
      compiled.stderr
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).msg),
    ).toEqual(['no warehouse connection configured: compiled offline (execute false)']);
    expect(compiled.code).toBe(0);
    expect(compiled.stdout).toContain('model stg_orders (view) -> public.stg_orders');
    expect(compiled.stdout).toContain('model fct_daily_revenue (table) -> public.fct_daily_revenue');
    expect(compiled.stdout).toContain('compiled 2 models, 0 seeds, 6 tests');
  });
});

describe('JSON output is snake_case', () => {
  it('snakeKeys converts field names but keeps node ids, column names and user data', () => {
    expect(
      snakeKeys({
        runId: 'r',
        jobs: [{ durationMs: 5, rowsIn: 1 }],
        nodes: {
          'model.p.fctOrders': { uniqueId: 'model.p.fctOrders', columns: { orderId: { dataType: 'int' } } },
        },
        vars: { myVar: 1 },
      }),
    ).toEqual({
      run_id: 'r',
      jobs: [{ duration_ms: 5, rows_in: 1 }],
      nodes: {
        'model.p.fctOrders': { unique_id: 'model.p.fctOrders', columns: { orderId: { data_type: 'int' } } },
      },
      vars: { myVar: 1 },
    });
  });

  it('the CLI logger writes snake_case fields whatever the library logging', async () => {
    const lines: string[] = [];
    const logger = snakeCaseLogger(
      createLogger({ runId: 'r', destination: { write: (l: string) => lines.push(l) } }),
    );
    logger.child({ sourceName: 'orders' }).info({ rowsLoaded: 3, err: { sqlState: '23505' } }, 'loaded');
    await logger.flush();
    const line = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(line).toMatchObject({
      source_name: 'orders',
      rows_loaded: 3,
      err: { sql_state: '23505' },
      msg: 'loaded',
    });
    expect(lines[0]).not.toMatch(/"[a-z]+[A-Z][A-Za-z]*":/);
  });

  it('compile --json prints the graph with snake_case keys', async () => {
    const parent = await project({});
    await cli(['init', 'p'], { cwd: parent });
    const r = await cli(['compile', '--json'], { cwd: join(parent, 'p') });
    expect(r.code).toBe(0);
    const graph = JSON.parse(r.stdout) as {
      project_name: string;
      nodes: Record<string, { unique_id: string }>;
    };
    expect(graph.project_name).toBe('p');
    expect(graph.nodes['model.p.stg_orders']?.unique_id).toBe('model.p.stg_orders');
    expect(r.stdout).not.toMatch(/"(uniqueId|resourceType|compiledSql|parentMap)"/);
  });
});

describe('runs output', () => {
  const job = (
    jobId: number,
    target: string,
    startedAt: string,
    step: JobRecord['step'] = 'test',
  ): JobRecord => ({
    jobId,
    runId: 'r',
    step,
    target,
    uniqueId: null,
    partition: '2026-05-01',
    status: 'success',
    startedAt: new Date(startedAt),
    endedAt: null,
    durationMs: 1200,
    rowsIn: null,
    rowsOut: null,
    rowsRejected: null,
    errorClass: null,
    errorCode: null,
    errorMessage: null,
  });
  const longName = 'accepted_values_stg_orders_status__placed__shipped__completed__returned';

  it('a range shows every day it covered', () => {
    expect(formatInterval('2026-05-01', '2026-05-02')).toBe('2026-05-01');
    expect(formatInterval('2026-05-01', '2026-05-04')).toBe('2026-05-01..2026-05-03 (3 days)');
    expect(formatInterval(null, null)).toBe('');
  });

  it('--run lists steps in execution order with full test names', () => {
    // Build nodes are recorded when they end, so insertion order (job id) is not execution order.
    const jobs = [
      job(1, 'orders', '2026-05-01T00:00:02Z', 'load'),
      job(3, 'stg_orders', '2026-05-01T00:00:03Z', 'model'),
      job(2, longName, '2026-05-01T00:00:04Z'),
      job(0, 'orders', '2026-05-01T00:00:01Z', 'ingest'),
    ];
    const lines = formatJobsTable(jobs).split('\n');
    expect(lines[0]).toMatch(/^STEP\s+TARGET\s+PARTITION\s+STATUS\s+TIME\s+ROWS/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual([
      'ingest orders',
      'load orders',
      'model stg_orders',
      `test ${longName}`,
    ]);
    const json = runDetailToJson({
      runId: 'r',
      command: 'run',
      args: [],
      project: 'p',
      intervalStart: '2026-05-01',
      intervalEnd: '2026-05-02',
      status: 'success',
      exitCode: 0,
      startedAt: new Date('2026-05-01T00:00:00Z'),
      endedAt: null,
      durationMs: 5,
      rowsIn: 0,
      rowsOut: 0,
      rowsRejected: 0,
      errorClass: null,
      errorCode: null,
      errorMessage: null,
      host: null,
      version: null,
      airflow: {},
      jobs,
      rowCounts: [],
      testResults: [],
    });
    expect(json.jobs).toEqual(
      expect.arrayContaining([expect.objectContaining({ job_id: 2, target: longName, duration_ms: 1200 })]),
    );
    expect((json.jobs as Array<{ job_id: number }>).map((j) => j.job_id)).toEqual([0, 1, 3, 2]);
  });
});

describe('process warnings', () => {
  it("go through the logger as one JSON line, not Node's plain-text print", async () => {
    const lines: string[] = [];
    const logger = createLogger({ runId: 'r', destination: { write: (l: string) => lines.push(l) } });
    const printed = vi.fn();
    process.on('warning', printed);
    const restore = routeProcessWarnings(logger);
    try {
      process.emitWarning(
        'NodeVersionSupportWarning: The AWS SDK for JavaScript (v3)\nversions published after the first week of January 2027\nwill require node >=22.',
      );
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      restore();
    }
    expect(printed).not.toHaveBeenCalled();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 'warn',
      warning: 'NodeVersionSupportWarning',
      msg: 'The AWS SDK for JavaScript (v3)',
    });
    // The previous listeners are back.
    expect(process.listeners('warning')).toContain(printed);
    process.removeListener('warning', printed);
  });
});
