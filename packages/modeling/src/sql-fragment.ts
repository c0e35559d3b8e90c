import { quoteIdent, quoteLiteral } from '@dataflow/pg';

/** A relation returned by `ref()`, `source()` or `self` in a TypeScript model. */
export interface RelationRef {
  readonly kind: 'relation';
  /** Name as referenced (`stg_orders`, `raw.orders`). */
  readonly name: string;
  /** Quoted SQL of the relation, or `__dbt__cte__<name>` for an ephemeral model. */
  readonly sql: string;
  toString(): string;
}

/** Immutable piece of SQL text built by the {@link sql} tag. */
export interface SqlFragment {
  readonly kind: 'sql';
  readonly text: string;
  toString(): string;
}

/** What may be interpolated into {@link sql}: relations and fragments inline, scalars become literals. */
export type SqlValue = RelationRef | SqlFragment | string | number | bigint | boolean | null | Date;

const fragment = (text: string): SqlFragment => Object.freeze({ kind: 'sql', text, toString: () => text });

/** Creates a {@link RelationRef}; internal to compile. */
export function _relationRef(name: string, sqlText: string): RelationRef {
  return Object.freeze({ kind: 'relation', name, sql: sqlText, toString: () => sqlText });
}

function render(value: SqlValue): string {
  if (value === null) return 'null';
  if (typeof value === 'object') {
    if (value instanceof Date) return quoteLiteral(value.toISOString());
    return value.kind === 'relation' ? value.sql : value.text;
  }
  if (typeof value === 'string') return quoteLiteral(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('sql: non-finite number');
    return String(value);
  }
  if (typeof value === 'bigint') return value.toString();
  return value ? 'true' : 'false';
}

/**
 * Tagged template for TypeScript models. Relations (`ref()`, `source()`, `self`) and fragments
 * are inlined; strings, numbers and booleans become SQL literals (model SQL is static text, so
 * constants are rendered as literals rather than bound parameters). Use `sql.ident()` for
 * identifiers and `sql.raw()` only for trusted text.
 *
 * @example
 * sql`select id as customer_id from ${ref('raw_customers')} where status = ${'active'}`
 */
export const sql = Object.assign(
  (strings: TemplateStringsArray, ...values: SqlValue[]): SqlFragment => {
    let text = strings[0] ?? '';
    values.forEach((value, i) => {
      text += render(value) + (strings[i + 1] ?? '');
    });
    return fragment(text);
  },
  {
    /** Trusted raw SQL text. */
    raw: (text: string): SqlFragment => fragment(text),
    /** A quoted identifier: `sql.ident('credit_card_amount')`. */
    ident: (name: string): SqlFragment => fragment(quoteIdent(name)),
    /** A SQL literal from a constant. */
    literal: (value: SqlValue): SqlFragment => fragment(render(value)),
    /** Joins fragments with a separator (default `, `). */
    join: (parts: readonly SqlValue[], separator: SqlFragment | string = ', '): SqlFragment =>
      fragment(parts.map(render).join(typeof separator === 'string' ? separator : separator.text)),
  },
);
