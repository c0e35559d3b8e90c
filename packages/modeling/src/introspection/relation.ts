import { PyError, pyFunction, pyStr, toPlain } from '../jinja/values.js';

/** dbt's relation types (`api.Relation.create(type=…)`). */
export type RelationType = 'table' | 'view' | 'cte' | 'materialized_view' | 'external';

/** The parts of a relation and which of them render (dbt's `include_policy`) and are quoted (`quote_policy`). */
export interface RelationParts {
  database: string | null;
  schema: string | null;
  identifier: string | null;
  type: RelationType | null;
  include?: PartFlags;
  quote?: PartFlags;
}

/** One flag per part, as dbt's `Policy`. */
export interface PartFlags {
  database: boolean;
  schema: boolean;
  identifier: boolean;
}

const ALL: PartFlags = { database: true, schema: true, identifier: true };
const EPHEMERAL_PREFIX = '__dbt__cte__';
const PART_NAMES = ['database', 'schema', 'identifier'] as const;

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;
const optionalText = (v: unknown): string | null => (v === null || v === undefined ? null : pyStr(v));
const flag = (v: unknown, dflt: boolean): boolean => (v === null || v === undefined ? dflt : v === true);

/** Reads `"a"."b"` / `"a"."b"."c"`; undefined when the text is anything else (a CTE name, a placeholder). */
function parseQuoted(text: string): string[] | undefined {
  const parts: string[] = [];
  let at = 0;
  while (at < text.length) {
    if (parts.length > 0) {
      if (text[at] !== '.') return undefined;
      at++;
    }
    const m = /^"((?:[^"]|"")*)"/.exec(text.slice(at));
    if (!m) return undefined;
    parts.push((m[1] as string).replaceAll('""', '"'));
    at += m[0].length;
  }
  return parts.length > 0 && parts.length <= 3 ? parts : undefined;
}

/**
 * dbt's `PostgresRelation`, as templates see `ref()`, `source()`, `this`, `adapter.get_relation()` and
 * `api.Relation.create()`: prints as its quoted name, has `.database`, `.schema`, `.identifier`
 * (`.name`, `.table`), `.type`, `.is_table` / `.is_view` / `.is_cte`, `.render()`, `.include()`,
 * `.quote()`, `.incorporate()`, and answers `is mapping` / `.get('metadata')` as dbt's does
 * (dbt_utils' `_is_relation` checks it).
 *
 * @example
 * DbtRelation.create({ database: null, schema: 'analytics', identifier: 'orders', type: 'table' }).render(); // '"analytics"."orders"'
 */
export class DbtRelation {
  readonly database: string | null;
  readonly schema: string | null;
  readonly identifier: string | null;
  readonly type: RelationType | null;
  private readonly includePolicy: PartFlags;
  private readonly quotePolicy: PartFlags;
  /** The exact text a compile-time relation was given as (placeholders, CTE names); wins over rendering. */
  private readonly text: string | undefined;

  private constructor(parts: RelationParts, text?: string) {
    this.database = parts.database;
    this.schema = parts.schema;
    this.identifier = parts.identifier;
    this.type = parts.type;
    this.includePolicy = parts.include ?? ALL;
    this.quotePolicy = parts.quote ?? ALL;
    this.text = text;
  }

  /** A relation from its parts (`api.Relation.create`). */
  static create(parts: RelationParts): DbtRelation {
    return new DbtRelation(parts);
  }

  /**
   * The relation a compiled reference prints as: `"schema"."name"` (or three parts) keeps its parts;
   * other text (an ephemeral model's CTE name, a parse-time placeholder) is kept as is.
   */
  static fromSql(text: string): DbtRelation {
    const parts = parseQuoted(text);
    if (!parts) {
      const cte = text.startsWith(EPHEMERAL_PREFIX);
      return new DbtRelation(
        { database: null, schema: null, identifier: text, type: cte ? 'cte' : null },
        text,
      );
    }
    const [identifier, schema, database] = [...parts].reverse();
    return new DbtRelation(
      { database: database ?? null, schema: schema ?? null, identifier: identifier ?? null, type: null },
      text,
    );
  }

  get name(): string | null {
    return this.identifier;
  }
  get table(): string | null {
    return this.identifier;
  }
  get is_table(): boolean {
    return this.type === 'table';
  }
  get is_view(): boolean {
    return this.type === 'view';
  }
  get is_cte(): boolean {
    return this.type === 'cte';
  }
  get is_materialized_view(): boolean {
    return this.type === 'materialized_view';
  }
  /** What `_is_relation` reads through `.get('metadata')`. */
  get metadata(): Record<string, string> {
    return { type: 'PostgresRelation' };
  }
  get path(): Record<string, string | null> {
    return { database: this.database, schema: this.schema, identifier: this.identifier };
  }

  private parts(): RelationParts {
    return {
      database: this.database,
      schema: this.schema,
      identifier: this.identifier,
      type: this.type,
      include: this.includePolicy,
      quote: this.quotePolicy,
    };
  }

  /** The SQL name: included parts, quoted per policy, joined by dots. */
  render(): string {
    if (this.text !== undefined && this.includePolicy === ALL && this.quotePolicy === ALL) return this.text;
    return PART_NAMES.filter((p) => this.includePolicy[p] && this[p] !== null)
      .map((p) => (this.quotePolicy[p] ? quoted(this[p] as string) : (this[p] as string)))
      .join('.');
  }

  /** `relation.include(database=False)`: a copy rendering only the parts still included. */
  readonly include = pyFunction('include', (args, kwargs) => this.withPolicy('include', args, kwargs));
  /** `relation.quote(identifier=False)`: a copy with another quoting policy. */
  readonly quote = pyFunction('quote', (args, kwargs) => this.withPolicy('quote', args, kwargs));

  private withPolicy(which: 'include' | 'quote', args: unknown[], kwargs: Record<string, unknown>) {
    const current = which === 'include' ? this.includePolicy : this.quotePolicy;
    const next: PartFlags = {
      database: flag(args[0] ?? kwargs.database, current.database),
      schema: flag(args[1] ?? kwargs.schema, current.schema),
      identifier: flag(args[2] ?? kwargs.identifier, current.identifier),
    };
    return new DbtRelation({ ...this.parts(), [which]: next });
  }

  /** `relation.incorporate(path={…}, type=…)`: a copy with some parts replaced. */
  readonly incorporate = pyFunction('incorporate', (_args, kwargs) => {
    const path = (toPlain(kwargs.path) ?? {}) as Record<string, unknown>;
    const parts = this.parts();
    for (const p of PART_NAMES) if (Object.hasOwn(path, p)) parts[p] = optionalText(path[p]);
    if (kwargs.type !== undefined) parts.type = optionalText(kwargs.type) as RelationType | null;
    return new DbtRelation(parts);
  });

  /** `relation.without_identifier()`: the schema alone (what `create schema` takes). */
  readonly without_identifier = pyFunction(
    'without_identifier',
    () => new DbtRelation({ ...this.parts(), include: { ...this.includePolicy, identifier: false } }),
  );

  /** `relation.information_schema('columns')`: `<database>.INFORMATION_SCHEMA.columns`, schema and view unquoted as dbt renders them. */
  readonly information_schema = pyFunction(
    'information_schema',
    (args, kwargs) =>
      new DbtRelation({
        database: this.database,
        schema: 'INFORMATION_SCHEMA',
        identifier: optionalText(args[0] ?? kwargs.view_name),
        type: null,
        include: { database: this.includePolicy.database, schema: true, identifier: true },
        quote: { database: this.quotePolicy.database, schema: false, identifier: false },
      }),
  );

  /** `relation.replace_path(identifier=…)`. */
  readonly replace_path = pyFunction('replace_path', (_args, kwargs) => {
    const parts = this.parts();
    for (const p of PART_NAMES) if (Object.hasOwn(kwargs, p)) parts[p] = optionalText(kwargs[p]);
    return new DbtRelation(parts);
  });

  /** dbt relations are mappings of their fields: `.get('metadata', {})`, `.get('type')`. */
  get(key: unknown, dflt: unknown = null): unknown {
    const name = pyStr(key);
    if (name === 'metadata') return this.metadata;
    if (name === 'path') return this.path;
    if (name === 'type') return this.type;
    return dflt;
  }

  toString(): string {
    return this.render();
  }
}

/**
 * `api.Relation`: `create(database, schema, identifier, type)` and `add_ephemeral_prefix(name)`.
 *
 * @example
 * env.globals.set('api', { Relation: relationApi() });
 */
export function relationApi(): Record<string, unknown> {
  return {
    create: pyFunction('create', (args, kwargs) => {
      const get = (i: number, name: string) => (args[i] !== undefined ? args[i] : kwargs[name]);
      const type = optionalText(get(3, 'type'));
      return DbtRelation.create({
        database: optionalText(get(0, 'database')),
        schema: optionalText(get(1, 'schema')),
        identifier: optionalText(get(2, 'identifier')),
        type: type === null ? null : relationType(type),
      });
    }),
    add_ephemeral_prefix: pyFunction(
      'add_ephemeral_prefix',
      (args) => `${EPHEMERAL_PREFIX}${pyStr(args[0])}`,
    ),
  };
}

/** information_schema's `table_type` or dbt's type name as a relation type. */
export function relationType(text: string): RelationType {
  const t = text.toLowerCase().replaceAll(' ', '_');
  if (t === 'base_table' || t === 'table') return 'table';
  if (t === 'materializedview') return 'materialized_view';
  if (t === 'view' || t === 'cte' || t === 'materialized_view' || t === 'external') return t;
  if (t === 'foreign_table' || t === 'foreign') return 'external';
  throw new PyError('ValueError', `'${text}' is not a valid RelationType`);
}
