import { isUndefined, pyFunction, pyIter, toNum, toTuple } from './values.js';

function product(pools: unknown[][]): unknown[][] {
  let out: unknown[][] = [[]];
  for (const pool of pools) out = out.flatMap((prefix) => pool.map((x) => [...prefix, x]));
  return out;
}

function combinations(items: unknown[], r: number, withReplacement: boolean): unknown[][] {
  const out: unknown[][] = [];
  const walk = (start: number, acc: unknown[]) => {
    if (acc.length === r) {
      out.push(acc);
      return;
    }
    for (let i = start; i < items.length; i++) walk(withReplacement ? i : i + 1, [...acc, items[i]]);
  };
  walk(0, []);
  return out;
}

function permutations(items: unknown[], r: number): unknown[][] {
  const out: unknown[][] = [];
  const walk = (used: Set<number>, acc: unknown[]) => {
    if (acc.length === r) {
      out.push(acc);
      return;
    }
    items.forEach((x, i) => {
      if (used.has(i)) return;
      walk(new Set([...used, i]), [...acc, x]);
    });
  };
  walk(new Set(), []);
  return out;
}

/** The parts of `itertools` dbt packages call, as dbt's `modules.itertools` (results are lists). */
export function itertoolsModule(): Record<string, unknown> {
  const chain = pyFunction('chain', (a) => a.flatMap((x) => pyIter(x)));
  Object.assign(chain, {
    from_iterable: pyFunction('from_iterable', (a) => pyIter(a[0]).flatMap((x) => pyIter(x))),
  });
  return {
    chain,
    product: pyFunction('product', (a, kw) => {
      const pools = a.map((x) => pyIter(x));
      const repeat = toNum(kw.repeat ?? 1);
      const all: unknown[][] = [];
      for (let i = 0; i < repeat; i++) all.push(...pools);
      return product(all).map((t) => toTuple(t));
    }),
    combinations: pyFunction('combinations', (a, kw) =>
      combinations(pyIter(a[0]), toNum(a[1] ?? kw.r), false).map((t) => toTuple(t)),
    ),
    combinations_with_replacement: pyFunction('combinations_with_replacement', (a, kw) =>
      combinations(pyIter(a[0]), toNum(a[1] ?? kw.r), true).map((t) => toTuple(t)),
    ),
    permutations: pyFunction('permutations', (a, kw) => {
      const items = pyIter(a[0]);
      const r = a[1] ?? kw.r;
      return permutations(items, r === undefined || r === null ? items.length : toNum(r)).map((t) =>
        toTuple(t),
      );
    }),
    groupby: pyFunction('groupby', (a, kw) => {
      const key = (a[1] ?? kw.key) as ((args: unknown[], k: object) => unknown) | undefined;
      const out: [unknown, unknown[]][] = [];
      for (const x of pyIter(a[0])) {
        const k = key ? key([x], {}) : x;
        const last = out[out.length - 1];
        if (last && last[0] === k) last[1].push(x);
        else out.push([k, [x]]);
      }
      return out.map(([k, xs]) => toTuple([k, xs]));
    }),
    islice: pyFunction('islice', (a) => {
      const items = pyIter(a[0]);
      if (a.length === 2) return items.slice(0, a[1] === null ? undefined : toNum(a[1]));
      const step = a[3] === undefined || a[3] === null ? 1 : toNum(a[3]);
      const stop = a[2] === null || a[2] === undefined ? items.length : toNum(a[2]);
      return items.slice(toNum(a[1] ?? 0), stop).filter((_, i) => i % step === 0);
    }),
    zip_longest: pyFunction('zip_longest', (a, kw) => {
      const lists = a.map((x) => pyIter(x));
      const n = Math.max(0, ...lists.map((l) => l.length));
      const fill = kw.fillvalue ?? null;
      return Array.from({ length: n }, (_, i) => toTuple(lists.map((l) => (i < l.length ? l[i] : fill))));
    }),
    accumulate: pyFunction('accumulate', (a) => {
      let total: unknown;
      return pyIter(a[0]).map((x) => {
        total = isUndefined(total) ? x : toNum(total) + toNum(x);
        return total;
      });
    }),
    repeat: pyFunction('repeat', (a) => Array.from({ length: toNum(a[1] ?? 1) }, () => a[0])),
    count: pyFunction('count', (a) =>
      Array.from({ length: 1000 }, (_, i) => toNum(a[0] ?? 0) + i * toNum(a[1] ?? 1)),
    ),
  };
}
