/**
 * Pure, deterministic model of the shop's data: customers, orders, payments and exchange rates.
 *
 * Every row is a function of (seed, id) or (seed, day, currency), so any slice can be produced
 * without producing the rows before it, nothing is held in memory, and the same options always
 * give byte-identical files. The generator (`generate.ts`) and the rates API (`rates-server.ts`)
 * are thin adapters over this module.
 */

/** Options shared by every generated file. */
export interface ShopDataOptions {
  /** Total orders over all days. */
  rows: number;
  /** First day, `YYYY-MM-DD`. */
  date: string;
  /** Number of consecutive days. */
  days: number;
  /** PRNG seed. */
  seed: number;
}

export const ORDER_STATUSES = ['placed', 'shipped', 'completed', 'returned', 'return_pending'] as const;
export const PAYMENT_METHODS = ['credit_card', 'paypal', 'bank_transfer', 'gift_card', 'coupon'] as const;
/** Currencies the rates API serves; orders use the first four. */
export const CURRENCIES = ['USD', 'EUR', 'GBP', 'CAD', 'JPY', 'CHF', 'AUD', 'SEK'] as const;
export type Currency = (typeof CURRENCIES)[number];

export const CSV_HEADERS = {
  customers: ['customer_id', 'first_name', 'last_name', 'email', 'country', 'created_at'],
  orders: ['order_id', 'customer_id', 'ordered_at', 'status', 'currency', 'amount'],
  payments: ['payment_id', 'order_id', 'method', 'amount', 'paid_at'],
} as const;

const DAY_MS = 86_400_000;
const FIRST_NAMES = [
  'Ada',
  'Bruno',
  'Chloe',
  'Dmitri',
  'Elena',
  'Farah',
  'Gustav',
  'Hana',
  'Ivan',
  'Jasmin',
  'Kofi',
  'Lena',
  'Mateo',
  'Nora',
  'Oskar',
  'Priya',
] as const;
const LAST_NAMES = [
  'Andersen',
  'Becker',
  'Costa',
  'Dubois',
  'Evans',
  'Fischer',
  'Garcia',
  'Huang',
  "O'Brien",
  'Jansen',
  'Kowalski',
  'Larsen',
  'Moreau',
  'Nakamura',
  'Okafor',
  'Petrov',
] as const;
const COUNTRIES = [
  ['US', 'USD'],
  ['US', 'USD'],
  ['US', 'USD'],
  ['CA', 'CAD'],
  ['GB', 'GBP'],
  ['DE', 'EUR'],
  ['FR', 'EUR'],
  ['NL', 'EUR'],
] as const;
/** Units of the currency per 1 USD is the usual quote; we store the inverse: USD per unit. */
const BASE_RATE_TO_USD: Record<Currency, number> = {
  USD: 1,
  EUR: 1.08,
  GBP: 1.27,
  CAD: 0.73,
  JPY: 0.0066,
  CHF: 1.12,
  AUD: 0.66,
  SEK: 0.095,
};

/** mulberry32: a tiny, fast 32-bit PRNG; good enough for test data, fully deterministic. */
export function createPrng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Mixes a seed with a stream tag and an id into one 32-bit PRNG seed. */
function mix(seed: number, tag: number, id: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(tag + 1, 0xc2b2ae35) ^ id;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

const pick = <T>(items: readonly T[], r: number): T => items[Math.floor(r * items.length)] as T;

/** Parses `YYYY-MM-DD` to epoch ms at UTC midnight, rejecting anything else. */
export function parseDay(day: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new RangeError(`expected a date YYYY-MM-DD, got "${day}"`);
  const ms = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== day) {
    throw new RangeError(`not a calendar date: "${day}"`);
  }
  return ms;
}

export const formatDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const formatTimestamp = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const formatCents = (cents: number): string => (cents / 100).toFixed(2);

/** The dates covered by the options, in order. */
export function dayList(options: Pick<ShopDataOptions, 'date' | 'days'>): string[] {
  const start = parseDay(options.date);
  return Array.from({ length: options.days }, (_, i) => formatDay(start + i * DAY_MS));
}

/** Customers over the whole range: about one per eight orders, at least 30. */
export function totalCustomers(options: Pick<ShopDataOptions, 'rows'>): number {
  return Math.max(30, Math.ceil(options.rows / 8));
}

/** Customers existing at the end of day `dayIndex`: 70% predate the range, the rest sign up evenly. */
export function customersUntil(options: ShopDataOptions, dayIndex: number): number {
  const total = totalCustomers(options);
  const existing = Math.ceil(total * 0.7);
  return existing + Math.floor(((total - existing) * (dayIndex + 1)) / options.days);
}

/** The id range of orders placed on day `dayIndex` (`first` inclusive, `count` ids). */
export function ordersOfDay(options: ShopDataOptions, dayIndex: number): { first: number; count: number } {
  const base = Math.floor(options.rows / options.days);
  const extra = options.rows % options.days;
  const count = base + (dayIndex < extra ? 1 : 0);
  const first = 1 + dayIndex * base + Math.min(dayIndex, extra);
  return { first, count };
}

export interface Customer {
  customer_id: number;
  first_name: string;
  last_name: string;
  email: string;
  country: string;
  currency: Currency;
  created_at: string;
}

/** Customer `id` (1-based): attributes depend only on (seed, id); signup time on the range. */
export function customerAt(options: ShopDataOptions, id: number): Customer {
  const rnd = createPrng(mix(options.seed, 1, id));
  const first = pick(FIRST_NAMES, rnd());
  const last = pick(LAST_NAMES, rnd());
  const [country, currency] = pick(COUNTRIES, rnd());
  const start = parseDay(options.date);
  const total = totalCustomers(options);
  const existing = Math.ceil(total * 0.7);
  let createdMs: number;
  if (id <= existing) {
    // Spread over the year before the range, in id order.
    createdMs = start - 365 * DAY_MS + Math.floor(((id - 1) / existing) * 365 * DAY_MS);
  } else {
    let day = 0;
    while (day < options.days - 1 && customersUntil(options, day) < id) day++;
    createdMs = start + day * DAY_MS + Math.floor(rnd() * (DAY_MS - 1000));
  }
  return {
    customer_id: id,
    first_name: first,
    last_name: last,
    email: `${first}.${last.replace("'", '')}.${id}@example.com`.toLowerCase(),
    country,
    currency: currency as Currency,
    created_at: formatTimestamp(Math.floor(createdMs / 1000) * 1000),
  };
}

export interface Payment {
  payment_id: number;
  order_id: number;
  method: (typeof PAYMENT_METHODS)[number];
  amount: string;
  paid_at: string;
}

export interface Order {
  order_id: number;
  customer_id: number;
  ordered_at: string;
  status: (typeof ORDER_STATUSES)[number];
  currency: Currency;
  amount: string;
  payments: Payment[];
}

const STATUS_WEIGHTS: Array<[Order['status'], number]> = [
  ['completed', 0.7],
  ['shipped', 0.12],
  ['placed', 0.1],
  ['returned', 0.05],
  ['return_pending', 0.03],
];
const METHOD_WEIGHTS: Array<[Payment['method'], number]> = [
  ['credit_card', 0.5],
  ['paypal', 0.2],
  ['bank_transfer', 0.15],
  ['gift_card', 0.1],
  ['coupon', 0.05],
];

function weighted<T>(table: Array<[T, number]>, r: number): T {
  let acc = 0;
  for (const [value, weight] of table) {
    acc += weight;
    if (r < acc) return value;
  }
  return (table[table.length - 1] as [T, number])[0];
}

/**
 * Order `id` placed on day `dayIndex` (the `index`-th order of that day), with 1–3 payments whose
 * amounts sum to the order amount. Payment ids are `order_id * 10 + n`.
 */
export function orderAt(options: ShopDataOptions, dayIndex: number, index: number, count: number): Order {
  const { first } = ordersOfDay(options, dayIndex);
  const id = first + index;
  const rnd = createPrng(mix(options.seed, 2, id));
  const customerId = 1 + Math.floor(rnd() * customersUntil(options, dayIndex));
  const dayStart = parseDay(options.date) + dayIndex * DAY_MS;
  // Orders are spread over the day in id order, so files are sorted by time.
  const orderedMs = dayStart + Math.floor(((index + rnd()) / count) * (DAY_MS / 1000 - 600)) * 1000;
  const cents = 500 + Math.floor(rnd() * rnd() * 49_500);
  const r = rnd();
  const parts = r < 0.85 ? 1 : r < 0.97 ? 2 : 3;
  const payments: Payment[] = [];
  let left = cents;
  for (let n = 1; n <= parts; n++) {
    const share = n === parts ? left : Math.floor(left * (0.3 + rnd() * 0.4));
    left -= share;
    payments.push({
      payment_id: id * 10 + n,
      order_id: id,
      method: weighted(METHOD_WEIGHTS, rnd()),
      amount: formatCents(share),
      paid_at: formatTimestamp(orderedMs + (30 + Math.floor(rnd() * 500)) * 1000),
    });
  }
  return {
    order_id: id,
    customer_id: customerId,
    ordered_at: formatTimestamp(orderedMs),
    status: weighted(STATUS_WEIGHTS, rnd()),
    currency: customerAt(options, customerId).currency,
    amount: formatCents(cents),
    payments,
  };
}

/** One exchange rate: USD per one unit of `currency` on `day`. */
export interface Rate {
  day: string;
  currency: Currency;
  rate_to_usd: number;
}

/** Deterministic daily rates: a base rate with a small day-dependent wobble (USD is always 1). */
export function rateOf(day: string, currency: Currency): Rate {
  const base = BASE_RATE_TO_USD[currency];
  if (currency === 'USD') return { day, currency, rate_to_usd: 1 };
  const dayNumber = parseDay(day) / DAY_MS;
  const wobble = 1 + 0.02 * Math.sin(dayNumber / 3 + CURRENCIES.indexOf(currency));
  return { day, currency, rate_to_usd: Number((base * wobble).toPrecision(6)) };
}

/** Quotes a CSV field when it needs it (RFC 4180). */
export function csvField(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export const csvLine = (values: Array<string | number>): string => `${values.map(csvField).join(',')}\n`;
