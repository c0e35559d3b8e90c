import { describe, expect, it } from 'vitest';
import { inferColumnType } from '../src/index.js';

describe('inferColumnType', () => {
  it.each([
    [['1', '2', '-3'], 'integer'],
    [['1', '', '42'], 'integer'],
    [['2147483647', '-2147483648'], 'integer'],
    [['2147483648'], 'bigint'],
    [['1', '9223372036854775807'], 'bigint'],
    [['9223372036854775808'], 'numeric'],
    [['1', '2.5'], 'numeric'],
    [['1e3', '.5'], 'numeric'],
    [['true', 'FALSE', ''], 'boolean'],
    [['2018-01-01', '2018-02-28'], 'date'],
    [['2018-02-30'], 'text'],
    [['2018-01-01', '2018-01-01 10:00:00'], 'timestamp'],
    [['2018-01-01T10:00:00Z', '2018-01-01 10:00:00.123'], 'timestamp'],
    [['1', 'abc'], 'text'],
    [['true', '1'], 'text'],
    [['', ''], 'text'],
    [[], 'text'],
    [['1.0', 'x'], 'text'],
  ] as const)('%j → %s', (values, expected) => {
    expect(inferColumnType(values)).toBe(expected);
  });
});
