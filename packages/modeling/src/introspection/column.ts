import { PyError, pyFunction, pyStr } from '../jinja/values.js';
import type { RelationColumn } from './requests.js';

const STRING_TYPES = ['text', 'character varying', 'character', 'varchar'];
const INTEGER_TYPES = [
  'smallint',
  'integer',
  'bigint',
  'smallserial',
  'serial',
  'bigserial',
  'int2',
  'int4',
  'int8',
];
const FLOAT_TYPES = ['real', 'float4', 'float', 'double precision', 'float8', 'double'];
const NUMERIC_TYPES = ['numeric', 'decimal'];

/**
 * dbt's `PostgresColumn`, as `adapter.get_columns_in_relation` returns it: `.name` / `.column`,
 * `.quoted`, `.dtype` (information_schema's `data_type`), `.data_type` (with size: `character
 * varying(20)`, `numeric(10,2)`; `text` and unsized varchar stay bare), `.char_size`,
 * `.numeric_precision`, `.numeric_scale`, `is_string()` / `is_number()` / `is_numeric()` /
 * `is_integer()` / `is_float()`, `string_size()`, `literal(value)`.
 *
 * @example
 * DbtColumn.from({ name: 'code', dataType: 'character varying', charMaxLength: 8, numericPrecision: null, numericScale: null }).data_type; // 'character varying(8)'
 */
export class DbtColumn {
  constructor(
    readonly column: string,
    readonly dtype: string,
    readonly char_size: number | null = null,
    readonly numeric_precision: number | null = null,
    readonly numeric_scale: number | null = null,
  ) {}

  /** A column as information_schema describes it. */
  static from(c: RelationColumn): DbtColumn {
    return new DbtColumn(c.name, c.dataType, c.charMaxLength, c.numericPrecision, c.numericScale);
  }

  get name(): string {
    return this.column;
  }
  get quoted(): string {
    return `"${this.column.replaceAll('"', '""')}"`;
  }
  get data_type(): string {
    const t = this.dtype.toLowerCase();
    if (t === 'text' || (t === 'character varying' && this.char_size === null)) return this.dtype;
    if (this.is_string()) return `character varying(${this.string_size()})`;
    if (this.is_numeric() && this.numeric_precision !== null && this.numeric_scale !== null)
      return `${this.dtype}(${this.numeric_precision},${this.numeric_scale})`;
    return this.dtype;
  }

  is_string(): boolean {
    return STRING_TYPES.includes(this.dtype.toLowerCase());
  }
  is_integer(): boolean {
    return INTEGER_TYPES.includes(this.dtype.toLowerCase());
  }
  is_float(): boolean {
    return FLOAT_TYPES.includes(this.dtype.toLowerCase());
  }
  is_numeric(): boolean {
    return NUMERIC_TYPES.includes(this.dtype.toLowerCase());
  }
  is_number(): boolean {
    return this.is_integer() || this.is_numeric() || this.is_float();
  }

  /** dbt's rule: text or an unknown size counts as 256. */
  string_size(): number {
    if (!this.is_string()) throw new PyError('DbtRuntimeError', 'Called string_size() on non-string field!');
    return this.dtype.toLowerCase() === 'text' || this.char_size === null ? 256 : this.char_size;
  }

  /** Whether a string column could be widened to `other`'s size (dbt's `can_expand_to`). */
  can_expand_to(other: DbtColumn): boolean {
    if (!this.is_string() || !other.is_string()) return false;
    return other.string_size() > this.string_size();
  }

  /** `value::data_type`, as dbt's `Column.literal`. */
  literal(value: unknown): string {
    return `${pyStr(value)}::${this.data_type}`;
  }

  toString(): string {
    return `<Column ${this.column} (${this.data_type})>`;
  }
}

/** dbt's `Column.TYPE_LABELS`, which dbt-postgres keeps. */
const TYPE_LABELS: Readonly<Record<string, string>> = {
  STRING: 'TEXT',
  TIMESTAMP: 'TIMESTAMP',
  FLOAT: 'FLOAT',
  INTEGER: 'INT',
  BOOLEAN: 'BOOLEAN',
  NUMERIC: 'NUMERIC',
};

/**
 * `api.Column`: `create(name, dtype)`, `string_type(size)`, `numeric_type`, `translate_type(label)`.
 *
 * @example
 * env.globals.set('api', { Column: columnApi() });
 */
export function columnApi(): Record<string, unknown> {
  return {
    create: pyFunction('create', (args, kwargs) => {
      const name = pyStr(args[0] ?? kwargs.name);
      return new DbtColumn(name, pyStr(args[1] ?? kwargs.label_or_dtype ?? kwargs.dtype));
    }),
    string_type: pyFunction('string_type', (args) => `character varying(${pyStr(args[0])})`),
    numeric_type: pyFunction('numeric_type', (args) => {
      const [dtype, precision, scale] = args;
      return precision === null || precision === undefined || scale === null || scale === undefined
        ? pyStr(dtype)
        : `${pyStr(dtype)}(${pyStr(precision)},${pyStr(scale)})`;
    }),
    // dbt's `Column.translate_type`: its generic labels to the adapter's type, others as given.
    translate_type: pyFunction('translate_type', (args, kwargs) => {
      const dtype = pyStr(args[0] ?? kwargs.dtype);
      return TYPE_LABELS[dtype.toUpperCase()] ?? dtype;
    }),
  };
}
