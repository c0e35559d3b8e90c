import { pythonMethod } from './methods.js';
import { sliceOp } from './ops.js';
import {
  dictEntries,
  dictGet,
  hasPyHook,
  isMapping,
  isPlainObject,
  isPyCallable,
  isUndefined,
  PY_GETATTR,
  PY_GETITEM,
  PyError,
  pyFunction,
  pyTypeName,
  toNum,
  Undefined,
} from './values.js';

/** `namespace(a=1)`: the one object whose attributes `{% set ns.a = … %}` may assign. */
export class Namespace {
  [key: string]: unknown;
}

/** The error Jinja2 raises when an undefined value is used for more than printing or testing. */
export function undefinedError(v: unknown): PyError {
  if (v instanceof Undefined && v.owner !== undefined) {
    return new PyError('UndefinedError', `'${describeOwner(v.owner)}' has no attribute '${v.name}'`);
  }
  const name = v instanceof Undefined ? v.name : '';
  return new PyError('UndefinedError', `'${name}' is undefined`);
}

function describeOwner(owner: unknown): string {
  if (owner === null) return 'None';
  const t = pyTypeName(owner);
  return ['dict', 'list', 'str', 'tuple', 'int', 'float', 'bool'].includes(t) ? `${t} object` : t;
}

const HIDDEN = new Set(Object.getOwnPropertyNames(Object.prototype).concat(['prototype', 'constructor']));

/** Jinja's `obj.name`: the Python attribute (methods included) first, then the item. */
export function getattr(obj: unknown, name: string): unknown {
  if (isUndefined(obj)) throw undefinedError(obj);
  if (obj === null) return new Undefined(name, obj);
  const method = pythonMethod(obj, name);
  if (method) return method;
  if (obj instanceof Map) {
    const got = dictGet(obj, name);
    return got.found ? got.value : new Undefined(name, obj);
  }
  if (typeof obj === 'string' || Array.isArray(obj) || isPlainObject(obj)) {
    if (!Array.isArray(obj) && typeof obj !== 'string' && Object.hasOwn(obj, name)) return obj[name];
    if (Array.isArray(obj) && obj.constructor !== Array && !HIDDEN.has(name) && name in obj)
      return hostValue(obj, name);
    return fallbackAttr(obj, name);
  }
  if (
    (typeof obj === 'object' || typeof obj === 'function') &&
    !HIDDEN.has(name) &&
    name in (obj as object)
  ) {
    if (isPyCallable(obj) && name === 'name') return obj.pyName;
    return hostValue(obj as object, name);
  }
  return fallbackAttr(obj, name);
}

/** Python's `__getattr__`: asked only when normal lookup found nothing. */
function fallbackAttr(obj: unknown, name: string): unknown {
  if (hasPyHook(obj, PY_GETATTR) && !HIDDEN.has(name)) {
    const value = (obj as { [PY_GETATTR](n: string): unknown })[PY_GETATTR](name);
    if (value !== undefined) return value;
  }
  return new Undefined(name, obj);
}

function hostValue(obj: object, name: string): unknown {
  const v = (obj as Record<string, unknown>)[name];
  if (typeof v === 'function' && !isPyCallable(v)) return v.bind(obj);
  return v === undefined ? new Undefined(name, obj) : v;
}

/** Jinja's `obj[key]`: the item first, then the attribute. */
export function getitem(obj: unknown, key: unknown): unknown {
  if (isUndefined(obj)) throw undefinedError(obj);
  if (hasPyHook(obj, PY_GETITEM)) return (obj as { [PY_GETITEM](k: unknown): unknown })[PY_GETITEM](key);
  if (Array.isArray(obj) || typeof obj === 'string') {
    if (typeof key === 'number' || typeof key === 'boolean') {
      const items = typeof obj === 'string' ? [...obj] : obj;
      let i = toNum(key);
      if (i < 0) i += items.length;
      return i >= 0 && i < items.length ? items[i] : new Undefined(String(key), obj);
    }
    return typeof key === 'string' ? getattr(obj, key) : new Undefined(String(key), obj);
  }
  if (isMapping(obj)) {
    const got = dictGet(obj, key);
    if (got.found) return got.value;
    return typeof key === 'string' ? getattr(obj, key) : new Undefined(String(key), obj);
  }
  if (obj === null) return new Undefined(String(key), obj);
  return typeof key === 'string' ? getattr(obj, key) : new Undefined(String(key), obj);
}

export function slice(obj: unknown, start: unknown, stop: unknown, step: unknown): unknown {
  return sliceOp(obj, start, stop, step);
}

/** Calls a template value: macros and host callables take `(args, kwargs)`, plain functions positional arguments. */
export function callValue(fn: unknown, args: unknown[], kwargs: Record<string, unknown>): unknown {
  if (isPyCallable(fn)) return fn(args, kwargs);
  if (typeof fn === 'function') {
    const result = Object.keys(kwargs).length ? fn(...args, kwargs) : fn(...args);
    return result === undefined ? null : result;
  }
  if (isUndefined(fn)) throw undefinedError(fn);
  throw new PyError('TypeError', `'${pyTypeName(fn)}' object is not callable`);
}

/** The loop variable of `{% for %}`. */
export class LoopContext {
  index0 = 0;
  readonly depth = 1;
  readonly depth0 = 0;
  private lastChanged: unknown[] | undefined;
  constructor(private readonly items: unknown[]) {}
  get length(): number {
    return this.items.length;
  }
  get index(): number {
    return this.index0 + 1;
  }
  get revindex(): number {
    return this.items.length - this.index0;
  }
  get revindex0(): number {
    return this.items.length - this.index0 - 1;
  }
  get first(): boolean {
    return this.index0 === 0;
  }
  get last(): boolean {
    return this.index0 === this.items.length - 1;
  }
  get previtem(): unknown {
    return this.index0 > 0 ? this.items[this.index0 - 1] : new Undefined('previtem');
  }
  get nextitem(): unknown {
    return this.index0 < this.items.length - 1 ? this.items[this.index0 + 1] : new Undefined('nextitem');
  }
  cycle(...values: unknown[]): unknown {
    if (!values.length) throw new PyError('TypeError', 'no items for cycling given');
    return values[this.index0 % values.length];
  }
  changed(...values: unknown[]): boolean {
    const same =
      this.lastChanged !== undefined &&
      this.lastChanged.length === values.length &&
      this.lastChanged.every((v, i) => v === values[i]);
    this.lastChanged = values;
    return !same;
  }
}

function rangeList(args: unknown[]): number[] {
  const [a, b, c] = args.map(toNum);
  const [start, stop, step] = args.length === 1 ? [0, a as number, 1] : [a as number, b as number, c ?? 1];
  if (step === 0) throw new PyError('ValueError', 'range() arg 3 must not be zero');
  const out: number[] = [];
  if (step > 0) for (let i = start; i < stop; i += step) out.push(i);
  else for (let i = start; i > stop; i += step) out.push(i);
  if (out.length > 100_000) throw new PyError('OverflowError', 'range too big');
  return out;
}

/** Jinja2's default globals: `range`, `dict`, `namespace`, `cycler`, `joiner`. */
export function jinjaGlobals(): Record<string, unknown> {
  return {
    range: pyFunction('range', (args) => rangeList(args)),
    dict: pyFunction('dict', (args, kwargs) => {
      const m = new Map<unknown, unknown>();
      if (args[0] !== undefined) {
        const src = args[0];
        if (isMapping(src)) for (const [k, v] of dictEntries(src)) m.set(k, v);
        else for (const pair of src as unknown[][]) m.set(pair[0], pair[1]);
      }
      for (const [k, v] of Object.entries(kwargs)) m.set(k, v);
      return m;
    }),
    namespace: pyFunction('namespace', (args, kwargs) => {
      const ns = new Namespace();
      if (args[0] !== undefined && isMapping(args[0])) {
        for (const [k, v] of dictEntries(args[0])) ns[String(k)] = v;
      }
      Object.assign(ns, kwargs);
      return ns;
    }),
    cycler: pyFunction('cycler', (args) => {
      let pos = 0;
      return {
        next: () => args[pos++ % args.length],
        reset: () => {
          pos = 0;
          return null;
        },
        get current() {
          return args[pos % args.length];
        },
      };
    }),
    joiner: pyFunction('joiner', (args) => {
      let used = false;
      const sep = args[0] === undefined ? ', ' : String(args[0]);
      return pyFunction('joiner', () => {
        if (!used) {
          used = true;
          return '';
        }
        return sep;
      });
    }),
  };
}
