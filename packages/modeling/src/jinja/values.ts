/**
 * Python's value model as Jinja2 sees it, over plain JavaScript values:
 * `null` is None, booleans are bools, integral numbers are ints, {@link PyFloat} boxes a float
 * whose value is integral (so `2.0` prints as `2.0`), arrays are lists, {@link PyTuple} is a tuple,
 * `Map` is a dict (insertion order, any key), plain objects are read as dicts too.
 */

/** Jinja2's Undefined: prints empty, is falsy, iterates as empty; reading an attribute of it fails. */
export class Undefined {
  constructor(
    readonly name: string,
    readonly owner?: unknown,
  ) {}
  toString(): string {
    return '';
  }
}

/** A float whose value is integral (`2.0`); non-integral floats stay plain numbers. */
export class PyFloat {
  constructor(readonly value: number) {}
  toString(): string {
    return floatRepr(this.value);
  }
}

/** A Python tuple: an array that prints as `(1, 2)`. */
export class PyTuple<T = unknown> extends Array<T> {
  // map / filter / slice of a tuple give plain lists, not tuples.
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }
}

/** A tuple of `items`. */
export function tuple<T>(...items: T[]): PyTuple<T> {
  const t = new PyTuple<T>();
  t.push(...items);
  return t;
}

/** A tuple of the items of `items`. */
export function toTuple<T>(items: Iterable<T>): PyTuple<T> {
  const t = new PyTuple<T>();
  for (const i of items) t.push(i);
  return t;
}

/** A Python set (printed `{1, 2}`); membership by Python equality of primitives. */
export class PySet extends Set<unknown> {}

/** Marks host functions that take `(args, kwargs)` like a Python callable. */
export const PY_CALLABLE: unique symbol = Symbol('pyCallable');
/** A host function called with positional and keyword arguments. */
export type PyCallable = ((args: unknown[], kwargs: Record<string, unknown>) => unknown) & {
  [PY_CALLABLE]: true;
  pyName?: string;
};

/** Wraps `fn` so templates call it with `(args, kwargs)`. */
export function pyFunction(
  name: string,
  fn: (args: unknown[], kwargs: Record<string, unknown>) => unknown,
): PyCallable {
  const f = fn as PyCallable;
  f[PY_CALLABLE] = true;
  f.pyName = name;
  return f;
}

export function isPyCallable(value: unknown): value is PyCallable {
  return typeof value === 'function' && (value as Partial<PyCallable>)[PY_CALLABLE] === true;
}

/**
 * Host objects that answer `obj[key]` themselves, as a Python class with `__getitem__` does (dbt's
 * agate rows and columns: by position and by name).
 */
export const PY_GETITEM: unique symbol = Symbol('pyGetitem');
/** Host objects with a fallback for unknown attributes, as Python's `__getattr__` (agate's `row.name`). */
export const PY_GETATTR: unique symbol = Symbol('pyGetattr');

/** Whether `value` implements `hook` (see {@link PY_GETITEM}, {@link PY_GETATTR}). */
export function hasPyHook(value: unknown, hook: typeof PY_GETITEM | typeof PY_GETATTR): boolean {
  return value !== null && typeof value === 'object' && hook in value;
}

/** A Python-level error raised while rendering (TypeError, ValueError…); the message is Python's. */
export class PyError extends Error {
  constructor(
    readonly pyType: string,
    message: string,
  ) {
    super(message);
  }
}

export function isUndefined(v: unknown): v is Undefined {
  return v === undefined || v instanceof Undefined;
}

export function isFloat(v: unknown): boolean {
  return v instanceof PyFloat || (typeof v === 'number' && !Number.isInteger(v));
}

export function isInt(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v);
}

export function isNumber(v: unknown): boolean {
  return typeof v === 'number' || typeof v === 'boolean' || v instanceof PyFloat;
}

/** A plain object read as a dict (class instances are objects with attributes, not dicts). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function isMapping(v: unknown): boolean {
  return v instanceof Map || isPlainObject(v);
}

/** The JavaScript number of an int, float or bool. */
export function toNum(v: unknown): number {
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v as number;
}

/** A float result: boxed when integral so that it keeps printing as a float. */
export function mkFloat(n: number): number | PyFloat {
  return Number.isInteger(n) ? new PyFloat(n) : n;
}

export function pyTypeName(v: unknown): string {
  if (v === null) return 'NoneType';
  if (isUndefined(v)) return 'Undefined';
  if (typeof v === 'boolean') return 'bool';
  if (isFloat(v)) return 'float';
  if (typeof v === 'number') return 'int';
  if (typeof v === 'string') return 'str';
  if (v instanceof PyTuple) return 'tuple';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PySet) return 'set';
  if (isMapping(v)) return 'dict';
  if (typeof v === 'function') return 'function';
  return (v as object).constructor?.name ?? 'object';
}

/** Entries of a dict (Map or plain object) in order. */
export function dictEntries(v: unknown): [unknown, unknown][] {
  if (v instanceof Map) return [...v.entries()];
  return Object.entries(v as Record<string, unknown>);
}

export function dictKeys(v: unknown): unknown[] {
  if (v instanceof Map) return [...v.keys()];
  return Object.keys(v as Record<string, unknown>);
}

/** A Map key for a Python value: `1`, `1.0` and `True` are the same key, as in Python. */
export function dictKey(k: unknown): unknown {
  if (k instanceof PyFloat) return k.value;
  if (typeof k === 'boolean') return k ? 1 : 0;
  return k;
}

export function dictGet(d: unknown, key: unknown): { found: boolean; value?: unknown } {
  if (d instanceof Map) {
    const k = dictKey(key);
    return d.has(k) ? { found: true, value: d.get(k) } : { found: false };
  }
  const obj = d as Record<string, unknown>;
  if (typeof key === 'string' || typeof key === 'number') {
    const k = String(key);
    if (Object.hasOwn(obj, k)) return { found: true, value: obj[k] };
  }
  return { found: false };
}

export function dictSet(d: unknown, key: unknown, value: unknown): void {
  if (d instanceof Map) d.set(dictKey(key), value);
  else (d as Record<string, unknown>)[String(key)] = value;
}

export function dictDelete(d: unknown, key: unknown): void {
  if (d instanceof Map) d.delete(dictKey(key));
  else delete (d as Record<string, unknown>)[String(key)];
}

export function dictSize(d: unknown): number {
  return d instanceof Map ? d.size : Object.keys(d as object).length;
}

/** Python truthiness. */
export function truthy(v: unknown): boolean {
  if (v === null || isUndefined(v)) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (v instanceof PyFloat) return v.value !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map || v instanceof Set) return v.size > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  return true;
}

/** Python's `repr(float)`: shortest round-trip digits, exponent outside [1e-4, 1e16). */
export function floatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = n.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  if (exp >= -4 && exp < 16) {
    const digits = mantissa.replace('-', '').replace('.', '');
    const sign = n < 0 ? '-' : '';
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1);
    return `${sign}${intPart}.${frac || '0'}`;
  }
  return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** Python's `repr(str)`. */
export function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch < ' ' || ch === '\x7f') out += `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

/** Python's `repr()` of a value. */
export function pyRepr(v: unknown): string {
  if (typeof v === 'string') return strRepr(v);
  if (v instanceof PyTuple) {
    if (v.length === 1) return `(${pyRepr(v[0])},)`;
    return `(${v.map(pyRepr).join(', ')})`;
  }
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (v instanceof PySet) return v.size === 0 ? 'set()' : `{${[...v].map(pyRepr).join(', ')}}`;
  if (isMapping(v))
    return `{${dictEntries(v)
      .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  if (isUndefined(v)) return 'Undefined';
  return pyStr(v);
}

/** Python's `str()` of a value: what `{{ value }}` prints. */
export function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null) return 'None';
  if (isUndefined(v)) return '';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : floatRepr(v);
  // toString, not floatRepr: a Decimal (a PyFloat subclass) prints its own digits.
  if (v instanceof PyFloat) return v.toString();
  if (Array.isArray(v) || v instanceof PySet || isMapping(v)) return pyRepr(v);
  if (typeof v === 'function') return `<function ${(v as PyCallable).pyName ?? v.name}>`;
  return String(v);
}

/** Python `==`. */
export function pyEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (sameValueClass(a, b)) return (a as object).valueOf() === (b as object).valueOf();
  if (isNumber(a) && isNumber(b)) return toNum(a) === toNum(b);
  if (isUndefined(a) && isUndefined(b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a instanceof PyTuple !== b instanceof PyTuple || a.length !== b.length) return false;
    return a.every((x, i) => pyEquals(x, b[i]));
  }
  if (isMapping(a) && isMapping(b)) {
    const ea = dictEntries(a);
    if (ea.length !== dictSize(b)) return false;
    return ea.every(([k, x]) => {
      const got = dictGet(b, k);
      return got.found && pyEquals(x, got.value);
    });
  }
  if (a instanceof PySet && b instanceof PySet) {
    return a.size === b.size && [...a].every((x) => b.has(x));
  }
  return false;
}

/** Python ordering (`<`): numbers, strings, and lists / tuples element-wise. */
/** Host values of one class ordered by a numeric `valueOf` (dates, datetimes, timedeltas). */
function sameValueClass(a: unknown, b: unknown): boolean {
  return (
    typeof a === 'object' &&
    typeof b === 'object' &&
    a !== null &&
    b !== null &&
    !isPlainObject(a) &&
    a.constructor === b.constructor &&
    typeof a.valueOf() === 'number'
  );
}

export function pyCompare(a: unknown, b: unknown): number {
  if (sameValueClass(a, b)) return ((a as object).valueOf() as number) - ((b as object).valueOf() as number);
  if (isNumber(a) && isNumber(b)) return toNum(a) - toNum(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = pyCompare(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  throw new PyError(
    'TypeError',
    `'<' not supported between instances of '${pyTypeName(a)}' and '${pyTypeName(b)}'`,
  );
}

/** Iterates a value as Python `for` would. */
export function pyIter(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (isUndefined(v)) return [];
  if (v instanceof Map) return [...v.keys()];
  if (v instanceof Set) return [...v];
  if (isPlainObject(v)) return Object.keys(v);
  if (v !== null && typeof v === 'object' && Symbol.iterator in v) return [...(v as Iterable<unknown>)];
  throw new PyError('TypeError', `'${pyTypeName(v)}' object is not iterable`);
}

/** Python `len()`. */
export function pyLen(v: unknown): number {
  if (typeof v === 'string') return [...v].length;
  if (Array.isArray(v)) return v.length;
  if (v instanceof Map || v instanceof Set) return v.size;
  if (isPlainObject(v)) return Object.keys(v).length;
  if (isUndefined(v)) return 0;
  throw new PyError('TypeError', `object of type '${pyTypeName(v)}' has no len()`);
}

/** Converts template values to plain JSON-like JavaScript (Maps to objects, floats to numbers). */
export function toPlain(v: unknown): unknown {
  if (v instanceof PyFloat) return v.value;
  if (isUndefined(v)) return undefined;
  if (Array.isArray(v)) return v.map(toPlain);
  if (v instanceof Set) return [...v].map(toPlain);
  if (v instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of v) out[String(k)] = toPlain(x);
    return out;
  }
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toPlain(x);
    return out;
  }
  return v;
}
