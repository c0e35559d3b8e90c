import { z } from 'zod';
import { dateArg, identifierArg, projectArgFields, selectorsArg } from '../arg-schemas.js';
import { projectFlags, selectionFlags, targetSchemaFlag } from '../args.js';
import { CliError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { println } from '../io.js';
import { defineCommand } from '../lifecycle.js';

const args = z
  .object({
    ...projectArgFields,
    out: z.string().min(1).optional(),
    check: z.boolean().optional(),
    'dag-id': z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,250}$/, 'letters, digits, _ . - only (at most 250)')
      .optional(),
    schedule: z.string().trim().min(1, 'empty').optional(),
    'start-date': dateArg.optional(),
    'worker-project': z.string().min(1).optional(),
    select: selectorsArg,
    exclude: selectorsArg,
    'target-schema': identifierArg.optional(),
  })
  .refine((v) => !v.check || v.out !== undefined, { message: '--check needs --out FILE', path: ['check'] });

/**
 * `dataflow airflow`: compiles the project (as `dataflow compile`, no database) and writes an
 * Airflow DAG with one task per model (stdout, or `--out FILE`; `--check` exits 1 when FILE is stale).
 */
export const airflowCommand = defineCommand({
  name: 'airflow',
  flags: {
    ...projectFlags,
    out: { type: 'string', description: 'Write the DAG file here (default: stdout)', valueHint: 'FILE' },
    check: { type: 'boolean', description: 'Exit 1 when --out differs from what would be generated' },
    'dag-id': { type: 'string', description: 'DAG id (default dataflow_<name>_models)', valueHint: 'ID' },
    schedule: { type: 'string', description: 'Schedule (default @daily; none = manual)', valueHint: 'CRON' },
    'start-date': {
      type: 'string',
      description: 'First logical date (default 2026-01-01)',
      valueHint: 'YYYY-MM-DD',
    },
    'worker-project': {
      type: 'string',
      description: 'Project directory on the Airflow workers (default: the absolute --project path)',
      valueHint: 'DIR',
    },
    ...selectionFlags,
    ...targetSchemaFlag,
  },
  examples: [
    'dataflow airflow --out dags/shop_models.py --worker-project /opt/shop',
    'dataflow airflow --out dags/shop_models.py --worker-project /opt/shop --check   # CI',
  ],
  args,
  needs: 'project',
  async run({ args, project, logger, invocation }) {
    const [{ compile }, { planAirflowDag }, { renderAirflowDag }, { airflowCommandLine }] = await Promise.all(
      [
        import('../compile-project.js'),
        import('../airflow/plan.js'),
        import('../airflow/render.js'),
        import('../airflow/command-line.js'),
      ],
    );
    const graph = await compile(
      project,
      logger,
      { targetSchema: args['target-schema'], redact: (s) => invocation.redactor.add(s) },
      undefined,
    );
    const plan = planAirflowDag(graph, project.config, {
      dagId: args['dag-id'],
      schedule: args.schedule,
      startDate: args['start-date'],
      workerProject: args['worker-project'] ?? project.dir,
      select: args.select,
      exclude: args.exclude,
      targetSchema: args['target-schema'],
      generatedBy: airflowCommandLine(args),
    });
    const text = renderAirflowDag(plan);
    const { io } = invocation;
    if (!args.out) {
      io.stdout.write(text);
      return EXIT.OK;
    }
    const [{ readFile }, { resolve }, { writeAtomically }] = await Promise.all([
      import('node:fs/promises'),
      import('node:path'),
      import('../airflow/write-atomically.js'),
    ]);
    const path = resolve(invocation.cwd, args.out);
    if (!args.check) {
      await writeAtomically(path, text);
      const models = plan.tasks.filter((t) => t.kind === 'model').length;
      println(
        io,
        `wrote ${args.out}: ${plan.tasks.length} tasks (${models} models), ${plan.testCount} tests`,
      );
      return EXIT.OK;
    }
    const current = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw new CliError('USAGE', `--out ${args.out}: cannot read: ${error.message}`, { cause: error });
    });
    if (current === text) {
      println(io, `${args.out} is up to date`);
      return EXIT.OK;
    }
    io.stderr.write(
      `dataflow airflow: ${args.out} is ${current === undefined ? 'missing' : 'stale'}; regenerate: ${plan.generatedBy}\n`,
    );
    return EXIT.RUNTIME;
  },
});
