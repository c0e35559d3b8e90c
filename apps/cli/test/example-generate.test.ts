import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateShopData, parseGenerateArgs } from '../../../examples/shop/scripts/generate.js';
import {
  CSV_HEADERS,
  csvField,
  customersUntil,
  dayList,
  ordersOfDay,
  parseDay,
  rateOf,
  type ShopDataOptions,
} from '../../../examples/shop/scripts/shop-data.js';

// These tests load tsx, spawn python or compile projects: on a loaded machine that takes
// longer than vitest's 5 s default, and no test may depend on an idle machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const committed = join(root, 'examples/shop/data');
/** The options the committed demo dataset was generated with (see examples/shop/README.md). */
const DEMO: ShopDataOptions = { rows: 300, date: '2026-05-01', days: 3, seed: 42 };

async function* csvRows(path: string): AsyncGenerator<string[]> {
  // The generated values never contain quotes/commas except O'Brien (no quoting needed).
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    yield line.split(',');
  }
}

describe('shop data model (pure)', () => {
  it('splits rows over days without losing or duplicating order ids', () => {
    const options = { rows: 1_000_003, date: '2026-05-01', days: 7, seed: 1 };
    let next = 1;
    for (let day = 0; day < 7; day++) {
      const { first, count } = ordersOfDay(options, day);
      expect(first).toBe(next);
      next += count;
    }
    expect(next - 1).toBe(1_000_003);
  });

  it('grows the customer base monotonically to about rows / 8', () => {
    const options = { rows: 800, date: '2026-05-01', days: 4, seed: 1 };
    const counts = [0, 1, 2, 3].map((d) => customersUntil(options, d));
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts[3]).toBe(100);
    expect(counts[0]).toBeGreaterThanOrEqual(70);
  });

  it('parses only real calendar days', () => {
    expect(parseDay('2026-05-01')).toBe(Date.UTC(2026, 4, 1));
    expect(() => parseDay('2026-02-30')).toThrow(/not a calendar date/);
    expect(() => parseDay('05/01/2026')).toThrow(/YYYY-MM-DD/);
    expect(dayList({ date: '2026-12-31', days: 2 })).toEqual(['2026-12-31', '2027-01-01']);
  });

  it('rates are deterministic, USD is 1, others wobble around a base', () => {
    expect(rateOf('2026-05-01', 'USD').rate_to_usd).toBe(1);
    expect(rateOf('2026-05-01', 'EUR')).toEqual(rateOf('2026-05-01', 'EUR'));
    expect(rateOf('2026-05-01', 'EUR').rate_to_usd).not.toBe(rateOf('2026-05-02', 'EUR').rate_to_usd);
    expect(rateOf('2026-05-01', 'EUR').rate_to_usd).toBeGreaterThan(1.05);
    expect(rateOf('2026-05-01', 'EUR').rate_to_usd).toBeLessThan(1.11);
  });

  it('quotes CSV fields only when needed', () => {
    expect(csvField("O'Brien")).toBe("O'Brien");
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
  });

  it('parses the command line and rejects bad values', () => {
    expect(
      parseGenerateArgs(['--rows', '1000000', '--date', '2026-05-01', '--days', '2', '--out', '/tmp/x']),
    ).toEqual({ rows: 1_000_000, date: '2026-05-01', days: 2, seed: 42, out: '/tmp/x' });
    expect(() => parseGenerateArgs(['--rows', '0'])).toThrow(/--rows/);
    expect(() => parseGenerateArgs(['--days', 'x'])).toThrow(/--days/);
    expect(() => parseGenerateArgs(['--date', '2026-13-01'])).toThrow(/not a calendar date/);
    expect(() => parseGenerateArgs(['--rowz', '1'])).toThrow(/Unknown option/);
  });
});

describe('generate.ts writes the files', () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'shop-gen-'));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('reproduces the committed demo dataset byte for byte', async () => {
    const files = await generateShopData({ ...DEMO, out });
    expect(files.map((f) => `${f.source}/${f.day}`)).toEqual(
      ['2026-05-01', '2026-05-02', '2026-05-03'].flatMap((d) => [
        `customers/${d}`,
        `orders/${d}`,
        `payments/${d}`,
      ]),
    );
    for (const f of files) {
      const mine = await readFile(f.path, 'utf8');
      expect(mine, f.path).toBe(await readFile(join(committed, f.source, `${f.day}.csv`), 'utf8'));
      expect(mine.split('\n').length - 2, f.path).toBe(f.rows);
    }
    expect(files.filter((f) => f.source === 'orders').map((f) => f.rows)).toEqual([100, 100, 100]);
    expect((await readdir(join(out, 'orders'))).sort()).toEqual([
      '2026-05-01.csv',
      '2026-05-02.csv',
      '2026-05-03.csv',
    ]);
  });

  it('is referentially sound: orders name snapshot customers, payments sum to their order', async () => {
    const options = { rows: 5_000, date: '2026-06-01', days: 2, seed: 7, out: join(out, 'big') };
    await generateShopData(options);
    for (const day of dayList(options)) {
      const customers = new Set<string>();
      let header = true;
      for await (const row of csvRows(join(options.out, 'customers', `${day}.csv`))) {
        if (header) {
          expect(row).toEqual([...CSV_HEADERS.customers]);
          header = false;
        } else customers.add(row[0] as string);
      }
      const orders = new Map<string, number>();
      header = true;
      for await (const row of csvRows(join(options.out, 'orders', `${day}.csv`))) {
        if (header) {
          header = false;
          continue;
        }
        expect(customers.has(row[1] as string), `order ${row[0]} customer ${row[1]}`).toBe(true);
        expect(row[2]?.slice(0, 10)).toBe(day);
        orders.set(row[0] as string, Math.round(Number(row[5]) * 100));
      }
      expect(orders.size).toBe(2_500);
      header = true;
      for await (const row of csvRows(join(options.out, 'payments', `${day}.csv`))) {
        if (header) {
          header = false;
          continue;
        }
        const left = orders.get(row[1] as string);
        expect(left, `payment ${row[0]} order ${row[1]}`).toBeDefined();
        orders.set(row[1] as string, (left as number) - Math.round(Number(row[3]) * 100));
      }
      expect([...orders.values()].filter((cents) => cents !== 0)).toEqual([]);
    }
  });

  it('the same options give the same bytes, another seed different ones', async () => {
    const a = join(out, 'a');
    const b = join(out, 'b');
    await generateShopData({ ...DEMO, days: 1, out: a });
    await generateShopData({ ...DEMO, days: 1, seed: 43, out: b });
    const day1 = (dir: string) => readFile(join(dir, 'orders', '2026-05-01.csv'), 'utf8');
    expect(await day1(a)).not.toBe(await day1(b));
    await generateShopData({ ...DEMO, days: 1, seed: 43, out: a });
    expect(await day1(a)).toBe(await day1(b));
  });

  it('an aborted run leaves no partial or temp file behind', async () => {
    const dir = join(out, 'aborted');
    const controller = new AbortController();
    controller.abort();
    await expect(
      generateShopData({
        rows: 50_000,
        date: '2026-05-01',
        days: 1,
        seed: 1,
        out: dir,
        signal: controller.signal,
      }),
    ).rejects.toThrow(/abort/i);
    expect(await readdir(join(dir, 'customers'))).toEqual([]);
  });
});
