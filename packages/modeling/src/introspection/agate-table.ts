import { PY_GETATTR, PY_GETITEM, PyError, pyEquals, pyStr, pyTypeName, toTuple } from '../jinja/values.js';
import { type AgateTypeName, castFor } from './agate-values.js';
import type { QueryResult } from './requests.js';

/** agate's data types, named as dbt code inspects them (`column.data_type.__class__.__name__`-like checks print the name). */
export class AgateType {
  constructor(readonly name: AgateTypeName) {}
  toString(): string {
    return `<agate.${this.name}>`;
  }
}

const TYPE_OF: Array<[RegExp, AgateTypeName]> = [
  [/^(smallint|integer|bigint|oid)$/, 'Integer'],
  [/^(numeric|real|double precision)$/, 'Number'],
  [/^boolean$/, 'Boolean'],
  [/^date$/, 'Date'],
  [/^timestamp/, 'DateTime'],
  [/^interval$/, 'TimeDelta'],
];

/** The agate type dbt would infer for a PostgreSQL type name (`format_type`). */
export function agateTypeOf(pgType: string): AgateType {
  for (const [pattern, name] of TYPE_OF) if (pattern.test(pgType)) return new AgateType(name);
  return new AgateType('Text');
}

function positionOf(key: unknown, length: number): number | undefined {
  if (typeof key !== 'number' || !Number.isInteger(key)) return undefined;
  const i = key < 0 ? key + length : key;
  return i >= 0 && i < length ? i : undefined;
}

/**
 * agate's `MappedSequence`: a tuple of values that is also keyed by name (`row[0]`, `row['id']`,
 * `row.id`, `row.keys()`, `row.values()`, `row.items()`, `row.get('id')`, `row.dict()`).
 */
export class MappedSequence<T = unknown> extends Array<T> {
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }
  #names: readonly string[] = [];

  /** A sequence of `values` named by `names` (same length). */
  static named<T>(values: readonly T[], names: readonly string[]): MappedSequence<T> {
    const out = new MappedSequence<T>();
    out.push(...values);
    out.#names = names;
    return out;
  }

  [PY_GETITEM](key: unknown): T {
    const at = typeof key === 'string' ? this.#names.indexOf(key) : positionOf(key, this.length);
    if (at === undefined || at < 0) {
      const shown = typeof key === 'string' ? `'${key}'` : pyStr(key);
      throw new PyError(typeof key === 'string' ? 'KeyError' : 'IndexError', shown);
    }
    return this[at] as T;
  }

  [PY_GETATTR](name: string): T | undefined {
    const at = this.#names.indexOf(name);
    return at < 0 ? undefined : (this[at] as T);
  }

  /** The names (Python's `keys()`; installed over Array's `keys` below). */
  pyKeys(): unknown {
    return toTuple(this.#names);
  }

  items(): unknown {
    return this.#names.map((n, i) => toTuple([n, this[i]]));
  }

  get(key: unknown, dflt: unknown = null): unknown {
    const at = typeof key === 'string' ? this.#names.indexOf(key) : -1;
    return at < 0 ? dflt : this[at];
  }

  dict(): Map<string, unknown> {
    return new Map(this.#names.map((n, i) => [n, this[i]]));
  }

  override toString(): string {
    return `<agate.${this.constructor.name === 'MappedSequence' ? 'Row' : this.constructor.name}: (${this.map((v) => pyStr(v)).join(', ')})>`;
  }
}

// Python's `keys()` / `values()` as templates call them (Array's iterators stay behind `Symbol.iterator`).
Object.defineProperties(MappedSequence.prototype, {
  keys: {
    value(this: MappedSequence) {
      return this.pyKeys();
    },
  },
  values: {
    value(this: MappedSequence) {
      return toTuple(this);
    },
  },
});

/** One column of an agate table: its values by row position, with `.name` and `.data_type`. */
export class AgateColumn extends MappedSequence {
  name = '';
  data_type: AgateType = new AgateType('Text');

  static column(name: string, dataType: AgateType, values: unknown[]): AgateColumn {
    const out = new AgateColumn();
    out.push(...values);
    out.name = name;
    out.data_type = dataType;
    return out;
  }

  override [PY_GETITEM](key: unknown): unknown {
    const at = positionOf(key, this.length);
    if (at === undefined) throw new PyError('IndexError', pyStr(key));
    return this[at];
  }

  override [PY_GETATTR](): undefined {
    return undefined;
  }

  values_distinct(): unknown {
    const seen: unknown[] = [];
    // Python equality: two rows' equal dates or Decimals are distinct objects here.
    for (const v of this) if (!seen.some((s) => pyEquals(s, v))) seen.push(v);
    return toTuple(seen);
  }

  values_without_nulls(): unknown {
    return toTuple(this.filter((v) => v !== null));
  }
}

/**
 * dbt's result table (agate `Table`): `.columns` (by position and name), `.column_names`,
 * `.column_types`, `.rows` (each a {@link MappedSequence}), `.print_table()` (logged), and iteration
 * over rows as dbt packages use it (`{% for row in run_query(…) %}`).
 *
 * @example
 * const t = AgateTable.from({ columns: [{ name: 'id', type: 'integer' }], rows: [[1], [2]] });
 * t.columns[0].values(); // (1, 2)
 */
export class AgateTable {
  readonly column_names: unknown;
  readonly column_types: unknown;
  readonly columns: MappedSequence<AgateColumn>;
  readonly rows: MappedSequence<unknown>[];

  private constructor(
    private readonly names: string[],
    types: AgateType[],
    rows: unknown[][],
    private readonly log: (message: string) => void,
  ) {
    this.column_names = toTuple(names);
    this.column_types = toTuple(types);
    this.rows = rows.map((r) => MappedSequence.named(r, names));
    this.columns = MappedSequence.named(
      names.map((n, i) =>
        AgateColumn.column(
          n,
          types[i] as AgateType,
          rows.map((r) => r[i]),
        ),
      ),
      names,
    );
  }

  /**
   * The table of a query result, values cast as dbt's agate table holds them (dates as `date`,
   * timestamps as `datetime`, numerics as Decimals: see `castFor`); `log` receives `print_table()`
   * output (default: dropped).
   */
  static from(result: QueryResult, log: (message: string) => void = () => {}): AgateTable {
    const types = result.columns.map((c) => agateTypeOf(c.type));
    const casts = types.map((t) => castFor(t.name));
    const rows = result.rows.map((row) => row.map((v, i) => (casts[i] as (raw: unknown) => unknown)(v)));
    return new AgateTable(
      result.columns.map((c) => c.name),
      types,
      rows,
      log,
    );
  }

  [Symbol.iterator](): Iterator<unknown> {
    return this.rows[Symbol.iterator]();
  }

  /** agate prints an ASCII table; here it goes to the log, never into the SQL. */
  print_table(maxRows: unknown = 20): string {
    const limit = typeof maxRows === 'number' ? maxRows : 20;
    const lines = [
      `| ${this.names.join(' | ')} |`,
      ...this.rows.slice(0, limit).map((r) => `| ${r.map((v) => pyStr(v)).join(' | ')} |`),
    ];
    this.log(lines.join('\n'));
    return '';
  }

  /** agate's `Table.select` / `limit` are not offered: a clear error instead of a wrong value. */
  [PY_GETATTR](name: string): never {
    throw new PyError(
      'AttributeError',
      `'${pyTypeName(this)}' object (dbt's agate table) has no attribute '${name}'`,
    );
  }

  toString(): string {
    return `<agate.Table: ${this.rows.length} rows, columns (${this.names.join(', ')})>`;
  }
}
