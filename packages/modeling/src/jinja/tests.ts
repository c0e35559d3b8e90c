import { containsOp } from './ops.js';
import {
  isFloat,
  isInt,
  isMapping,
  isNumber,
  isUndefined,
  PyError,
  pyCompare,
  pyEquals,
  toNum,
} from './values.js';

/** A Jinja test: `value is name(args)`. */
export type TestFn = (
  value: unknown,
  args: unknown[],
  lookup: { hasFilter(n: string): boolean; hasTest(n: string): boolean },
) => boolean;

const isString = (v: unknown) => typeof v === 'string';
const isIterable = (v: unknown) =>
  typeof v === 'string' ||
  Array.isArray(v) ||
  v instanceof Map ||
  v instanceof Set ||
  isMapping(v) ||
  (v !== null && typeof v === 'object' && !isUndefined(v) && Symbol.iterator in (v as object));

/** Jinja2's built-in tests. */
export const BUILTIN_TESTS: Record<string, TestFn> = {
  defined: (v) => !isUndefined(v),
  undefined: (v) => isUndefined(v),
  none: (v) => v === null,
  boolean: (v) => typeof v === 'boolean',
  true: (v) => v === true,
  false: (v) => v === false,
  integer: (v) => isInt(v),
  float: (v) => isFloat(v),
  number: (v) => isNumber(v),
  string: isString,
  mapping: (v) => isMapping(v),
  iterable: isIterable,
  sequence: (v) => typeof v === 'string' || Array.isArray(v) || isMapping(v),
  callable: (v) => typeof v === 'function',
  sameas: (v, a) => v === a[0] || (v === null && a[0] === null),
  escaped: () => false,
  lower: (v) => typeof v === 'string' && v === v.toLowerCase(),
  upper: (v) => typeof v === 'string' && v === v.toUpperCase(),
  even: (v) => toNum(v) % 2 === 0,
  odd: (v) => Math.abs(toNum(v) % 2) === 1,
  divisibleby: (v, a) => toNum(v) % toNum(a[0]) === 0,
  eq: (v, a) => pyEquals(v, a[0]),
  ne: (v, a) => !pyEquals(v, a[0]),
  lt: (v, a) => pyCompare(v, a[0]) < 0,
  le: (v, a) => pyCompare(v, a[0]) <= 0,
  gt: (v, a) => pyCompare(v, a[0]) > 0,
  ge: (v, a) => pyCompare(v, a[0]) >= 0,
  in: (v, a) => containsOp(a[0], v),
  filter: (v, _a, lookup) => typeof v === 'string' && lookup.hasFilter(v),
  test: (v, _a, lookup) => typeof v === 'string' && lookup.hasTest(v),
};
BUILTIN_TESTS['=='] = BUILTIN_TESTS.eq as TestFn;
BUILTIN_TESTS.equalto = BUILTIN_TESTS.eq as TestFn;
BUILTIN_TESTS['!='] = BUILTIN_TESTS.ne as TestFn;
BUILTIN_TESTS['<'] = BUILTIN_TESTS.lt as TestFn;
BUILTIN_TESTS.lessthan = BUILTIN_TESTS.lt as TestFn;
BUILTIN_TESTS['<='] = BUILTIN_TESTS.le as TestFn;
BUILTIN_TESTS['>'] = BUILTIN_TESTS.gt as TestFn;
BUILTIN_TESTS.greaterthan = BUILTIN_TESTS.gt as TestFn;
BUILTIN_TESTS['>='] = BUILTIN_TESTS.ge as TestFn;

export function assertNumber(v: unknown, what: string): number {
  if (!isNumber(v)) throw new PyError('TypeError', `${what} expects a number`);
  return toNum(v);
}
