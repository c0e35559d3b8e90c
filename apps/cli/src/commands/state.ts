import { z } from 'zod';
import { projectArgFields } from '../arg-schemas.js';
import { projectFlags } from '../args.js';
import type { SourceConfig } from '../config/schema.js';
import { CliError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { println } from '../io.js';
import { defineCommand } from '../lifecycle.js';

/** How long `set` / `reset` wait for a running cursor run of the source. */
const LEASE_WAIT_MS = 30_000;

/** The cursor source `name`, or a usage error naming what is wrong. */
function cursorSource(sources: Record<string, SourceConfig>, name: string) {
  const source = sources[name];
  if (!source) throw new CliError('USAGE', `--source: no source ${name} in the project`);
  if (!source.incremental) {
    throw new CliError(
      'USAGE',
      `--source: source ${name} has no incremental: block (it keeps no cursor state)`,
    );
  }
  return source.incremental;
}

/**
 * `--value` as the cursor's type: a number when `initial_value` is one, else the text given.
 *
 * @example
 * cursorValueArg('42', 0); // 42
 */
export function cursorValueArg(value: string, initialValue: string | number): string | number {
  if (typeof initialValue !== 'number') return value;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) {
    throw new CliError(
      'USAGE',
      `--value: the cursor is numeric (initial_value ${initialValue}); got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/**
 * `dataflow state show|set|reset --source X`: an operator's view and explicit moves of an
 * incremental source's cursor (kept in the warehouse, `<schema>._dataflow_state`). `set` and
 * `reset` wait for a running cursor run of the source (its lease) first. A full refresh never
 * resets state: only this command does.
 */
export const stateCommand = defineCommand({
  name: 'state',
  flags: {
    ...projectFlags,
    source: { type: 'string', description: 'The incremental source', valueHint: 'NAME' },
    value: { type: 'string', description: 'set: the new last value of the cursor', valueHint: 'VALUE' },
  },
  positionals: [{ name: 'action', description: 'show | set | reset', required: true }],
  examples: [
    'dataflow state show --source rates',
    'dataflow state set --source rates --value 2026-05-01T00:00:00Z   # re-read from there',
    'dataflow state reset --source rates   # the next run starts at initial_value',
  ],
  args: z
    .object({
      ...projectArgFields,
      _: z.tuple([z.enum(['show', 'set', 'reset'], { error: 'expected show, set or reset' })]),
      source: z.string().min(1, 'expected a source name'),
      value: z.string().optional(),
    })
    .transform((v) => {
      if (v._[0] === 'set' && v.value === undefined)
        throw new CliError('USAGE', '--value: required by state set');
      if (v._[0] !== 'set' && v.value !== undefined)
        throw new CliError('USAGE', '--value: only state set takes it');
      return { action: v._[0], source: v.source, value: v.value };
    }),
  needs: 'project',
  quietLogs: true,
  check({ project, args }) {
    cursorSource(project.config.sources, args.source);
  },
  async run({ args, project, logger, invocation }) {
    const [{ openDatabase }, warehouse] = await Promise.all([
      import('../database.js'),
      import('@dataflow/warehouse'),
    ]);
    const incremental = cursorSource(project.config.sources, args.source);
    const key = { schema: project.config.warehouse.schema, source: args.source };
    const db = await openDatabase(project, logger, invocation.signal);
    try {
      if (args.action === 'show') {
        const state = await warehouse.readCursorState(db.pool, key);
        println(
          invocation.io,
          JSON.stringify(state ? stateJson(state) : { source: args.source, state: null }),
        );
        return EXIT.OK;
      }
      const lease = await warehouse.acquireCursorLease(db.pool, {
        ...key,
        timeoutMs: LEASE_WAIT_MS,
        signal: invocation.signal,
      });
      try {
        if (args.action === 'reset') {
          const had = await warehouse.resetCursorState(db.pool, key);
          logger.warn({ source: args.source, had_state: had }, 'cursor state reset by the operator');
          println(invocation.io, JSON.stringify({ source: args.source, reset: had }));
          return EXIT.OK;
        }
        const lastValue = cursorValueArg(args.value as string, incremental.initial_value);
        const cursorPath = 'cursor_path' in incremental ? incremental.cursor_path : incremental.cursor_column;
        const state = await warehouse.setCursorState(db.pool, {
          ...key,
          cursorPath,
          state: { lastValue, boundaryKeys: [] },
          runId: 'operator',
        });
        logger.warn({ source: args.source }, 'cursor state set by the operator');
        println(invocation.io, JSON.stringify(stateJson(state)));
        return EXIT.OK;
      } finally {
        await lease.release();
      }
    } finally {
      await db.close();
    }
  },
});

function stateJson(state: import('@dataflow/warehouse').StoredCursorState) {
  return {
    source: state.source,
    cursor_path: state.cursorPath,
    last_value: state.lastValue,
    boundary_keys: state.boundaryKeys.length,
    run_id: state.runId,
    partition: state.partition ?? null,
    updated_at: state.updatedAt,
  };
}
