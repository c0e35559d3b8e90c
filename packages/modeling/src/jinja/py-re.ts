import { type PyTuple, pyFunction, toNum, toTuple, tuple } from './values.js';

const FLAGS = {
  I: 2,
  IGNORECASE: 2,
  M: 8,
  MULTILINE: 8,
  S: 16,
  DOTALL: 16,
  X: 64,
  VERBOSE: 64,
  A: 256,
  ASCII: 256,
  U: 32,
  UNICODE: 32,
};

/** Python regex syntax mapped to JavaScript's where the two differ. */
export function translatePattern(pattern: string, flags: number): { source: string; flags: string } {
  let src = pattern;
  let f = flags;
  // Global inline flags open the pattern, one group or several (`(?i)(?s)…`).
  for (let inline = /^\(\?([aiLmsux]+)\)/.exec(src); inline; inline = /^\(\?([aiLmsux]+)\)/.exec(src)) {
    for (const c of inline[1] as string) f |= { i: 2, m: 8, s: 16, x: 64, a: 256, u: 32, L: 0 }[c] ?? 0;
    src = src.slice(inline[0].length);
  }
  if (f & 64)
    src = src
      .replace(/\\#/g, '\0hash')
      .replace(/#.*$/gm, '')
      .replace(/\s+/g, '')
      .replace(/\0hash/g, '#');
  src = src
    .replace(/\(\?P<([A-Za-z_]\w*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_]\w*)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$');
  const jsFlags = `${f & 2 ? 'i' : ''}${f & 8 ? 'm' : ''}${f & 16 ? 's' : ''}u`;
  try {
    new RegExp(src, jsFlags);
    return { source: src, flags: jsFlags };
  } catch {
    new RegExp(src, jsFlags.replace('u', ''));
    return { source: src, flags: jsFlags.replace('u', '') };
  }
}

/** Python's `re.Match`. */
export class PyMatch {
  constructor(
    private readonly m: RegExpExecArray,
    readonly string: string,
  ) {}
  group(...which: unknown[]): unknown {
    const one = (w: unknown) => {
      const v = typeof w === 'string' ? this.m.groups?.[w] : this.m[w === undefined ? 0 : toNum(w)];
      return v === undefined ? null : v;
    };
    if (which.length <= 1) return one(which[0]);
    return toTuple(which.map(one));
  }
  groups(dflt: unknown = null): PyTuple {
    return toTuple(this.m.slice(1).map((g) => (g === undefined ? dflt : g)));
  }
  groupdict(dflt: unknown = null): Map<string, unknown> {
    return new Map(Object.entries(this.m.groups ?? {}).map(([k, v]) => [k, v === undefined ? dflt : v]));
  }
  start(): number {
    return this.m.index;
  }
  end(): number {
    return this.m.index + (this.m[0] as string).length;
  }
  span(): PyTuple {
    return tuple(this.start(), this.end());
  }
  toString(): string {
    return `<re.Match object; span=(${this.start()}, ${this.end()}), match='${this.m[0]}'>`;
  }
}

function expandReplacement(repl: string): string {
  return repl
    .replace(/\$/g, '$$$$')
    .replace(/\\g<(\d+)>/g, '$$$1')
    .replace(/\\g<([A-Za-z_]\w*)>/g, '$$<$1>')
    .replace(/\\(\d{1,2})/g, '$$$1')
    .replace(/\\n/g, '\n')
    .replace(/\\t/g, '\t')
    .replace(/\\\\/g, '\\');
}

/** Python's `re.Pattern`. */
export class PyPattern {
  private readonly source: string;
  private readonly jsFlags: string;
  constructor(
    readonly pattern: string,
    readonly flags = 0,
  ) {
    const t = translatePattern(pattern, flags);
    this.source = t.source;
    this.jsFlags = t.flags;
  }
  private re(extra = ''): RegExp {
    return new RegExp(this.source, this.jsFlags + extra);
  }
  match(s: unknown): PyMatch | null {
    const re = this.re('y');
    const m = re.exec(String(s));
    return m ? new PyMatch(m, String(s)) : null;
  }
  fullmatch(s: unknown): PyMatch | null {
    const m = new RegExp(`^(?:${this.source})$`, this.jsFlags).exec(String(s));
    return m ? new PyMatch(m, String(s)) : null;
  }
  search(s: unknown): PyMatch | null {
    const m = this.re().exec(String(s));
    return m ? new PyMatch(m, String(s)) : null;
  }
  findall(s: unknown): unknown[] {
    return [...String(s).matchAll(this.re('g'))].map((m) => {
      if (m.length === 1) return m[0];
      if (m.length === 2) return m[1] ?? '';
      return toTuple(m.slice(1).map((g) => g ?? ''));
    });
  }
  finditer(s: unknown): PyMatch[] {
    return [...String(s).matchAll(this.re('g'))].map((m) => new PyMatch(m as RegExpExecArray, String(s)));
  }
  sub(repl: unknown, s: unknown, count: unknown = 0): string {
    const text = String(s);
    let n = 0;
    const max = toNum(count);
    return text.replace(this.re('g'), (...args: unknown[]) => {
      const whole = args[0] as string;
      if (max > 0 && n >= max) return whole;
      n++;
      const groupsAt = typeof args[args.length - 1] === 'object' ? args.length - 3 : args.length - 2;
      const m = Object.assign(args.slice(0, groupsAt) as string[], {
        index: args[groupsAt] as number,
        input: text,
        groups: (typeof args[args.length - 1] === 'object' ? args[args.length - 1] : undefined) as Record<
          string,
          string
        >,
      }) as unknown as RegExpExecArray;
      if (typeof repl === 'function')
        return String((repl as (a: unknown[], k: object) => unknown)([new PyMatch(m, text)], {}));
      return whole.replace(new RegExp(this.source, this.jsFlags), expandReplacement(String(repl)));
    });
  }
  split(s: unknown, maxsplit: unknown = 0): unknown[] {
    const text = String(s);
    const out: unknown[] = [];
    let last = 0;
    let n = 0;
    for (const m of text.matchAll(this.re('g'))) {
      if (toNum(maxsplit) > 0 && n >= toNum(maxsplit)) break;
      out.push(text.slice(last, m.index), ...m.slice(1).map((g) => g ?? null));
      last = (m.index ?? 0) + m[0].length;
      n++;
    }
    out.push(text.slice(last));
    return out;
  }
  toString(): string {
    return `re.compile('${this.pattern}')`;
  }
}

const flagsOf = (a: unknown, kw: Record<string, unknown>) => toNum(a ?? kw.flags ?? 0);

/** The `re` module as dbt's `modules.re` exposes it. */
export function reModule(): Record<string, unknown> {
  const p = (pat: unknown, flags: number) =>
    pat instanceof PyPattern ? pat : new PyPattern(String(pat), flags);
  return {
    ...FLAGS,
    compile: pyFunction('compile', (a, kw) => p(a[0], flagsOf(a[1], kw))),
    match: pyFunction('match', (a, kw) => p(a[0], flagsOf(a[2], kw)).match(a[1])),
    fullmatch: pyFunction('fullmatch', (a, kw) => p(a[0], flagsOf(a[2], kw)).fullmatch(a[1])),
    search: pyFunction('search', (a, kw) => p(a[0], flagsOf(a[2], kw)).search(a[1])),
    findall: pyFunction('findall', (a, kw) => p(a[0], flagsOf(a[2], kw)).findall(a[1])),
    finditer: pyFunction('finditer', (a, kw) => p(a[0], flagsOf(a[2], kw)).finditer(a[1])),
    sub: pyFunction('sub', (a, kw) => p(a[0], flagsOf(a[4], kw)).sub(a[1], a[2], a[3] ?? kw.count ?? 0)),
    split: pyFunction('split', (a, kw) => p(a[0], flagsOf(a[3], kw)).split(a[1], a[2] ?? kw.maxsplit ?? 0)),
    escape: pyFunction('escape', (a) =>
      String(a[0]).replace(/[()[\]{}?*+\-|^$\\.&~# \t\n\r\v\f]/g, (c) => `\\${c}`),
    ),
  };
}
