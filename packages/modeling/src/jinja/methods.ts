import { strFormat } from './format.js';
import {
  dictDelete,
  dictEntries,
  dictGet,
  dictKeys,
  dictSet,
  isMapping,
  type PyCallable,
  PyError,
  PyTuple,
  pyCompare,
  pyEquals,
  pyFunction,
  pyIter,
  pyRepr,
  toNum,
  tuple,
} from './values.js';

const WS = ' \t\n\r\v\f';

function stripChars(s: string, chars: unknown, left: boolean, right: boolean): string {
  const set = chars === undefined || chars === null ? WS : String(chars);
  let b = 0;
  let e = s.length;
  if (left) while (b < e && set.includes(s[b] as string)) b++;
  if (right) while (e > b && set.includes(s[e - 1] as string)) e--;
  return s.slice(b, e);
}

function split(s: string, sep: unknown, maxsplit: unknown): string[] {
  const max = maxsplit === undefined || maxsplit === null ? -1 : toNum(maxsplit);
  if (sep === undefined || sep === null) {
    const parts: string[] = [];
    let rest = s.replace(/^\s+/, '');
    while (rest) {
      if (max >= 0 && parts.length === max) {
        parts.push(rest);
        break;
      }
      const m = /\s+/.exec(rest);
      if (!m) {
        parts.push(rest);
        break;
      }
      parts.push(rest.slice(0, m.index));
      rest = rest.slice(m.index + m[0].length);
    }
    return parts;
  }
  const sepText = String(sep);
  if (sepText === '') throw new PyError('ValueError', 'empty separator');
  const all = s.split(sepText);
  if (max < 0 || all.length <= max + 1) return all;
  return [...all.slice(0, max), all.slice(max).join(sepText)];
}

function title(s: string): string {
  return s.replace(/[A-Za-z]+/g, (w) => w[0]?.toUpperCase() + w.slice(1).toLowerCase());
}

function indexIn(s: string, sub: unknown, start: unknown, end: unknown, fromRight: boolean): number {
  const b = start === undefined || start === null ? 0 : toNum(start);
  const e = end === undefined || end === null ? s.length : toNum(end);
  const region = s.slice(b < 0 ? s.length + b : b, e < 0 ? s.length + e : e);
  const i = fromRight ? region.lastIndexOf(String(sub)) : region.indexOf(String(sub));
  return i < 0 ? -1 : i + (b < 0 ? s.length + b : b);
}

const STRING_METHODS: Record<string, (s: string, a: unknown[], kw: Record<string, unknown>) => unknown> = {
  upper: (s) => s.toUpperCase(),
  lower: (s) => s.toLowerCase(),
  casefold: (s) => s.toLowerCase(),
  swapcase: (s) => [...s].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(''),
  strip: (s, a) => stripChars(s, a[0], true, true),
  lstrip: (s, a) => stripChars(s, a[0], true, false),
  rstrip: (s, a) => stripChars(s, a[0], false, true),
  split: (s, a, kw) => split(s, a[0] ?? kw.sep, a[1] ?? kw.maxsplit),
  rsplit: (s, a, kw) => {
    const max = a[1] ?? kw.maxsplit;
    const sep = a[0] ?? kw.sep;
    if (max === undefined || toNum(max) < 0 || sep === undefined || sep === null) return split(s, sep, max);
    const all = s.split(String(sep));
    const n = toNum(max);
    if (all.length <= n + 1) return all;
    return [all.slice(0, all.length - n).join(String(sep)), ...all.slice(all.length - n)];
  },
  splitlines: (s) => s.split(/\r\n|\r|\n/).filter((_, i, arr) => i < arr.length - 1 || arr[i] !== ''),
  replace: (s, a) => {
    const [old, rep, count] = a.map((x, i) => (i < 2 ? String(x) : x));
    const n = count === undefined || count === null ? -1 : toNum(count);
    if (n < 0) return s.split(old as string).join(rep as string);
    let out = s;
    let from = 0;
    for (let i = 0; i < n; i++) {
      const at = out.indexOf(old as string, from);
      if (at < 0) break;
      out = out.slice(0, at) + rep + out.slice(at + (old as string).length);
      from = at + (rep as string).length;
    }
    return out;
  },
  startswith: (s, a) =>
    Array.isArray(a[0])
      ? a[0].some((p) => s.startsWith(String(p), toNum(a[1] ?? 0)))
      : s.startsWith(String(a[0]), toNum(a[1] ?? 0)),
  endswith: (s, a) =>
    Array.isArray(a[0]) ? a[0].some((p) => s.endsWith(String(p))) : s.endsWith(String(a[0])),
  format: (s, a, kw) => strFormat(s, a, kw),
  join: (s, a) =>
    pyIter(a[0])
      .map((x) => {
        if (typeof x !== 'string')
          throw new PyError('TypeError', `sequence item: expected str instance, ${typeof x} found`);
        return x;
      })
      .join(s),
  title: (s) => title(s),
  capitalize: (s) => (s ? (s[0] as string).toUpperCase() + s.slice(1).toLowerCase() : s),
  find: (s, a) => indexIn(s, a[0], a[1], a[2], false),
  rfind: (s, a) => indexIn(s, a[0], a[1], a[2], true),
  index: (s, a) => {
    const i = indexIn(s, a[0], a[1], a[2], false);
    if (i < 0) throw new PyError('ValueError', 'substring not found');
    return i;
  },
  count: (s, a) => (String(a[0]) === '' ? s.length + 1 : s.split(String(a[0])).length - 1),
  isdigit: (s) => /^\d+$/.test(s),
  isnumeric: (s) => /^\d+$/.test(s),
  isdecimal: (s) => /^\d+$/.test(s),
  isalpha: (s) => /^\p{L}+$/u.test(s),
  isalnum: (s) => /^[\p{L}\d]+$/u.test(s),
  isspace: (s) => /^\s+$/.test(s),
  isupper: (s) => /\p{Lu}/u.test(s) && s === s.toUpperCase(),
  islower: (s) => /\p{Ll}/u.test(s) && s === s.toLowerCase(),
  istitle: (s) => s.length > 0 && s === title(s),
  zfill: (s, a) => {
    const w = toNum(a[0]);
    const sign = s[0] === '-' || s[0] === '+' ? (s[0] as string) : '';
    return sign + s.slice(sign.length).padStart(w - sign.length, '0');
  },
  ljust: (s, a) => s.padEnd(toNum(a[0]), a[1] === undefined ? ' ' : String(a[1])),
  rjust: (s, a) => s.padStart(toNum(a[0]), a[1] === undefined ? ' ' : String(a[1])),
  center: (s, a) => {
    const w = toNum(a[0]);
    const fill = a[1] === undefined ? ' ' : String(a[1]);
    if (s.length >= w) return s;
    const total = w - s.length;
    const left = Math.floor(total / 2) + (total % 2 && w % 2 ? 1 : 0);
    return fill.repeat(left) + s + fill.repeat(total - left);
  },
  partition: (s, a) => {
    const sep = String(a[0]);
    const i = s.indexOf(sep);
    return i < 0 ? tuple(s, '', '') : tuple(s.slice(0, i), sep, s.slice(i + sep.length));
  },
  rpartition: (s, a) => {
    const sep = String(a[0]);
    const i = s.lastIndexOf(sep);
    return i < 0 ? tuple('', '', s) : tuple(s.slice(0, i), sep, s.slice(i + sep.length));
  },
  removeprefix: (s, a) => (s.startsWith(String(a[0])) ? s.slice(String(a[0]).length) : s),
  removesuffix: (s, a) => (String(a[0]) && s.endsWith(String(a[0])) ? s.slice(0, -String(a[0]).length) : s),
  encode: (s) => s,
};

function listIndex(list: unknown[], a: unknown[]): number {
  const i = list.findIndex((x) => pyEquals(x, a[0]));
  if (i < 0) throw new PyError('ValueError', `${pyRepr(a[0])} is not in list`);
  return i;
}

function sortList(list: unknown[], kw: Record<string, unknown>): void {
  const key = kw.key as ((args: unknown[], kw: Record<string, unknown>) => unknown) | undefined;
  const keyed = key ? (x: unknown) => key([x], {}) : (x: unknown) => x;
  list.sort((x, y) => pyCompare(keyed(x), keyed(y)));
  if (kw.reverse === true) list.reverse();
}

const LIST_METHODS: Record<string, (l: unknown[], a: unknown[], kw: Record<string, unknown>) => unknown> = {
  append: (l, a) => {
    l.push(a[0]);
    return null;
  },
  extend: (l, a) => {
    l.push(...pyIter(a[0]));
    return null;
  },
  insert: (l, a) => {
    let i = toNum(a[0]);
    if (i < 0) i = Math.max(0, l.length + i);
    l.splice(Math.min(i, l.length), 0, a[1]);
    return null;
  },
  pop: (l, a) => {
    if (l.length === 0) throw new PyError('IndexError', 'pop from empty list');
    let i = a[0] === undefined ? l.length - 1 : toNum(a[0]);
    if (i < 0) i += l.length;
    if (i < 0 || i >= l.length) throw new PyError('IndexError', 'pop index out of range');
    return l.splice(i, 1)[0];
  },
  remove: (l, a) => {
    l.splice(listIndex(l, a), 1);
    return null;
  },
  index: (l, a) => listIndex(l, a),
  count: (l, a) => l.filter((x) => pyEquals(x, a[0])).length,
  reverse: (l) => {
    l.reverse();
    return null;
  },
  sort: (l, _a, kw) => {
    sortList(l, kw);
    return null;
  },
  copy: (l) => [...l],
  clear: (l) => {
    l.length = 0;
    return null;
  },
};

const TUPLE_METHODS = new Set(['index', 'count']);

const DICT_METHODS: Record<string, (d: object, a: unknown[], kw: Record<string, unknown>) => unknown> = {
  items: (d) => dictEntries(d).map(([k, v]) => tuple(k, v)),
  keys: (d) => dictKeys(d),
  values: (d) => dictEntries(d).map(([, v]) => v),
  get: (d, a) => {
    const got = dictGet(d, a[0]);
    return got.found ? got.value : (a[1] ?? null);
  },
  update: (d, a, kw) => {
    if (a[0] !== undefined && a[0] !== null) {
      const src = a[0];
      const entries = isMapping(src)
        ? dictEntries(src)
        : pyIter(src).map((p) => pyIter(p) as [unknown, unknown]);
      for (const [k, v] of entries) dictSet(d, k, v);
    }
    for (const [k, v] of Object.entries(kw)) dictSet(d, k, v);
    return null;
  },
  pop: (d, a) => {
    const got = dictGet(d, a[0]);
    if (got.found) {
      dictDelete(d, a[0]);
      return got.value;
    }
    if (a.length > 1) return a[1];
    throw new PyError('KeyError', pyRepr(a[0]));
  },
  popitem: (d) => {
    const entries = dictEntries(d);
    const last = entries[entries.length - 1];
    if (!last) throw new PyError('KeyError', "'popitem(): dictionary is empty'");
    dictDelete(d, last[0]);
    return tuple(last[0], last[1]);
  },
  setdefault: (d, a) => {
    const got = dictGet(d, a[0]);
    if (got.found) return got.value;
    const v = a[1] ?? null;
    dictSet(d, a[0], v);
    return v;
  },
  copy: (d) => (d instanceof Map ? new Map(d) : { ...d }),
  clear: (d) => {
    for (const k of dictKeys(d)) dictDelete(d, k);
    return null;
  },
};

function bind<T>(
  name: string,
  self: T,
  m: (self: T, a: unknown[], kw: Record<string, unknown>) => unknown,
): PyCallable {
  return pyFunction(name, (args, kwargs) => m(self, args, kwargs));
}

/** The Python method `name` of a str, list, tuple or dict value, bound to it; undefined when none. */
export function pythonMethod(value: unknown, name: string): PyCallable | undefined {
  if (typeof value === 'string') {
    const m = STRING_METHODS[name];
    return m && Object.hasOwn(STRING_METHODS, name) ? bind(name, value, m) : undefined;
  }
  if (Array.isArray(value)) {
    const m = LIST_METHODS[name];
    if (!m || !Object.hasOwn(LIST_METHODS, name)) return undefined;
    if (value instanceof PyTuple && !TUPLE_METHODS.has(name)) return undefined;
    return bind(name, value, m);
  }
  if (isMapping(value)) {
    const m = DICT_METHODS[name];
    return m && Object.hasOwn(DICT_METHODS, name) ? bind(name, value as object, m) : undefined;
  }
  return undefined;
}
