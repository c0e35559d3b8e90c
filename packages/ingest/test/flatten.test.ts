import { describe, expect, it } from 'vitest';
import { nestedMode } from '../src/flatten.js';
import { flattenRecord, IngestError } from '../src/index.js';

describe('flattenRecord', () => {
  const record = { id: 1, user: { name: 'a', geo: { lat: 1, lng: 2 } }, tags: ['x'], meta: {}, n: null };

  it('flattens objects into parent__child up to the depth; deeper objects and arrays stay JSON', () => {
    expect(flattenRecord(record, 1)).toEqual({
      id: 1,
      user__name: 'a',
      user__geo: { lat: 1, lng: 2 },
      tags: ['x'],
      meta: {},
      n: null,
    });
    expect(flattenRecord(record, 2)).toEqual({
      id: 1,
      user__name: 'a',
      user__geo__lat: 1,
      user__geo__lng: 2,
      tags: ['x'],
      meta: {},
      n: null,
    });
  });

  it('depth 0 keeps the record as it is', () => {
    expect(flattenRecord(record, 0)).toEqual(record);
  });

  it('nestedMode accepts jsonb or a whole depth, and refuses anything else', () => {
    expect(nestedMode(undefined)).toBe('jsonb');
    expect(nestedMode({ flatten: 2 })).toEqual({ flatten: 2 });
    expect(() => nestedMode({ flatten: 1.5 })).toThrow(IngestError);
    expect(() => nestedMode('flat' as never)).toThrow("nested must be 'jsonb' or { flatten: <depth ≥ 0> }");
  });
});
