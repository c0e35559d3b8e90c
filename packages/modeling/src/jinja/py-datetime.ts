import { mkFloat, PyError, type PyFloat, pyFunction, toNum } from './values.js';

const DAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const pad = (n: number, w = 2) => String(Math.trunc(Math.abs(n))).padStart(w, '0');

/** A pytz / zoneinfo time zone: offsets come from the platform's IANA data. */
export class PyTimezone {
  constructor(
    readonly zone: string,
    /** A fixed offset in minutes east of UTC (Python's `datetime.timezone(timedelta(…))`). */
    readonly fixedMinutes?: number,
  ) {
    if (zone !== 'UTC' && fixedMinutes === undefined) new Intl.DateTimeFormat('en-US', { timeZone: zone });
  }
  /** Minutes east of UTC at the UTC instant `ms`. */
  offsetAt(ms: number): number {
    if (this.fixedMinutes !== undefined) return this.fixedMinutes;
    if (this.zone === 'UTC') return 0;
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: this.zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    }).formatToParts(new Date(ms));
    const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
    const wall = Date.UTC(
      get('year'),
      get('month') - 1,
      get('day'),
      get('hour'),
      get('minute'),
      get('second'),
    );
    return Math.round((wall - Math.floor(ms / 1000) * 1000) / 60000);
  }
  localize(dt: PyDateTime): PyDateTime {
    const guess = dt.wallMs - this.offsetAt(dt.wallMs) * 60000;
    return new PyDateTime(dt.wallMs, dt.micro, this, this.offsetAt(guess));
  }
  toString(): string {
    return this.zone;
  }
}

export const UTC = new PyTimezone('UTC');

/** `datetime.timezone(timedelta(minutes=…))`: named `UTC+05:30` as Python names it, UTC itself at 0. */
export function fixedOffset(minutes: number): PyTimezone {
  if (minutes === 0) return UTC;
  const sign = minutes < 0 ? '-' : '+';
  return new PyTimezone(
    `UTC${sign}${pad(Math.floor(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`,
    minutes,
  );
}

/** `datetime.timedelta`, in microseconds. */
export class PyTimedelta {
  constructor(readonly micros: number) {}
  get days(): number {
    return Math.floor(this.micros / 86_400_000_000);
  }
  get seconds(): number {
    return Math.floor((this.micros - this.days * 86_400_000_000) / 1_000_000);
  }
  get microseconds(): number {
    return this.micros % 1_000_000;
  }
  total_seconds(): number | PyFloat {
    return mkFloat(this.micros / 1_000_000);
  }
  valueOf(): number {
    return this.micros;
  }
  toString(): string {
    const d = this.days;
    const s = this.seconds;
    const clock = `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}${this.microseconds ? `.${pad(this.microseconds, 6)}` : ''}`;
    return d ? `${d} day${Math.abs(d) === 1 ? '' : 's'}, ${clock}` : clock;
  }
}

/** `datetime.date`. */
export class PyDate {
  constructor(readonly wallMs: number) {}
  protected get d(): Date {
    return new Date(this.wallMs);
  }
  get year(): number {
    return this.d.getUTCFullYear();
  }
  get month(): number {
    return this.d.getUTCMonth() + 1;
  }
  get day(): number {
    return this.d.getUTCDate();
  }
  weekday(): number {
    return (this.d.getUTCDay() + 6) % 7;
  }
  isoweekday(): number {
    return this.weekday() + 1;
  }
  isoformat(): string {
    return `${pad(this.year, 4)}-${pad(this.month)}-${pad(this.day)}`;
  }
  strftime(fmt: string): string {
    return strftime(this instanceof PyDateTime ? this : new PyDateTime(this.wallMs, 0), fmt);
  }
  replace(kwargs: Record<string, unknown> = {}): PyDate {
    return new PyDate(withFields(this.wallMs, kwargs));
  }
  valueOf(): number {
    return this.wallMs;
  }
  toString(): string {
    return this.isoformat();
  }
}

function withFields(ms: number, kw: Record<string, unknown>): number {
  const d = new Date(ms);
  const f = (k: string, cur: number) => (kw[k] === undefined ? cur : toNum(kw[k]));
  return Date.UTC(
    f('year', d.getUTCFullYear()),
    f('month', d.getUTCMonth() + 1) - 1,
    f('day', d.getUTCDate()),
    f('hour', d.getUTCHours()),
    f('minute', d.getUTCMinutes()),
    f('second', d.getUTCSeconds()),
    d.getUTCMilliseconds(),
  );
}

/** `datetime.datetime`: wall-clock fields (as a UTC epoch), microseconds, and an optional zone. */
export class PyDateTime extends PyDate {
  constructor(
    wallMs: number,
    readonly micro: number,
    readonly tzinfo: PyTimezone | null = null,
    /** Minutes east of UTC when aware. */
    readonly offset = 0,
  ) {
    super(wallMs);
  }
  get hour(): number {
    return this.d.getUTCHours();
  }
  get minute(): number {
    return this.d.getUTCMinutes();
  }
  get second(): number {
    return this.d.getUTCSeconds();
  }
  get microsecond(): number {
    return this.micro;
  }
  /** The UTC instant in ms. */
  get instant(): number {
    return this.wallMs - this.offset * 60000;
  }
  date(): PyDate {
    return new PyDate(Date.UTC(this.year, this.month - 1, this.day));
  }
  override isoformat(sep: unknown = 'T'): string {
    const time = `${pad(this.hour)}:${pad(this.minute)}:${pad(this.second)}${this.micro ? `.${pad(this.micro, 6)}` : ''}`;
    return `${super.isoformat()}${String(sep)}${time}${this.tzinfo ? offsetText(this.offset, ':') : ''}`;
  }
  timestamp(): number {
    return (this.tzinfo ? this.instant : this.wallMs) / 1000;
  }
  astimezone(tz: PyTimezone): PyDateTime {
    const offset = tz.offsetAt(this.instant);
    return new PyDateTime(this.instant + offset * 60000, this.micro, tz, offset);
  }
  override replace(kwargs: Record<string, unknown> = {}): PyDateTime {
    const micro = kwargs.microsecond === undefined ? this.micro : toNum(kwargs.microsecond);
    const tz = 'tzinfo' in kwargs ? (kwargs.tzinfo as PyTimezone | null) : this.tzinfo;
    return new PyDateTime(withFields(this.wallMs, kwargs), micro, tz, tz ? tz.offsetAt(this.wallMs) : 0);
  }
  override valueOf(): number {
    return (this.tzinfo ? this.instant : this.wallMs) * 1000 + this.micro;
  }
  override toString(): string {
    return this.isoformat(' ');
  }
}

function offsetText(minutes: number, sep: string): string {
  const sign = minutes < 0 ? '-' : '+';
  return `${sign}${pad(Math.floor(Math.abs(minutes) / 60))}${sep}${pad(Math.abs(minutes) % 60)}`;
}

/** Python's `strftime` directives. */
export function strftime(dt: PyDateTime, fmt: string): string {
  return fmt.replace(/%([a-zA-Z%])/g, (whole, c: string) => {
    switch (c) {
      case 'Y':
        return pad(dt.year, 4);
      case 'y':
        return pad(dt.year % 100);
      case 'm':
        return pad(dt.month);
      case 'd':
        return pad(dt.day);
      case 'H':
        return pad(dt.hour);
      case 'I':
        return pad(dt.hour % 12 || 12);
      case 'p':
        return dt.hour < 12 ? 'AM' : 'PM';
      case 'M':
        return pad(dt.minute);
      case 'S':
        return pad(dt.second);
      case 'f':
        return pad(dt.micro, 6);
      case 'j':
        return pad((dt.wallMs - Date.UTC(dt.year, 0, 1)) / 86_400_000 + 1, 3);
      case 'a':
        return (DAY_NAMES[dt.weekday()] as string).slice(0, 3);
      case 'A':
        return DAY_NAMES[dt.weekday()] as string;
      case 'b':
        return (MONTH_NAMES[dt.month - 1] as string).slice(0, 3);
      case 'B':
        return MONTH_NAMES[dt.month - 1] as string;
      case 'w':
        return String((dt.weekday() + 1) % 7);
      case 'z':
        return dt.tzinfo ? offsetText(dt.offset, '') : '';
      case 'Z':
        return dt.tzinfo ? dt.tzinfo.zone : '';
      case '%':
        return '%';
      default:
        return whole;
    }
  });
}

const PARSE_DIRECTIVES: Record<string, [string, string]> = {
  Y: ['(\\d{4})', 'year'],
  y: ['(\\d{2})', 'year2'],
  m: ['(\\d{1,2})', 'month'],
  d: ['(\\d{1,2})', 'day'],
  H: ['(\\d{1,2})', 'hour'],
  I: ['(\\d{1,2})', 'hour12'],
  p: ['(AM|PM|am|pm)', 'ampm'],
  M: ['(\\d{1,2})', 'minute'],
  S: ['(\\d{1,2})', 'second'],
  f: ['(\\d{1,6})', 'micro'],
  j: ['(\\d{1,3})', 'yday'],
  b: ['([A-Za-z]{3})', 'mon'],
  B: ['([A-Za-z]+)', 'mon'],
  a: ['[A-Za-z]{3}', ''],
  A: ['[A-Za-z]+', ''],
  z: ['([+-]\\d{2}:?\\d{2}|Z)', 'tz'],
};

/** Python's `datetime.strptime`. */
export function strptime(text: string, fmt: string): PyDateTime {
  const names: string[] = [];
  let pattern = '';
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i] as string;
    if (ch === '%' && i + 1 < fmt.length) {
      const c = fmt[++i] as string;
      if (c === '%') pattern += '%';
      else {
        const d = PARSE_DIRECTIVES[c];
        if (!d) throw new PyError('ValueError', `'${c}' is a bad directive in format '${fmt}'`);
        pattern += d[0];
        if (d[1]) names.push(d[1]);
      }
    } else pattern += /\s/.test(ch) ? '\\s+' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const m = new RegExp(`^${pattern}$`).exec(text);
  if (!m) throw new PyError('ValueError', `time data '${text}' does not match format '${fmt}'`);
  const v: Record<string, string> = {};
  names.forEach((n, i) => {
    v[n] = m[i + 1] as string;
  });
  const year = v.year
    ? Number(v.year)
    : v.year2
      ? 2000 + Number(v.year2) - (Number(v.year2) >= 69 ? 100 : 0)
      : 1900;
  let hour = v.hour ? Number(v.hour) : v.hour12 ? Number(v.hour12) % 12 : 0;
  if (v.ampm && /pm/i.test(v.ampm)) hour += 12;
  const month = v.mon
    ? MONTH_NAMES.findIndex((n) => n.toLowerCase().startsWith((v.mon as string).toLowerCase().slice(0, 3))) +
      1
    : Number(v.month ?? 1);
  let wall = Date.UTC(
    year,
    month - 1,
    Number(v.day ?? 1),
    hour,
    Number(v.minute ?? 0),
    Number(v.second ?? 0),
  );
  if (v.yday) wall = Date.UTC(year, 0, 1) + (Number(v.yday) - 1) * 86_400_000;
  const micro = v.micro ? Number(v.micro.padEnd(6, '0')) : 0;
  if (v.tz) {
    const off =
      v.tz === 'Z'
        ? 0
        : (v.tz[0] === '-' ? -1 : 1) * (Number(v.tz.slice(1, 3)) * 60 + Number(v.tz.slice(-2)));
    return new PyDateTime(wall, micro, off === 0 ? UTC : new PyTimezone('UTC'), off);
  }
  return new PyDateTime(wall, micro);
}

/** `datetime.fromisoformat`. */
export function fromIsoFormat(text: string): PyDateTime {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):?(\d{2})?:?(\d{2})?(?:\.(\d{1,6}))?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(
      text,
    );
  if (!m) throw new PyError('ValueError', `Invalid isoformat string: '${text}'`);
  const [, y, mo, d, h, mi, s, f, tz] = m;
  const wall = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h ?? 0),
    Number(mi ?? 0),
    Number(s ?? 0),
  );
  const micro = f ? Number(f.padEnd(6, '0')) : 0;
  if (!tz) return new PyDateTime(wall, micro);
  const off =
    tz === 'Z' ? 0 : (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(-2)));
  return new PyDateTime(wall, micro, UTC, off);
}

/** `now` as a naive wall-clock datetime in `tz` (UTC when absent), or aware when `tz` is given. */
export function nowIn(tz: PyTimezone | null, clock: () => number): PyDateTime {
  const ms = clock();
  const micro = (ms % 1000) * 1000;
  const base = Math.floor(ms / 1000) * 1000;
  if (!tz) {
    const local = -new Date(ms).getTimezoneOffset();
    return new PyDateTime(base + local * 60000, micro);
  }
  const offset = tz.offsetAt(ms);
  return new PyDateTime(base + offset * 60000, micro, tz, offset);
}

/** `dt + td`, `dt - td`, `dt - dt`, `td + td` as Python computes them. */
export function dateArithmetic(op: string, a: unknown, b: unknown): unknown {
  const shift = (x: PyDate, micros: number) => {
    if (x instanceof PyDateTime) {
      const total = x.wallMs * 1000 + x.micro + micros;
      const wall = Math.floor(total / 1_000_000) * 1000;
      const sub = total - wall * 1000;
      return new PyDateTime(wall, sub, x.tzinfo, x.offset);
    }
    return new PyDate(x.wallMs + Math.trunc(micros / 86_400_000_000) * 86_400_000);
  };
  if (a instanceof PyDate && b instanceof PyTimedelta) return shift(a, op === '+' ? b.micros : -b.micros);
  if (op === '+' && a instanceof PyTimedelta && b instanceof PyDate) return shift(b, a.micros);
  const micros = (x: PyDate) => (x instanceof PyDateTime ? x.valueOf() : x.wallMs * 1000);
  if (op === '-' && a instanceof PyDate && b instanceof PyDate) return new PyTimedelta(micros(a) - micros(b));
  if (a instanceof PyTimedelta && b instanceof PyTimedelta)
    return new PyTimedelta(op === '+' ? a.micros + b.micros : a.micros - b.micros);
  if (op === '*' && a instanceof PyTimedelta && typeof b === 'number') return new PyTimedelta(a.micros * b);
  return undefined;
}

function timedelta(args: unknown[], kw: Record<string, unknown>): PyTimedelta {
  const units: [string, number][] = [
    ['days', 86_400_000_000],
    ['seconds', 1_000_000],
    ['microseconds', 1],
    ['milliseconds', 1000],
    ['minutes', 60_000_000],
    ['hours', 3_600_000_000],
    ['weeks', 604_800_000_000],
  ];
  let micros = 0;
  units.forEach(([name, size], i) => {
    const v = i < args.length ? args[i] : kw[name];
    if (v !== undefined) micros += toNum(v) * size;
  });
  return new PyTimedelta(Math.round(micros));
}

function makeDateTime(args: unknown[], kw: Record<string, unknown>): PyDateTime {
  const names = ['year', 'month', 'day', 'hour', 'minute', 'second', 'microsecond'];
  const v = names.map((n, i) =>
    i < args.length ? toNum(args[i]) : kw[n] !== undefined ? toNum(kw[n]) : i < 3 ? Number.NaN : 0,
  );
  if (v.slice(0, 3).some(Number.isNaN)) throw new PyError('TypeError', 'function missing required argument');
  const [y, mo, d, h, mi, s, us] = v as number[];
  const tz = (args[7] ?? kw.tzinfo ?? null) as PyTimezone | null;
  const wall = Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
  return new PyDateTime(wall, us as number, tz, tz ? tz.offsetAt(wall) : 0);
}

/** The `datetime` module as dbt's `modules.datetime` exposes it. */
export function datetimeModule(clock: () => number = Date.now): Record<string, unknown> {
  const datetime = pyFunction('datetime', makeDateTime);
  Object.assign(datetime, {
    now: pyFunction('now', (a, kw) => nowIn((a[0] ?? kw.tz ?? null) as PyTimezone | null, clock)),
    utcnow: pyFunction('utcnow', () => {
      const ms = clock();
      return new PyDateTime(Math.floor(ms / 1000) * 1000, (ms % 1000) * 1000);
    }),
    today: pyFunction('today', () => nowIn(null, clock)),
    strptime: pyFunction('strptime', (a) => strptime(String(a[0]), String(a[1]))),
    fromisoformat: pyFunction('fromisoformat', (a) => fromIsoFormat(String(a[0]))),
    fromtimestamp: pyFunction('fromtimestamp', (a, kw) => {
      const ms = toNum(a[0]) * 1000;
      const tz = (a[1] ?? kw.tz ?? null) as PyTimezone | null;
      return tz ? new PyDateTime(ms, 0, UTC, 0).astimezone(tz) : nowIn(null, () => ms);
    }),
    combine: pyFunction('combine', (a) => new PyDateTime((a[0] as PyDate).wallMs, 0)),
  });
  const date = pyFunction('date', (a, kw) => {
    const [y, m, d] = [a[0] ?? kw.year, a[1] ?? kw.month, a[2] ?? kw.day].map(toNum) as [
      number,
      number,
      number,
    ];
    return new PyDate(Date.UTC(y, m - 1, d));
  });
  Object.assign(date, {
    today: pyFunction('today', () => nowIn(null, clock).date()),
    fromisoformat: pyFunction('fromisoformat', (a) => fromIsoFormat(String(a[0])).date()),
  });
  return {
    datetime,
    date,
    timedelta: pyFunction('timedelta', timedelta),
    timezone: { utc: UTC },
    MINYEAR: 1,
    MAXYEAR: 9999,
  };
}

/** `modules.pytz`: `timezone(name)`, `utc`, `UTC`. */
export function pytzModule(): Record<string, unknown> {
  return {
    timezone: pyFunction('timezone', (a) => {
      try {
        return new PyTimezone(String(a[0]));
      } catch {
        throw new PyError('UnknownTimeZoneError', `'${String(a[0])}'`);
      }
    }),
    utc: UTC,
    UTC,
  };
}
