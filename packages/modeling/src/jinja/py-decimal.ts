import { floatRepr, PyFloat } from './values.js';

const DECIMAL_TEXT = /^([+-]?)(\d+)(?:\.(\d*))?$/;

/**
 * Python's `decimal.Decimal` as dbt's agate tables hold numbers: exact digits and scale, printed as
 * written (`Decimal('2.50')` prints `2.50`). It is a {@link PyFloat} to the rest of the runtime (so
 * comparisons, filters and `int()` read its value); `+`, `-` and `*` with ints or other decimals stay
 * exact, as in Python (see {@link decimalArithmetic}).
 *
 * @example
 * PyDecimal.parse('2.50')?.toString(); // '2.50'
 */
export class PyDecimal extends PyFloat {
  private constructor(
    /** The digits without the point: `2.50` is 250n with scale 2. */
    readonly unscaled: bigint,
    readonly scale: number,
  ) {
    super(Number(unscaled) / 10 ** scale);
  }

  /** The decimal of a plain decimal text (`-12.340`), or undefined for any other text. */
  static parse(text: string): PyDecimal | undefined {
    const m = DECIMAL_TEXT.exec(text);
    if (!m) return undefined;
    const [, sign, whole, frac = ''] = m;
    const unscaled = BigInt(`${whole}${frac}`);
    return new PyDecimal(sign === '-' ? -unscaled : unscaled, frac.length);
  }

  /** `Decimal(repr(n))`, as agate casts a float; undefined when that needs an exponent or is not finite. */
  static fromFloat(n: number): PyDecimal | undefined {
    return PyDecimal.parse(floatRepr(n));
  }

  static of(unscaled: bigint, scale: number): PyDecimal {
    return new PyDecimal(unscaled, scale);
  }

  /** The unscaled digits at a larger `scale`. */
  at(scale: number): bigint {
    return this.unscaled * 10n ** BigInt(scale - this.scale);
  }

  override toString(): string {
    const negative = this.unscaled < 0n;
    const digits = (negative ? -this.unscaled : this.unscaled).toString().padStart(this.scale + 1, '0');
    const point = digits.length - this.scale;
    const text = this.scale ? `${digits.slice(0, point)}.${digits.slice(point)}` : digits;
    return negative ? `-${text}` : text;
  }
}

function asDecimal(v: unknown): PyDecimal | undefined {
  if (v instanceof PyDecimal) return v;
  if (typeof v === 'boolean') return PyDecimal.of(v ? 1n : 0n, 0);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return PyDecimal.of(BigInt(v), 0);
  return undefined;
}

/**
 * `+`, `-`, `*` of a decimal and an int or decimal, exact as Python's Decimal computes them
 * (`Decimal('2.50') + 1` is `3.50`); undefined for anything else (the caller's float arithmetic).
 */
export function decimalArithmetic(op: string, a: unknown, b: unknown): PyDecimal | undefined {
  const x = asDecimal(a);
  const y = asDecimal(b);
  if (!x || !y || !(a instanceof PyDecimal || b instanceof PyDecimal)) return undefined;
  if (op === '*') return PyDecimal.of(x.unscaled * y.unscaled, x.scale + y.scale);
  if (op !== '+' && op !== '-') return undefined;
  const scale = Math.max(x.scale, y.scale);
  return PyDecimal.of(op === '+' ? x.at(scale) + y.at(scale) : x.at(scale) - y.at(scale), scale);
}
