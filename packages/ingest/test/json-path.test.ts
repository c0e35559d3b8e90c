import { describe, expect, it } from 'vitest';
import { compilePath, getPath, IngestError, readPath, selectRecords } from '../src/index.js';

const body = {
  data: {
    items: [
      { id: 1, active: true },
      { id: 2, active: false },
    ],
  },
  meta: [{ next: 'c2' }],
  'a b': { c: 3 },
};

describe('readPath / getPath', () => {
  it('reads today’s dotted paths unchanged (array indexes included, empty = the value)', () => {
    expect(readPath(body, 'data.items')).toEqual(body.data.items);
    expect(getPath(body, 'meta.0.next')).toBe('c2');
    expect(readPath(body, '')).toBe(body);
    expect(readPath(body, 'data.nope.x')).toBeUndefined();
    expect(readPath({ a: null }, 'a.b')).toBeUndefined();
  });

  it('reads JSONPath: the same fixed paths, bracket names, and the first of many matches', () => {
    expect(readPath(body, '$.data.items')).toEqual(body.data.items);
    expect(readPath(body, '$.meta[0].next')).toBe('c2');
    expect(readPath(body, "$['a b'].c")).toBe(3);
    expect(readPath(body, '$')).toBe(body);
    expect(readPath(body, '$..id')).toBe(1);
    expect(readPath(body, '$.data.items[?(@.active === false)].id')).toBe(2);
    expect(readPath(body, '$.nope')).toBeUndefined();
  });

  it('tells fixed from dynamic paths, and fails clearly on a broken JSONPath', () => {
    expect(compilePath('$.data.items').dynamic).toBe(false);
    expect(compilePath('data.items').dynamic).toBe(false);
    expect(compilePath('$.data.items[*]').dynamic).toBe(true);
    expect(compilePath('$..id').all(body)).toEqual([1, 2]);
    expect(() => compilePath('$.data[?(@.x').all(body)).toThrow(
      new IngestError('INVALID_OPTIONS', 'invalid JSONPath "$.data[?(@.x"'),
    );
  });
});

describe('selectRecords', () => {
  it('takes the array a fixed path points at, or every value a wildcard selects', () => {
    expect(selectRecords(body, 'data.items')).toEqual(body.data.items);
    expect(selectRecords(body, '$.data.items')).toEqual(body.data.items);
    expect(selectRecords(body, '$.data.items[*]')).toEqual(body.data.items);
    expect(selectRecords(body, '$.data.items[?(@.active)]')).toEqual([{ id: 1, active: true }]);
    expect(selectRecords({ data: [] }, '$.data[*]')).toEqual([]);
    expect(selectRecords(body, 'data')).toBeUndefined();
    expect(selectRecords(body, '$.nope')).toBeUndefined();
  });
});
