import { describe, expect, it } from 'vitest';
import {
  boundaryKey,
  CursorWindow,
  compareCursor,
  IngestError,
  maxCursor,
  subtractLag,
  windowPartition,
  windowStart,
} from '../src/index.js';

const place = { text: 'rates: record 0 of page 1', context: { source: 'rates', page: 1 } };
const keyOf = (r: { id: number }) => () => boundaryKey([r.id], r);

describe('compareCursor', () => {
  it.each([
    [1, 2, -1],
    [10, '9', 1],
    ['10', '9', 1],
    ['9007199254740993', '9007199254740992', 1],
    [2.5, '2.50', 0],
    ['2024-05-01T12:00:00+02:00', '2024-05-01T10:00:00Z', 0],
    ['2024-05-01T10:00:00.000001Z', '2024-05-01T10:00:00Z', 1],
    ['2024-05-01', '2024-05-01T00:00:01Z', -1],
    ['2024-05-01 10:00:00', '2024-05-01T10:00:00Z', 0],
    ['b', 'a', 1],
    ['abc', 'abc', 0],
  ] as const)('%j vs %j → %d', (a, b, expected) => {
    expect(compareCursor(a, b)).toBe(expected);
    expect(compareCursor(b, a)).toBe(-expected || 0);
  });

  it('maxCursor keeps the type of the larger value', () => {
    expect(maxCursor('5', 7)).toBe(7);
    expect(maxCursor('2024-05-02', '2024-05-01T23:00:00Z')).toBe('2024-05-02');
  });
});

describe('subtractLag', () => {
  it('moves numbers by units and timestamps by seconds, dates by whole days', () => {
    expect(subtractLag(100, 5)).toBe(95);
    expect(subtractLag('100', 5)).toBe('95');
    expect(subtractLag('1.5', 1)).toBe('0.5');
    expect(subtractLag('2024-05-01T10:00:00+02:00', 3600)).toBe('2024-05-01T07:00:00.000Z');
    expect(subtractLag('2024-05-01', 86_400)).toBe('2024-04-30');
    expect(subtractLag('2024-05-01', 3600)).toBe('2024-04-30T23:00:00.000Z');
    expect(subtractLag('abc', 0)).toBe('abc');
  });

  it('refuses a lag on a cursor that is neither numeric nor a timestamp', () => {
    expect(() => subtractLag('abc', 1)).toThrow(IngestError);
  });
});

describe('windowStart', () => {
  it('is the initial value without state, else last value minus lag, never below the initial value', () => {
    expect(windowStart({ initialValue: 10 }, undefined)).toBe(10);
    expect(windowStart({ initialValue: 10 }, { lastValue: 50, boundaryKeys: [] })).toBe(50);
    expect(windowStart({ initialValue: 10, lag: 5 }, { lastValue: 50, boundaryKeys: [] })).toBe(45);
    expect(windowStart({ initialValue: 48, lag: 5 }, { lastValue: 50, boundaryKeys: [] })).toBe(48);
  });
});

describe('CursorWindow', () => {
  it('drops boundary duplicates of the previous run and reports the new range', () => {
    const state = { lastValue: '2024-05-01T10:00:00Z', boundaryKeys: ['[1]', '[2]'] };
    const w = new CursorWindow('updated_at', { initialValue: '2024-01-01T00:00:00Z' }, state);
    const rows = [
      { id: 1, at: '2024-05-01T10:00:00Z' }, // boundary duplicate
      { id: 3, at: '2024-05-01T12:00:00+02:00' }, // same instant, not in state: kept
      { id: 4, at: '2024-05-01T11:00:00Z' },
      { id: 5, at: '2024-05-01T11:00:00.000Z' },
      { id: 6, at: '2024-04-30T00:00:00Z' }, // before the window
    ];
    const kept = rows.filter((r) => w.accept(r.at, keyOf(r), place)).map((r) => r.id);
    expect(kept).toEqual([3, 4, 5]);
    expect(w.outsideWindow).toBe(1);
    expect(w.range()).toEqual({
      path: 'updated_at',
      from: '2024-05-01T10:00:00Z',
      to: '2024-05-01T11:00:00Z',
      boundaryKeys: ['[4]', '[5]'],
      duplicatesDropped: 1,
    });
  });

  it('keeps the state and its boundary keys when nothing newer arrived', () => {
    const state = { lastValue: 7, boundaryKeys: ['[1]'] };
    const w = new CursorWindow('seq', { initialValue: 0 }, state);
    expect(w.accept(7, keyOf({ id: 1 }), place)).toBe(false);
    expect(w.accept(7, keyOf({ id: 2 }), place)).toBe(true);
    expect(w.range()).toEqual({
      path: 'seq',
      from: 7,
      to: 7,
      boundaryKeys: ['[1]', '[2]'],
      duplicatesDropped: 1,
    });
    const empty = new CursorWindow('seq', { initialValue: 0, lag: 3 }, state).range();
    expect(empty).toEqual({ path: 'seq', from: 4, to: 7, boundaryKeys: ['[1]'], duplicatesDropped: 0 });
  });

  it('treats endValue as exclusive and stops early on row order', () => {
    const asc = new CursorWindow('n', { initialValue: 0, endValue: 10, rowOrder: 'asc' });
    expect([5, 9, 10, 11].map((n) => asc.accept(n, keyOf({ id: n }), place))).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(asc.exhausted).toBe(true);
    const desc = new CursorWindow('n', { initialValue: 5, rowOrder: 'desc' });
    expect(desc.accept(9, keyOf({ id: 9 }), place)).toBe(true);
    expect(desc.exhausted).toBe(false);
    expect(desc.accept(4, keyOf({ id: 4 }), place)).toBe(false);
    expect(desc.exhausted).toBe(true);
    const unordered = new CursorWindow('n', { initialValue: 5, endValue: 6 });
    unordered.accept(4, keyOf({ id: 4 }), place);
    unordered.accept(7, keyOf({ id: 7 }), place);
    expect(unordered.exhausted).toBe(false);
  });

  it('raises, includes or excludes a record without a cursor value', () => {
    const raise = new CursorWindow('$.meta.updated', { initialValue: 0 });
    expect(() => raise.accept(undefined, keyOf({ id: 1 }), place)).toThrow(
      'rates: record 0 of page 1 has no cursor value at $.meta.updated',
    );
    expect(() => raise.accept({ a: 1 }, keyOf({ id: 1 }), place)).toThrow(/expected a string or number/);
    const include = new CursorWindow('u', { initialValue: 0, onCursorValueMissing: 'include' });
    expect(include.accept(null, keyOf({ id: 1 }), place)).toBe(true);
    expect(include.range().to).toBe(0);
    const exclude = new CursorWindow('u', { initialValue: 0, onCursorValueMissing: 'exclude' });
    expect(exclude.accept('', keyOf({ id: 1 }), place)).toBe(false);
  });
});

describe('boundaryKey', () => {
  it('is the JSON of the key values, or a hash of the whole row', () => {
    expect(boundaryKey([42, 'eu', undefined], {})).toBe('[42,"eu",null]');
    const a = boundaryKey(undefined, { id: 1, v: 'x' });
    expect(a).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
    expect(boundaryKey(undefined, { id: 1, v: 'x' })).toBe(a);
    expect(boundaryKey(undefined, { id: 1, v: 'y' })).not.toBe(a);
  });
});

describe('windowPartition', () => {
  it('names a window by its UTC start to the millisecond and a random suffix', () => {
    const at = new Date('2024-05-01T10:15:00.123Z');
    const a = windowPartition(at);
    expect(a).toMatch(/^w=20240501T101500123Z-[0-9a-f]{6}$/);
    // Later starts sort later, even within one second.
    expect(windowPartition(new Date('2024-05-01T10:15:00.124Z')) > a).toBe(true);
    expect(windowPartition(at)).not.toBe(a);
  });
});
