import { dictGet, floatRepr, isMapping, isNumber, PyError, PyTuple, pyRepr, pyStr, toNum } from './values.js';

function formatNumber(
  n: number,
  spec: { precision?: number; type: string; comma?: boolean; sign?: string },
): string {
  let body: string;
  switch (spec.type) {
    case 'f':
    case 'F':
      body = Math.abs(n).toFixed(spec.precision ?? 6);
      break;
    case 'e':
    case 'E': {
      const [m, e] = Math.abs(n)
        .toExponential(spec.precision ?? 6)
        .split('e') as [string, string];
      body = `${m}e${e[0] === '-' ? '-' : '+'}${e.replace(/^[+-]/, '').padStart(2, '0')}`;
      if (spec.type === 'E') body = body.toUpperCase();
      break;
    }
    case 'g':
    case 'G':
      body = String(Number(Math.abs(n).toPrecision(spec.precision || 6)));
      break;
    case 'x':
      body = Math.trunc(Math.abs(n)).toString(16);
      break;
    case 'X':
      body = Math.trunc(Math.abs(n)).toString(16).toUpperCase();
      break;
    case 'o':
      body = Math.trunc(Math.abs(n)).toString(8);
      break;
    case 'b':
      body = Math.trunc(Math.abs(n)).toString(2);
      break;
    case '%':
      body = `${(Math.abs(n) * 100).toFixed(spec.precision ?? 6)}%`;
      break;
    default:
      body = String(Math.trunc(Math.abs(n)));
  }
  if (spec.comma) {
    const [int, frac] = body.split('.') as [string, string | undefined];
    body = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (frac !== undefined ? `.${frac}` : '');
  }
  const sign = n < 0 || Object.is(n, -0) ? '-' : spec.sign === '+' ? '+' : spec.sign === ' ' ? ' ' : '';
  return sign + body;
}

/** Python's `'%s-%d' % args` (printf-style formatting). */
export function printfFormat(template: string, args: unknown): string {
  const list = args instanceof PyTuple ? [...args] : [args];
  let next = 0;
  const take = () => {
    if (next >= list.length) throw new PyError('TypeError', 'not enough arguments for format string');
    return list[next++];
  };
  const out = template.replace(
    /%(\(([^)]*)\))?([-+ 0#]*)(\d+|\*)?(?:\.(\d+))?([sdirfFeEgGxXoc%])/g,
    (
      _m,
      _k,
      key: string | undefined,
      flags: string,
      width: string | undefined,
      prec: string | undefined,
      type: string,
    ) => {
      if (type === '%') return '%';
      const value = key !== undefined && isMapping(args) ? dictGet(args, key).value : take();
      let text: string;
      if (type === 's') text = pyStr(value);
      else if (type === 'r') text = pyRepr(value);
      else if (type === 'c') text = typeof value === 'number' ? String.fromCodePoint(value) : pyStr(value);
      else {
        if (!isNumber(value))
          throw new PyError('TypeError', `%${type} format: a real number is required, not ${typeof value}`);
        const t = type === 'i' || type === 'd' ? 'd' : type;
        text = formatNumber(toNum(value), {
          ...(prec !== undefined ? { precision: Number(prec) } : {}),
          type: t,
          ...(flags.includes('+') ? { sign: '+' } : flags.includes(' ') ? { sign: ' ' } : {}),
        });
      }
      const w = width === undefined || width === '*' ? 0 : Number(width);
      if (text.length < w) {
        if (flags.includes('-')) text = text.padEnd(w);
        else if (flags.includes('0') && type !== 's' && type !== 'r') {
          const neg = /^[-+ ]/.test(text) ? (text[0] as string) : '';
          text = neg + text.slice(neg.length).padStart(w - neg.length, '0');
        } else text = text.padStart(w);
      }
      return text;
    },
  );
  if (!(args instanceof PyTuple) && next === 0 && !isMapping(args)) {
    throw new PyError('TypeError', 'not all arguments converted during string formatting');
  }
  return out;
}

/** One replacement field of `str.format`: `[[fill]align][sign][0][width][,][.precision][type]`. */
function applySpec(value: unknown, spec: string): string {
  const m = /^(?:(.)?([<>=^]))?([-+ ])?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([a-zA-Z%])?$/.exec(spec);
  if (!m) throw new PyError('ValueError', `Invalid format specifier '${spec}'`);
  const [, fillRaw, alignRaw, sign, , zero, width, comma, prec, type] = m;
  let text: string;
  if (isNumber(value) && (type || comma || sign || prec !== undefined)) {
    const t = type ?? (prec !== undefined ? 'g' : 'd');
    text = formatNumber(toNum(value), {
      ...(prec !== undefined ? { precision: Number(prec) } : {}),
      type: t === 'n' ? 'd' : t,
      comma: comma === ',',
      ...(sign ? { sign } : {}),
    });
    if (t === 'g' && prec === undefined && !type) text = floatRepr(toNum(value));
  } else {
    text = pyStr(value);
    if (prec !== undefined && typeof value === 'string') text = text.slice(0, Number(prec));
  }
  const w = width ? Number(width) : 0;
  const fill = fillRaw ?? (zero && !alignRaw ? '0' : ' ');
  const align = alignRaw ?? (zero ? '=' : isNumber(value) ? '>' : '<');
  if (text.length >= w) return text;
  const pad = w - text.length;
  if (align === '<') return text + fill.repeat(pad);
  if (align === '>') return fill.repeat(pad) + text;
  if (align === '^') return fill.repeat(Math.floor(pad / 2)) + text + fill.repeat(Math.ceil(pad / 2));
  const neg = /^[-+ ]/.test(text) ? (text[0] as string) : '';
  return neg + fill.repeat(pad) + text.slice(neg.length);
}

/** Python's `str.format(*args, **kwargs)`. */
export function strFormat(template: string, args: unknown[], kwargs: Record<string, unknown>): string {
  let auto = 0;
  return template.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (whole, field: string | undefined) => {
    if (whole === '{{') return '{';
    if (whole === '}}') return '}';
    const f = field ?? '';
    const colon = f.indexOf(':');
    const ref = colon >= 0 ? f.slice(0, colon) : f;
    const spec = colon >= 0 ? f.slice(colon + 1) : '';
    const [head, ...path] = ref.replace(/!([rsa])$/, '').split('.');
    let value: unknown;
    if (head === '' || head === undefined) value = args[auto++];
    else if (/^\d+$/.test(head)) value = args[Number(head)];
    else value = kwargs[head];
    if (value === undefined && !(head && head in kwargs)) {
      throw new PyError(
        head && !/^\d+$/.test(head) ? 'KeyError' : 'IndexError',
        `Replacement index ${head} out of range`,
      );
    }
    for (const p of path) value = (value as Record<string, unknown>)[p];
    if (/!r$/.test(ref)) return applySpec(pyRepr(value), spec);
    return applySpec(value, spec);
  });
}
