import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import {
  captureDependentViews,
  classifyPgError,
  dropDependentViewsSql,
  inTransaction,
  quoteIdent,
  recreateDependentViewsSql,
  runToken,
  sqlStateOf,
} from '@dataflow/pg';
import { type CompiledTest, runTest, type TestResult } from '@dataflow/quality';
import { type Logger, loadSeed } from '@dataflow/warehouse';
import type pg from 'pg';
import { isModelingError, ModelingError } from './errors.js';
import {
  type ModelNode,
  RELATION_PLACEHOLDER,
  type RelationInfo,
  type SeedNode,
  type TestNode,
} from './graph.js';
import { renderFailure } from './introspection/test-for-run.js';
import { assertUniqueKeys } from './key-check.js';
import {
  COLUMNS_SQL,
  type ColumnInfo,
  DEPENDENT_VIEW_NAMES_SQL,
  planCreateTemp,
  planDependentViewLocks,
  planDropTemp,
  planIncremental,
  planLockRelation,
  planPublishLock,
  planReplaceView,
  planSwap,
  RELATION_KIND_SQL,
  type RelationKind,
  viewColumnsCompatible,
  type WorkNames,
  workNames,
} from './plan.js';
import {
  type Grant,
  type PublishConfigs,
  planComments,
  planGrants,
  publishConfigsOf,
  SHOW_GRANTS_SQL,
} from './publish-configs.js';
import { planSchemaChange } from './schema-change.js';

/** Structural logger (pino's `(obj, msg)` signature), the one the whole load flow shares. */
export type { Logger };

/** What materializing one model or seed did. */
export interface MaterializeOutcome {
  rows?: number;
  /** Results of the write-audit-publish tests (empty when the node has none). */
  audits: Array<{ uniqueId: string; result: TestResult }>;
  /** `created`, `swapped`, `replaced` (view in place), `merged` / `appended` / `delete+insert` (incremental). */
  action: string;
}

export interface MaterializeContext {
  client: pg.PoolClient;
  pool: pg.Pool;
  fullRefresh: boolean;
  /** Error-severity tests run against the temp relation before publishing. */
  audits: TestNode[];
  signal?: AbortSignal;
  logger?: Logger;
  /** Schemas this build already created (saves a round trip per model). */
  ensuredSchemas?: Set<string>;
  /**
   * The run building this model: its work relations carry the run's token
   * (`<name>__df_tmp_<runToken(runId)>`), so a later run can sweep them once this run is dead.
   */
  runId?: string;
  /**
   * The model's SQL rendered just before it runs (`execute` true, see `BuildRenderer`), given
   * whether `is_incremental()` is true; the compiled SQL when absent.
   */
  renderSql?: (isIncremental: boolean) => Promise<string>;
  /**
   * An audit whose SQL compile left pending (`compiled.pending`), rendered now against the temp
   * relation (see `testForRun`); a `COMPILE_FAILED` rejection is that audit's `error` result.
   */
  renderAudit?: (test: TestNode, temp: RelationInfo) => Promise<CompiledTest>;
}

const KINDS: Record<string, RelationKind> = { r: 'table', p: 'table', v: 'view', m: 'materialized view' };

/**
 * The token in temp / backup names: `@dataflow/pg`'s `runToken(runId)` (what the dead-run sweep
 * parses), or a random one when no run id is given (library use without a run log).
 */
export const newRunToken = (runId?: string): string =>
  runId === undefined ? randomBytes(5).toString('hex') : runToken(runId);

async function relationKind(db: pg.ClientBase, rel: RelationInfo): Promise<RelationKind | null> {
  const r = await db.query<{ relkind: string }>(RELATION_KIND_SQL, [rel.schema, rel.identifier]);
  const k = r.rows[0]?.relkind;
  return k ? (KINDS[k] ?? null) : null;
}

async function columnsOf(db: pg.ClientBase, rel: RelationInfo): Promise<ColumnInfo[]> {
  return (await db.query<ColumnInfo>(COLUMNS_SQL, [rel.schema, rel.identifier])).rows;
}

/**
 * Takes the publish locks of the views depending on `relation` (see {@link planDependentViewLocks}),
 * adding to `held`; call again after capturing to cover views created in between.
 */
async function lockDependentViews(
  db: pg.ClientBase,
  views: ReadonlyArray<{ schema: string; name: string; depth: number }>,
  held: Set<string>,
): Promise<void> {
  for (const lock of planDependentViewLocks(views, held)) {
    await db.query(lock.text, lock.values);
    held.add(lock.key);
  }
}

/** `create schema if not exists`, tolerating the unique-violation race of two concurrent creators. */
export async function ensureSchema(
  client: pg.ClientBase | pg.Pool,
  schema: string,
  ensured?: Set<string>,
): Promise<void> {
  if (ensured?.has(schema)) return;
  try {
    await client.query(`create schema if not exists ${quoteIdent(schema)}`);
  } catch (error) {
    // Concurrent `create schema if not exists` races on the catalog (23505) or sees the schema
    // appear (42P06): either way the schema now exists, which is all this asks for.
    if (!['23505', '42P06'].includes(sqlStateOf(error) ?? '')) throw error;
  }
  ensured?.add(schema);
}

/**
 * The audit's SQL against the temp relation: the compile-time placeholder token (see
 * {@link TestNode.sqlTemplate}) replaced by `temp`. A test without the token cannot be audited
 * (it would read the published relation): that is a bug in the caller, not a silent pass.
 */
export function auditSql(test: TestNode, temp: RelationInfo): string {
  if (!test.sqlTemplate?.includes(RELATION_PLACEHOLDER))
    throw new ModelingError(
      'AUDIT_FAILED',
      `test ${test.name} has no relation placeholder and cannot run against the temp relation`,
      { node: test.uniqueId },
    );
  return test.sqlTemplate.split(RELATION_PLACEHOLDER).join(temp.sql);
}

async function runAudits(
  ctx: MaterializeContext,
  temp: RelationInfo,
  nodeId: string,
): Promise<Array<{ uniqueId: string; result: TestResult }>> {
  const out: Array<{ uniqueId: string; result: TestResult }> = [];
  for (const test of ctx.audits) {
    let compiled: CompiledTest;
    try {
      compiled =
        test.compiled.pending && ctx.renderAudit
          ? await ctx.renderAudit(test, temp)
          : { ...test.compiled, sql: auditSql(test, temp) };
    } catch (error) {
      if (!isModelingError(error, 'COMPILE_FAILED')) throw error;
      out.push({ uniqueId: test.uniqueId, result: renderFailure(test, error, new Date().toISOString()) });
      continue;
    }
    // A view over the temp relation would block its drop or outlive it: an audit stores a table.
    const stored = compiled.storeFailuresIn;
    if (stored?.kind === 'view') compiled = { ...compiled, storeFailuresIn: { ...stored, kind: 'table' } };
    const result = await runTest(ctx.client, compiled, {
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(ctx.logger ? { logger: ctx.logger } : {}),
    });
    out.push({ uniqueId: test.uniqueId, result });
  }
  const failed = out.filter((a) => a.result.status === 'fail' || a.result.status === 'error');
  if (failed.length > 0) {
    throw Object.assign(
      new ModelingError(
        'AUDIT_FAILED',
        `write-audit-publish: ${failed.map((f) => `${f.result.name} (${f.result.status}, ${f.result.failures} failing rows)`).join(', ')}; not published: the previous version stays in place (a view still reads rows already loaded into its sources)`,
        { node: nodeId },
      ),
      { audits: out },
    );
  }
  return out;
}

const PUBLISH_ATTEMPTS = 5;

/**
 * One publish transaction, run again when it lost a lock race: deadlock, serialization failure
 * or lock timeout (another publish touching the same relations won; the transaction rolled back
 * completely, so it is safe to run it again).
 */
async function publishTransaction<T>(
  client: pg.PoolClient,
  fn: () => Promise<T>,
  logger?: Logger,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await inTransaction(client, fn);
    } catch (error) {
      const { family, sqlState } = classifyPgError(error);
      if ((family !== 'conflict' && family !== 'lock') || attempt >= PUBLISH_ATTEMPTS) throw error;
      logger?.warn({ sqlstate: sqlState, attempt }, 'publish transaction lost a lock race; retrying');
      await new Promise((r) => setTimeout(r, 20 * attempt + Math.floor(Math.random() * 30)));
    }
  }
}

async function runAll(
  client: pg.ClientBase,
  statements: string[],
  logger?: Logger,
): Promise<pg.QueryResult[]> {
  const results: pg.QueryResult[] = [];
  for (const text of statements) {
    logger?.debug({ sql: text }, 'modeling statement');
    results.push(await client.query(text));
  }
  return results;
}

/** Publishes `names.temp` as `relation` (swap or in-place view replace) in one transaction. */
async function publish(
  ctx: MaterializeContext,
  relation: RelationInfo,
  names: WorkNames,
  newKind: 'table' | 'view',
  selectSql?: string,
  after?: () => Promise<void>,
): Promise<string> {
  return publishTransaction(
    ctx.client,
    async () => {
      const lock = planPublishLock(relation);
      await ctx.client.query(lock.text, lock.values);
      const existing = await relationKind(ctx.client, relation);
      const held = new Set<string>();
      if (existing) {
        // Queue on shared dependent views before locking the relation (see planDependentViewLocks).
        const viewNames = await ctx.client.query<{ schema: string; name: string; depth: number }>(
          DEPENDENT_VIEW_NAMES_SQL,
          [relation.sql],
        );
        await lockDependentViews(ctx.client, viewNames.rows, held);
        // Lock, then read dependents: nobody can create a new view on the old relation between
        // the capture and the drop of the backup (that view would make the drop fail).
        await ctx.client.query(planLockRelation(relation));
      }
      if (newKind === 'view' && existing === 'view' && selectSql !== undefined) {
        const [before, afterColumns] = await Promise.all([
          columnsOf(ctx.client, relation),
          columnsOf(ctx.client, names.temp),
        ]);
        if (viewColumnsCompatible(before, afterColumns)) {
          await runAll(ctx.client, planReplaceView(relation, names.temp, selectSql), ctx.logger);
          await after?.();
          return 'replaced';
        }
      }
      const dependents = existing ? await captureDependentViews(ctx.client, relation.sql) : [];
      await lockDependentViews(ctx.client, dependents, held);
      await runAll(ctx.client, planSwap({ relation, names, newKind, existing, dependents }), ctx.logger);
      if (dependents.length > 0)
        ctx.logger?.info(
          { relation: relation.sql, dependents: dependents.map((d) => `${d.schema}.${d.name}`) },
          'recreated dependent views',
        );
      await after?.();
      return existing ? 'swapped' : 'created';
    },
    ctx.logger,
  );
}

/**
 * Runs a model's hooks in order on `client` (inside the caller's transaction); a failing hook is a
 * `HOOK_FAILED` error naming the hook and the model. A lost lock race is rethrown as it is, so the
 * publish transaction runs again.
 */
async function runHooks(
  ctx: MaterializeContext,
  node: ModelNode,
  kind: 'pre-hook' | 'post-hook',
  hooks: string[] | undefined,
): Promise<void> {
  for (const [i, sql] of (hooks ?? []).entries()) {
    ctx.logger?.debug({ node: node.uniqueId, sql }, kind);
    try {
      await ctx.client.query(sql);
    } catch (error) {
      const { family } = classifyPgError(error);
      if (family === 'conflict' || family === 'lock') throw error;
      throw new ModelingError(
        'HOOK_FAILED',
        `${node.name}: ${kind} ${i + 1} failed (${(error as Error).message}): ${sql.trim().slice(0, 200)}`,
        { node: node.uniqueId, ...(node.file ? { file: node.file } : {}), cause: error },
      );
    }
  }
}

async function dropQuietly(ctx: MaterializeContext, kind: 'table' | 'view', temp: RelationInfo) {
  try {
    await runAll(ctx.client, planDropTemp(kind, temp));
  } catch (error) {
    ctx.logger?.warn({ relation: temp.sql, err: error }, 'could not drop temp relation');
  }
}

/**
 * `on_schema_change` inside the incremental publish transaction: compares the table's columns with
 * the batch's, alters the table as the mode says (dropping and recreating dependent views, with
 * their grants and comments, when columns are dropped or retyped) and returns the columns to insert.
 */
async function applySchemaChange(
  ctx: MaterializeContext,
  node: ModelNode,
  names: WorkNames,
): Promise<string[]> {
  const { relation } = node;
  const [target, batch] = await Promise.all([
    columnsOf(ctx.client, relation),
    columnsOf(ctx.client, names.temp),
  ]);
  const plan = planSchemaChange({
    mode: node.config.onSchemaChange ?? 'ignore',
    relation,
    modelName: node.name,
    target,
    batch,
  });
  if (plan.kind === 'fail')
    throw new ModelingError('SCHEMA_CHANGED', plan.message, {
      node: node.uniqueId,
      ...(node.file ? { file: node.file } : {}),
    });
  if (plan.statements.length === 0) return plan.insertColumns;
  const dependents = plan.touchesViews ? await captureDependentViews(ctx.client, relation.sql) : [];
  await lockDependentViews(ctx.client, dependents, new Set());
  await runAll(
    ctx.client,
    [...dropDependentViewsSql(dependents), ...plan.statements, ...recreateDependentViewsSql(dependents)],
    ctx.logger,
  );
  ctx.logger?.info(
    { relation: relation.sql, statements: plan.statements.length },
    'applied on_schema_change',
  );
  return plan.insertColumns;
}

/** `grants` and `persist_docs`, inside the publish transaction: readers never see the relation without them. */
async function applyPublishConfigs(
  ctx: MaterializeContext,
  node: PublishConfigs,
  kind: 'table' | 'view',
): Promise<void> {
  const { grants, persistDocs } = node;
  const statements: string[] = [];
  if (grants && Object.keys(grants).length > 0) {
    const current = await ctx.client.query<Grant>(SHOW_GRANTS_SQL, [
      node.relation.schema,
      node.relation.identifier,
    ]);
    statements.push(...planGrants(node.relation, grants, current.rows));
  }
  if (persistDocs) {
    const columns = (await columnsOf(ctx.client, node.relation)).map((c) => c.name);
    statements.push(...planComments(node, kind, columns));
  }
  await runAll(ctx.client, statements, ctx.logger);
}

function unsupportedConfig(node: ModelNode): ModelingError {
  const { setting, value } = node.config.unsupported ?? { setting: '', value: '' };
  return new ModelingError(
    'UNSUPPORTED_CONFIG',
    `${node.name}: ${setting} ${JSON.stringify(value)} is not built by dataflow on PostgreSQL`,
    { node: node.uniqueId, ...(node.file ? { file: node.file } : {}) },
  );
}

/**
 * Materializes one model with write-audit-publish: build under a per-run temp name, run the
 * audits against it, then publish in one transaction. On any failure the temp relation is
 * dropped and the previous version stays live.
 */
export async function materializeModel(
  ctx: MaterializeContext,
  node: ModelNode,
): Promise<MaterializeOutcome> {
  const { relation, config } = node;
  if (config.unsupported?.setting === 'materialized') throw unsupportedConfig(node);
  if (config.materialized === 'ephemeral') return { audits: [], action: 'ephemeral' };
  await ensureSchema(ctx.client, relation.schema, ctx.ensuredSchemas);
  const names = workNames(relation, newRunToken(ctx.runId));
  const kind: 'table' | 'view' = config.materialized === 'view' ? 'view' : 'table';
  const existing = config.materialized === 'incremental' ? await relationKind(ctx.client, relation) : null;
  // dbt: a model's `full_refresh` config, when set, overrides `--full-refresh` both ways.
  const fullRefresh = config.fullRefresh ?? ctx.fullRefresh;
  const incremental = config.materialized === 'incremental' && existing === 'table' && !fullRefresh;
  // As dbt-postgres: another adapter's strategy builds the first table, fails when applied.
  if (incremental && config.unsupported) throw unsupportedConfig(node);
  const selectSql = ctx.renderSql
    ? await ctx.renderSql(incremental)
    : incremental
      ? (node.incrementalSql ?? node.compiledSql)
      : node.compiledSql;
  try {
    // dbt runs pre-hooks in the model's transaction, before its SQL: a failing build undoes them.
    const build = () => runAll(ctx.client, planCreateTemp(kind, names.temp, selectSql), ctx.logger);
    const [created] = node.preHooks?.length
      ? await inTransaction(ctx.client, async () => {
          await runHooks(ctx, node, 'pre-hook', node.preHooks);
          return build();
        })
      : await build();
    const rows = kind === 'table' ? (created?.rowCount ?? undefined) : undefined;
    if (incremental && config.uniqueKey)
      await assertUniqueKeys(
        ctx.client,
        names.temp,
        config.uniqueKey,
        { name: node.name, uniqueId: node.uniqueId, ...(node.file ? { file: node.file } : {}), rows: 'new' },
        config.incrementalStrategy !== 'append',
      );
    const audits = await runAudits(ctx, names.temp, node.uniqueId);
    const after = async () => {
      await applyPublishConfigs(ctx, publishConfigsOf(node), kind);
      await runHooks(ctx, node, 'post-hook', node.postHooks);
    };
    if (!incremental) {
      const action = await publish(
        ctx,
        relation,
        names,
        kind,
        kind === 'view' ? selectSql : undefined,
        after,
      );
      return { ...(rows !== undefined ? { rows } : {}), audits, action };
    }
    const applied = await publishTransaction(
      ctx.client,
      async () => {
        const lock = planPublishLock(relation);
        await ctx.client.query(lock.text, lock.values);
        const columns = await applySchemaChange(ctx, node, names);
        const statements = planIncremental({
          strategy: config.incrementalStrategy,
          relation,
          temp: names.temp,
          columns,
          ...(config.uniqueKey ? { uniqueKey: config.uniqueKey } : {}),
        });
        const results = await runAll(ctx.client, statements, ctx.logger);
        await after();
        // delete+insert: the insert is the second statement; merge / append: the first.
        const main = results[config.incrementalStrategy === 'delete+insert' ? 1 : 0];
        return main?.rowCount ?? 0;
      },
      ctx.logger,
    );
    return { rows: applied, audits, action: config.incrementalStrategy };
  } catch (error) {
    await dropQuietly(ctx, kind, names.temp);
    throw error;
  }
}

/** A seed loaded under its temp name, waiting for audit + publish. */
export interface LoadedSeed {
  names: WorkNames;
  rows: number;
}

/**
 * Loads a seed through `@dataflow/warehouse` into a per-run temp table. Uses only the pool (COPY
 * takes its own connection), so no connection is held while waiting for another: a build with
 * `threads` equal to the pool size cannot starve itself.
 */
export async function loadSeedToTemp(
  pool: pg.Pool,
  node: SeedNode,
  options: {
    seedsDir?: string;
    signal?: AbortSignal;
    logger?: Logger;
    ensuredSchemas?: Set<string>;
    runId?: string;
  } = {},
): Promise<LoadedSeed> {
  await ensureSchema(pool, node.relation.schema, options.ensuredSchemas);
  const names = workNames(node.relation, newRunToken(options.runId));
  try {
    const loaded = await loadSeed(pool, {
      file: options.seedsDir ? join(options.seedsDir, basename(node.seedPath)) : node.seedPath,
      table: names.temp.identifier,
      schema: names.temp.schema,
      ...(node.columnTypes ? { columnTypes: node.columnTypes } : {}),
      ...(node.delimiter !== undefined ? { delimiter: node.delimiter } : {}),
      ...(node.quoteColumns !== undefined ? { quoteColumns: node.quoteColumns } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { names, rows: loaded.rows };
  } catch (error) {
    await pool.query(planDropTemp('table', names.temp)[0] as string).catch((dropError: unknown) => {
      options.logger?.warn({ relation: names.temp.sql, err: dropError }, 'could not drop temp relation');
    });
    throw error;
  }
}

/** Audits a loaded seed's temp table, then swaps it in (dependent views recreated), `grants` / `persist_docs` applied. */
export async function publishSeed(
  ctx: MaterializeContext,
  node: SeedNode,
  loaded: LoadedSeed,
): Promise<MaterializeOutcome> {
  try {
    const audits = await runAudits(ctx, loaded.names.temp, node.uniqueId);
    const after = () => applyPublishConfigs(ctx, publishConfigsOf(node), 'table');
    const action = await publish(ctx, node.relation, loaded.names, 'table', undefined, after);
    return { rows: loaded.rows, audits, action };
  } catch (error) {
    await dropQuietly(ctx, 'table', loaded.names.temp);
    throw error;
  }
}
