import type { Environment } from '../jinja/environment.js';
import { BUILTIN_TESTS } from '../jinja/tests.js';
import { isUndefined, pyFunction, pyStr, toTuple } from '../jinja/values.js';
import { AgateTable } from './agate-table.js';
import { columnApi, DbtColumn } from './column.js';
import { DbtRelation, relationApi } from './relation.js';
import { type IntrospectionAnswers, standIn } from './render-with-answers.js';
import type { IntrospectionAnswer, IntrospectionRequest, QueryResult, RelationAnswer } from './requests.js';

/** dbt's `AdapterResponse`: prints as its message (`SELECT 3`). */
export class AdapterResponse {
  constructor(
    readonly _message: string,
    readonly code: string,
    readonly rows_affected: number | null,
  ) {}
  toString(): string {
    return this._message;
  }
}

const text = (v: unknown): string | null =>
  v === null || v === undefined || isUndefined(v) ? null : pyStr(v);

/**
 * The run-time half of dbt's context: `adapter.execute` (what `statement` / `run_query` call; only
 * during a build-time render),
 * `adapter.get_relation`, `get_columns_in_relation`, `get_missing_columns`, `list_relations_without_caching`,
 * `list_relations`, `already_exists`, `quote`, `type`; `load_relation`; `api.Relation` / `api.Column`.
 * While parsing (`execute` false) no database is asked: relations are missing, column lists and
 * results empty, as dbt packages expect when they forget to check `execute`. During
 * {@link IntrospectionContext.executing} the questions go to that render's answers.
 *
 * @example
 * const introspection = new IntrospectionContext(jinja.env, (m) => logger.debug(m));
 * introspection.executing(answers, () => jinja.render(source, file, scope));
 */
export class IntrospectionContext {
  private answers: IntrospectionAnswers | undefined;

  constructor(
    private readonly env: Environment,
    private readonly log: (message: string) => void = () => {},
  ) {
    const adapter = (env.globals.get('adapter') ?? {}) as Record<string, unknown>;
    Object.assign(adapter, this.adapterFunctions());
    env.globals.set('adapter', adapter);
    env.globals.set('api', { Relation: relationApi(), Column: columnApi() });
    env.globals.set(
      'load_relation',
      pyFunction('load_relation', (args, kwargs) => this.loadRelation(args[0] ?? kwargs.relation)),
    );
    // dbt's relations are mappings (dbt_utils' `_is_relation` asks `obj is mapping`).
    const mapping = BUILTIN_TESTS.mapping as NonNullable<(typeof BUILTIN_TESTS)['mapping']>;
    env.tests.set('mapping', (v, a, l) => v instanceof DbtRelation || mapping(v, a, l));
  }

  /**
   * Runs `render` as a build-time render: `execute` true, `flags.WHICH` `run`, every question
   * answered from (or recorded in) `answers`. Synchronous, so renders never interleave.
   */
  executing<T>(answers: IntrospectionAnswers, render: () => T): T {
    const { globals } = this.env;
    const previous = { execute: globals.get('execute'), flags: globals.get('flags') };
    const adapter = globals.get('adapter') as Record<string, unknown>;
    globals.set('execute', true);
    globals.set('flags', { ...(previous.flags as object), WHICH: 'run' });
    // Only a build-time render executes: elsewhere `statement` reports that it has no connection.
    adapter.execute = this.executeFunction;
    this.answers = answers;
    try {
      return render();
    } finally {
      this.answers = undefined;
      delete adapter.execute;
      globals.set('execute', previous.execute);
      globals.set('flags', previous.flags);
    }
  }

  private ask<R extends IntrospectionRequest>(request: R): IntrospectionAnswer<R> {
    return (this.answers?.ask(request) ?? standIn(request)) as IntrospectionAnswer<R>;
  }

  private relationOf(answer: RelationAnswer, database: string | null): DbtRelation | null {
    return answer ? DbtRelation.create({ database, ...answer }) : null;
  }

  private getRelation(database: unknown, schema: unknown, identifier: unknown): DbtRelation | null {
    const s = text(schema);
    const id = text(identifier);
    if (s === null || id === null) return null;
    return this.relationOf(this.ask({ kind: 'relation', schema: s, identifier: id }), text(database));
  }

  private loadRelation(relation: unknown): DbtRelation | null {
    if (!(relation instanceof DbtRelation)) return null;
    if (relation.is_cte) return null;
    return this.getRelation(relation.database, relation.schema, relation.identifier);
  }

  private columnsIn(relation: unknown): DbtColumn[] {
    const r = relation instanceof DbtRelation ? relation : DbtRelation.fromSql(pyStr(relation));
    if (r.schema === null || r.identifier === null) return [];
    return this.ask({ kind: 'columns', schema: r.schema, identifier: r.identifier }).map(DbtColumn.from);
  }

  private listRelations(database: unknown, schema: unknown): DbtRelation[] {
    const s = text(schema);
    if (s === null) return [];
    const db = text(database);
    return this.ask({ kind: 'relations', schema: s }).map((r) => DbtRelation.create({ database: db, ...r }));
  }

  /** `adapter.execute(sql, auto_begin, fetch)`: `(response, table)`; the table is empty unless `fetch`. */
  private readonly executeFunction = pyFunction('execute', (args, kwargs) =>
    this.execute(pyStr(args[0] ?? kwargs.sql), (args[2] ?? kwargs.fetch) === true),
  );

  private execute(sql: string, fetch: boolean): unknown {
    const result: QueryResult = this.ask({ kind: 'query', sql });
    const command = result.command ?? 'SELECT';
    const rows = result.rowCount ?? null;
    const response = new AdapterResponse(rows === null ? command : `${command} ${rows}`, command, rows);
    const table = AgateTable.from(fetch ? result : { columns: [], rows: [] }, this.log);
    return toTuple([response, table]);
  }

  private adapterFunctions(): Record<string, unknown> {
    return {
      get_relation: pyFunction('get_relation', (args, kwargs) =>
        this.getRelation(args[0] ?? kwargs.database, args[1] ?? kwargs.schema, args[2] ?? kwargs.identifier),
      ),
      load_relation: pyFunction('load_relation', (args, kwargs) =>
        this.loadRelation(args[0] ?? kwargs.relation),
      ),
      get_columns_in_relation: pyFunction('get_columns_in_relation', (args, kwargs) =>
        this.columnsIn(args[0] ?? kwargs.relation),
      ),
      get_missing_columns: pyFunction('get_missing_columns', (args, kwargs) => {
        const to = new Set(this.columnsIn(args[1] ?? kwargs.to_relation).map((c) => c.name));
        return this.columnsIn(args[0] ?? kwargs.from_relation).filter((c) => !to.has(c.name));
      }),
      list_relations_without_caching: pyFunction('list_relations_without_caching', (args, kwargs) => {
        const r = args[0] ?? kwargs.schema_relation;
        return r instanceof DbtRelation ? this.listRelations(r.database, r.schema) : [];
      }),
      list_relations: pyFunction('list_relations', (args, kwargs) =>
        this.listRelations(args[0] ?? kwargs.database, args[1] ?? kwargs.schema),
      ),
      already_exists: pyFunction(
        'already_exists',
        (args, kwargs) => this.getRelation(null, args[0] ?? kwargs.schema, args[1] ?? kwargs.name) !== null,
      ),
      // dbt-postgres's quoting: double quotes, embedded quotes doubled.
      quote: pyFunction('quote', (args) => `"${pyStr(args[0]).replaceAll('"', '""')}"`),
      type: pyFunction('type', () => 'postgres'),
    };
  }
}
