import { printfFormat } from './format.js';
import { pyJsonDumps } from './json.js';
import { pythonMethod } from './methods.js';
import {
  dictEntries,
  isFloat,
  isMapping,
  isNumber,
  isUndefined,
  mkFloat,
  PyError,
  PyFloat,
  PyTuple,
  pyCompare,
  pyEquals,
  pyIter,
  pyLen,
  pyStr,
  toNum,
  toTuple,
  truthy,
  tuple,
} from './values.js';

/** What a filter may call back into: attribute lookup, other filters and tests. */
export interface FilterContext {
  getattr(obj: unknown, name: string): unknown;
  applyFilter(name: string, value: unknown, args: unknown[], kwargs: Record<string, unknown>): unknown;
  applyTest(name: string, value: unknown, args: unknown[]): boolean;
}

/** A Jinja filter: `value | name(args, kwargs)`. */
export type FilterFn = (
  ctx: FilterContext,
  value: unknown,
  args: unknown[],
  kwargs: Record<string, unknown>,
) => unknown;

function arg(
  args: unknown[],
  kwargs: Record<string, unknown>,
  i: number,
  name: string,
  dflt: unknown,
): unknown {
  if (args.length > i) return args[i];
  if (name in kwargs) return kwargs[name];
  return dflt;
}

/** Jinja's attribute paths: `'a.b'`, and `'0'` as an index. */
function attrGetter(ctx: FilterContext, attribute: unknown, dflt?: unknown): (item: unknown) => unknown {
  if (attribute === undefined || attribute === null) return (x) => x;
  const parts = typeof attribute === 'string' ? attribute.split('.') : [attribute];
  return (item) => {
    let v = item;
    for (const p of parts) {
      const key = typeof p === 'string' && /^\d+$/.test(p) ? Number(p) : p;
      v = typeof key === 'number' && Array.isArray(v) ? v[key] : ctx.getattr(v, String(key));
      if (isUndefined(v) && dflt !== undefined) return dflt;
    }
    return v;
  };
}

function sortKey(caseSensitive: boolean) {
  return (v: unknown) => (!caseSensitive && typeof v === 'string' ? v.toLowerCase() : v);
}

function pyRound(n: number, precision: number): number {
  const f = 10 ** precision;
  const x = n * f;
  const r = Math.round(x);
  // Python rounds exact halves to even.
  const rounded = Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
  return rounded / f;
}

function toInt(value: unknown, dflt: unknown, base: number): unknown {
  if (typeof value === 'string') {
    const s = value.trim().replaceAll('_', '');
    if (base === 10 && /^[-+]?\d+$/.test(s)) return Number.parseInt(s, 10);
    if (base !== 10 && s && !Number.isNaN(Number.parseInt(s, base))) return Number.parseInt(s, base);
    const f = toFloat(s, undefined);
    if (f !== undefined) return Math.trunc(toNum(f));
    return dflt;
  }
  if (isNumber(value)) return Math.trunc(toNum(value));
  return dflt;
}

function toFloat(value: unknown, dflt: unknown): unknown {
  if (typeof value === 'string') {
    const s = value.trim().toLowerCase().replaceAll('_', '');
    if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/.test(s)) return mkFloat(Number(s));
    if (/^[-+]?(inf|infinity)$/.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
    if (/^[-+]?nan$/.test(s)) return Number.NaN;
    return dflt;
  }
  if (isNumber(value)) return mkFloat(toNum(value));
  return dflt;
}

const escapeHtml = (s: string) =>
  s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&#34;')
    .replaceAll("'", '&#39;');

function selectOrReject(
  ctx: FilterContext,
  value: unknown,
  args: unknown[],
  expect: boolean,
  byAttr: boolean,
) {
  const items = pyIter(value);
  const get = byAttr ? attrGetter(ctx, args[0]) : (x: unknown) => x;
  const rest = byAttr ? args.slice(1) : args;
  const testName = rest[0];
  const check = (v: unknown) =>
    testName === undefined ? truthy(v) : ctx.applyTest(String(testName), v, rest.slice(1));
  return items.filter((x) => check(get(x)) === expect);
}

/** A `groupby` group: a `(grouper, list)` tuple with `.grouper` and `.list`. */
class Group extends PyTuple<unknown> {
  get grouper(): unknown {
    return this[0];
  }
  get list(): unknown {
    return this[1];
  }
}

/** Jinja2's built-in filters (the ones templates use; no HTML-only ones beyond escape). */
export const BUILTIN_FILTERS: Record<string, FilterFn> = {
  abs: (_c, v) => (isFloat(v) ? mkFloat(Math.abs(toNum(v))) : Math.abs(toNum(v))),
  attr: (c, v, a) => (isMapping(v) ? undefined : c.getattr(v, String(a[0]))),
  batch: (_c, v, a, kw) => {
    const size = toNum(arg(a, kw, 0, 'linecount', 1));
    const fill = arg(a, kw, 1, 'fill_with', undefined);
    const items = pyIter(v);
    const out: unknown[][] = [];
    for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
    const last = out[out.length - 1];
    if (last && fill !== undefined) while (last.length < size) last.push(fill);
    return out;
  },
  capitalize: (_c, v) => {
    const s = pyStr(v);
    return s ? (s[0] as string).toUpperCase() + s.slice(1).toLowerCase() : s;
  },
  center: (_c, v, a, kw) =>
    (pythonMethod(pyStr(v), 'center') as (x: unknown[], k: object) => unknown)(
      [arg(a, kw, 0, 'width', 80)],
      {},
    ),
  default: (_c, v, a, kw) => {
    const dflt = arg(a, kw, 0, 'default_value', '');
    const boolean = truthy(arg(a, kw, 1, 'boolean', false));
    return isUndefined(v) || (boolean && !truthy(v)) ? dflt : v;
  },
  dictsort: (_c, v, a, kw) => {
    const caseSensitive = truthy(arg(a, kw, 0, 'case_sensitive', false));
    const by = arg(a, kw, 1, 'by', 'key');
    const reverse = truthy(arg(a, kw, 2, 'reverse', false));
    const key = sortKey(caseSensitive);
    const i = by === 'value' ? 1 : 0;
    const items = dictEntries(v).map(([k, x]) => tuple(k, x));
    items.sort((x, y) => pyCompare(key(x[i]), key(y[i])));
    return reverse ? items.reverse() : items;
  },
  escape: (_c, v) => escapeHtml(pyStr(v)),
  first: (_c, v) => {
    const items = pyIter(v);
    return items.length ? items[0] : undefined;
  },
  float: (_c, v, a, kw) => toFloat(v, arg(a, kw, 0, 'default', new PyFloat(0))),
  format: (_c, v, a, kw) => {
    if (a.length && Object.keys(kw).length)
      throw new PyError(
        'FilterArgumentError',
        "can't handle positional and keyword arguments at the same time",
      );
    return printfFormat(pyStr(v), Object.keys(kw).length ? new Map(Object.entries(kw)) : toTuple(a));
  },
  groupby: (c, v, a, kw) => {
    const get = attrGetter(c, arg(a, kw, 0, 'attribute', undefined), arg(a, kw, 1, 'default', undefined));
    const caseSensitive = truthy(arg(a, kw, 2, 'case_sensitive', false));
    const key = sortKey(caseSensitive);
    const items = [...pyIter(v)].sort((x, y) => pyCompare(key(get(x)), key(get(y))));
    const groups: Group[] = [];
    for (const item of items) {
      const k = get(item);
      const last = groups[groups.length - 1];
      if (last && pyEquals(key(last[0]), key(k))) (last[1] as unknown[]).push(item);
      else groups.push(Object.setPrototypeOf(tuple(k, [item]), Group.prototype) as Group);
    }
    return groups;
  },
  indent: (_c, v, a, kw) => {
    const width = arg(a, kw, 0, 'width', 4);
    const first = truthy(arg(a, kw, 1, 'first', false));
    const blank = truthy(arg(a, kw, 2, 'blank', false));
    const pad = typeof width === 'string' ? width : ' '.repeat(toNum(width));
    const lines = pyStr(v).split('\n');
    const out = lines.map((l, i) => ((i === 0 && !first) || (!blank && l.trim() === '') ? l : pad + l));
    return out.join('\n');
  },
  int: (_c, v, a, kw) => toInt(v, arg(a, kw, 0, 'default', 0), toNum(arg(a, kw, 1, 'base', 10))),
  items: (_c, v) => (isUndefined(v) ? [] : dictEntries(v).map(([k, x]) => tuple(k, x))),
  join: (c, v, a, kw) => {
    const sep = pyStr(arg(a, kw, 0, 'd', ''));
    const get = attrGetter(c, arg(a, kw, 1, 'attribute', undefined));
    return pyIter(v)
      .map((x) => pyStr(get(x)))
      .join(sep);
  },
  last: (_c, v) => {
    const items = pyIter(v);
    return items.length ? items[items.length - 1] : undefined;
  },
  length: (_c, v) => pyLen(v),
  list: (_c, v) => [...pyIter(v)],
  lower: (_c, v) => pyStr(v).toLowerCase(),
  map: (c, v, a, kw) => {
    const items = pyIter(v);
    if (a.length === 0 && 'attribute' in kw) return items.map(attrGetter(c, kw.attribute, kw.default));
    const [name, ...rest] = a;
    return items.map((x) => c.applyFilter(String(name), x, rest, kw));
  },
  max: (c, v, a, kw) => extreme(c, v, a, kw, 1),
  min: (c, v, a, kw) => extreme(c, v, a, kw, -1),
  reject: (c, v, a) => selectOrReject(c, v, a, false, false),
  rejectattr: (c, v, a) => selectOrReject(c, v, a, false, true),
  replace: (_c, v, a, kw) => {
    const m = pythonMethod(pyStr(v), 'replace') as (x: unknown[], k: object) => unknown;
    const count = arg(a, kw, 2, 'count', undefined);
    return m([pyStr(a[0]), pyStr(a[1]), ...(count === undefined || count === null ? [] : [count])], {});
  },
  reverse: (_c, v) => (typeof v === 'string' ? [...v].reverse().join('') : [...pyIter(v)].reverse()),
  round: (_c, v, a, kw) => {
    const precision = toNum(arg(a, kw, 0, 'precision', 0));
    const method = arg(a, kw, 1, 'method', 'common');
    const n = toNum(v);
    if (method === 'common' && typeof v === 'number' && Number.isInteger(v)) return v;
    const f = 10 ** precision;
    const r =
      method === 'ceil'
        ? Math.ceil(n * f) / f
        : method === 'floor'
          ? Math.floor(n * f) / f
          : pyRound(n, precision);
    return mkFloat(r);
  },
  safe: (_c, v) => v,
  select: (c, v, a) => selectOrReject(c, v, a, true, false),
  selectattr: (c, v, a) => selectOrReject(c, v, a, true, true),
  slice: (_c, v, a, kw) => {
    const n = toNum(arg(a, kw, 0, 'slices', 1));
    const fill = arg(a, kw, 1, 'fill_with', undefined);
    const items = pyIter(v);
    const per = Math.floor(items.length / n);
    const extra = items.length % n;
    const out: unknown[][] = [];
    let offset = 0;
    for (let i = 0; i < n; i++) {
      const start = offset + i * per;
      if (i < extra) offset++;
      const end = offset + (i + 1) * per;
      const part = items.slice(start, end);
      if (fill !== undefined && i >= extra) part.push(fill);
      out.push(part);
    }
    return out;
  },
  sort: (c, v, a, kw) => {
    const reverse = truthy(arg(a, kw, 0, 'reverse', false));
    const key = sortKey(truthy(arg(a, kw, 1, 'case_sensitive', false)));
    const get = attrGetter(c, arg(a, kw, 2, 'attribute', undefined));
    const items = [...pyIter(v)].sort((x, y) => pyCompare(key(get(x)), key(get(y))));
    return reverse ? items.reverse() : items;
  },
  string: (_c, v) => pyStr(v),
  striptags: (_c, v) =>
    pyStr(v)
      .replace(/<!--.*?-->|<[^>]*>/gs, '')
      .replace(/\s+/g, ' ')
      .trim(),
  sum: (c, v, a, kw) => {
    const get = attrGetter(c, arg(a, kw, 0, 'attribute', undefined));
    let total: unknown = arg(a, kw, 1, 'start', 0);
    for (const x of pyIter(v)) {
      const n = get(x);
      total = isFloat(total) || isFloat(n) ? mkFloat(toNum(total) + toNum(n)) : toNum(total) + toNum(n);
    }
    return total;
  },
  title: (_c, v) =>
    pyStr(v)
      .split(/([-\s({[<]+)/)
      .map((w) => (w ? (w[0] as string).toUpperCase() + w.slice(1).toLowerCase() : w))
      .join(''),
  tojson: (_c, v, a, kw) => {
    const indent = arg(a, kw, 0, 'indent', undefined);
    return pyJsonDumps(v, {
      sortKeys: true,
      ...(indent === undefined || indent === null ? {} : { indent: toNum(indent) }),
    })
      .replaceAll('<', '\\u003c')
      .replaceAll('>', '\\u003e')
      .replaceAll('&', '\\u0026')
      .replaceAll("'", '\\u0027');
  },
  trim: (_c, v, a, kw) =>
    (pythonMethod(pyStr(v), 'strip') as (x: unknown[], k: object) => unknown)(
      [arg(a, kw, 0, 'chars', null)],
      {},
    ),
  truncate: (_c, v, a, kw) => {
    const s = pyStr(v);
    const length = toNum(arg(a, kw, 0, 'length', 255));
    const killwords = truthy(arg(a, kw, 1, 'killwords', false));
    const end = pyStr(arg(a, kw, 2, 'end', '...'));
    const leeway = toNum(arg(a, kw, 3, 'leeway', 5));
    if (s.length <= length + leeway) return s;
    if (killwords) return s.slice(0, length - end.length) + end;
    const cut = s.slice(0, length - end.length);
    const at = cut.lastIndexOf(' ');
    return (at >= 0 ? cut.slice(0, at) : cut) + end;
  },
  unique: (c, v, a, kw) => {
    const key = sortKey(truthy(arg(a, kw, 0, 'case_sensitive', false)));
    const get = attrGetter(c, arg(a, kw, 1, 'attribute', undefined));
    const seen: unknown[] = [];
    const out: unknown[] = [];
    for (const x of pyIter(v)) {
      const k = key(get(x));
      if (!seen.some((s) => pyEquals(s, k))) {
        seen.push(k);
        out.push(x);
      }
    }
    return out;
  },
  upper: (_c, v) => pyStr(v).toUpperCase(),
  urlencode: (_c, v) =>
    isMapping(v)
      ? dictEntries(v)
          .map(([k, x]) => `${encodeURIComponent(pyStr(k))}=${encodeURIComponent(pyStr(x))}`)
          .join('&')
      : encodeURIComponent(pyStr(v)).replace(/%2F/g, '/'),
  wordcount: (_c, v) => (pyStr(v).match(/\w+/g) ?? []).length,
};
BUILTIN_FILTERS.d = BUILTIN_FILTERS.default as FilterFn;
BUILTIN_FILTERS.e = BUILTIN_FILTERS.escape as FilterFn;
BUILTIN_FILTERS.forceescape = BUILTIN_FILTERS.escape as FilterFn;
BUILTIN_FILTERS.count = BUILTIN_FILTERS.length as FilterFn;

function extreme(
  c: FilterContext,
  v: unknown,
  a: unknown[],
  kw: Record<string, unknown>,
  sign: number,
): unknown {
  const key = sortKey(truthy(arg(a, kw, 0, 'case_sensitive', false)));
  const get = attrGetter(c, arg(a, kw, 1, 'attribute', undefined));
  const items = pyIter(v);
  if (!items.length) return undefined;
  let best = items[0];
  for (const x of items.slice(1)) if (pyCompare(key(get(x)), key(get(best))) * sign > 0) best = x;
  return best;
}
