import { printfFormat } from './format.js';
import { dateArithmetic, PyDate, PyTimedelta } from './py-datetime.js';
import { decimalArithmetic, PyDecimal } from './py-decimal.js';
import {
  dictGet,
  isFloat,
  isMapping,
  isNumber,
  isUndefined,
  mkFloat,
  PyError,
  PySet,
  PyTuple,
  pyEquals,
  pyStr,
  pyTypeName,
  toNum,
  toTuple,
} from './values.js';

function unsupported(op: string, a: unknown, b: unknown): never {
  throw new PyError(
    'TypeError',
    `unsupported operand type(s) for ${op}: '${pyTypeName(a)}' and '${pyTypeName(b)}'`,
  );
}

function numeric(op: string, a: unknown, b: unknown, f: (x: number, y: number) => number): unknown {
  if (!isNumber(a) || !isNumber(b)) unsupported(op, a, b);
  const r = f(toNum(a), toNum(b));
  return isFloat(a) || isFloat(b) ? mkFloat(r) : r;
}

/** Python's binary arithmetic operators on template values. */
export function binaryOp(op: string, a: unknown, b: unknown): unknown {
  if (a instanceof PyDate || a instanceof PyTimedelta || b instanceof PyDate || b instanceof PyTimedelta) {
    const r = dateArithmetic(op, a, b);
    if (r !== undefined) return r;
  }
  if (a instanceof PyDecimal || b instanceof PyDecimal) {
    const r = decimalArithmetic(op, a, b);
    if (r !== undefined) return r;
  }
  switch (op) {
    case '+':
      if (typeof a === 'string' && typeof b === 'string') return a + b;
      if (Array.isArray(a) && Array.isArray(b)) {
        if (a instanceof PyTuple !== b instanceof PyTuple) unsupported('+', a, b);
        return a instanceof PyTuple ? toTuple([...a, ...b]) : [...a, ...b];
      }
      return numeric('+', a, b, (x, y) => x + y);
    case '-':
      if (a instanceof PySet && b instanceof PySet) return new PySet([...a].filter((x) => !b.has(x)));
      return numeric('-', a, b, (x, y) => x - y);
    case '*':
      if (typeof a === 'string' && (typeof b === 'number' || typeof b === 'boolean'))
        return a.repeat(Math.max(0, toNum(b)));
      if (typeof b === 'string' && typeof a === 'number') return b.repeat(Math.max(0, a));
      if (Array.isArray(a) && typeof b === 'number') {
        const out: unknown[] = [];
        for (let i = 0; i < b; i++) out.push(...a);
        return a instanceof PyTuple ? toTuple(out) : out;
      }
      return numeric('*', a, b, (x, y) => x * y);
    case '/': {
      if (!isNumber(a) || !isNumber(b)) unsupported('/', a, b);
      if (toNum(b) === 0) throw new PyError('ZeroDivisionError', 'division by zero');
      return mkFloat(toNum(a) / toNum(b));
    }
    case '//':
      if (isNumber(b) && toNum(b) === 0)
        throw new PyError('ZeroDivisionError', 'integer division or modulo by zero');
      return numeric('//', a, b, (x, y) => Math.floor(x / y));
    case '%':
      if (typeof a === 'string') return printfFormat(a, b);
      if (isNumber(b) && toNum(b) === 0)
        throw new PyError('ZeroDivisionError', 'integer division or modulo by zero');
      return numeric('%', a, b, (x, y) => x - y * Math.floor(x / y));
    case '**':
      return numeric('**', a, b, (x, y) => x ** y);
    default:
      throw new PyError('TypeError', `unknown operator ${op}`);
  }
}

/** Python's `in`. */
export function containsOp(container: unknown, item: unknown): boolean {
  if (typeof container === 'string') {
    if (typeof item !== 'string') {
      throw new PyError(
        'TypeError',
        `'in <string>' requires string as left operand, not ${pyTypeName(item)}`,
      );
    }
    return container.includes(item);
  }
  if (Array.isArray(container)) return container.some((x) => pyEquals(x, item));
  if (container instanceof Set) return container.has(item) || [...container].some((x) => pyEquals(x, item));
  if (isMapping(container)) return dictGet(container, item).found;
  if (isUndefined(container))
    throw new PyError('UndefinedError', "argument of type 'Undefined' is not iterable");
  throw new PyError('TypeError', `argument of type '${pyTypeName(container)}' is not iterable`);
}

/** Python's comparison operators. */
export function compareOp(
  op: string,
  a: unknown,
  b: unknown,
  cmp: (a: unknown, b: unknown) => number,
): boolean {
  switch (op) {
    case '==':
      return pyEquals(a, b);
    case '!=':
      return !pyEquals(a, b);
    case '<':
      return cmp(a, b) < 0;
    case '>':
      return cmp(a, b) > 0;
    case '<=':
      return cmp(a, b) <= 0;
    case '>=':
      return cmp(a, b) >= 0;
    case 'in':
      return containsOp(b, a);
    case 'notin':
      return !containsOp(b, a);
    default:
      throw new PyError('TypeError', `unknown comparison ${op}`);
  }
}

/** `-x` / `+x`. */
export function unaryOp(op: '-' | '+', v: unknown): unknown {
  if (!isNumber(v)) throw new PyError('TypeError', `bad operand type for unary ${op}: '${pyTypeName(v)}'`);
  if (v instanceof PyDecimal) return op === '-' ? PyDecimal.of(-v.unscaled, v.scale) : v;
  const n = op === '-' ? -toNum(v) : toNum(v);
  return isFloat(v) ? mkFloat(n) : n;
}

/** Python's slice `seq[start:stop:step]` on lists, tuples and strings. */
export function sliceOp(seq: unknown, start: unknown, stop: unknown, step: unknown): unknown {
  const items: unknown[] =
    typeof seq === 'string' ? [...seq] : Array.isArray(seq) ? seq : pyIterForSlice(seq);
  const n = items.length;
  const st = step === undefined || step === null ? 1 : toNum(step);
  if (st === 0) throw new PyError('ValueError', 'slice step cannot be zero');
  const norm = (v: unknown, dflt: number, lo: number, hi: number) => {
    if (v === undefined || v === null) return dflt;
    let x = toNum(v);
    if (x < 0) x += n;
    return Math.min(Math.max(x, lo), hi);
  };
  const out: unknown[] = [];
  if (st > 0) {
    const b = norm(start, 0, 0, n);
    const e = norm(stop, n, 0, n);
    for (let i = b; i < e; i += st) out.push(items[i]);
  } else {
    const b = norm(start, n - 1, -1, n - 1);
    const e = norm(stop, -1, -1, n - 1);
    for (let i = b; i > e; i += st) out.push(items[i]);
  }
  if (typeof seq === 'string') return out.join('');
  return seq instanceof PyTuple ? toTuple(out) : out;
}

function pyIterForSlice(seq: unknown): unknown[] {
  if (isUndefined(seq)) return [];
  throw new PyError('TypeError', `'${pyTypeName(seq)}' object is not subscriptable`);
}

/** `a ~ b`: both as text. */
export function concatOp(items: unknown[]): string {
  let s = '';
  for (const i of items) s += pyStr(i);
  return s;
}
