import { describe, expect, it } from 'vitest';
import {
  identifierBytes,
  isPgError,
  MAX_IDENTIFIER_BYTES,
  qualify,
  quoteIdent,
  quoteLiteral,
  shortName,
  truncateBytes,
} from '../src/index.js';

describe('quoteIdent', () => {
  it('doubles embedded quotes', () => {
    expect(quoteIdent('order "id"')).toBe('"order ""id"""');
    expect(quoteIdent('Orders')).toBe('"Orders"');
  });

  it('accepts exactly 63 bytes and rejects 64 (PostgreSQL would truncate)', () => {
    expect(quoteIdent('a'.repeat(63))).toBe(`"${'a'.repeat(63)}"`);
    expect(() => quoteIdent('a'.repeat(64))).toThrow(/64 bytes exceeds PostgreSQL's 63-byte limit/);
    // 32 two-byte characters = 64 bytes.
    try {
      quoteIdent('é'.repeat(32));
      expect.unreachable();
    } catch (error) {
      expect(isPgError(error, 'IDENTIFIER_TOO_LONG')).toBe(true);
    }
  });

  it('rejects empty names and NUL', () => {
    expect(() => quoteIdent('')).toThrow(expect.objectContaining({ code: 'BAD_IDENTIFIER' }));
    expect(() => quoteIdent('a\u0000b')).toThrow(expect.objectContaining({ code: 'BAD_IDENTIFIER' }));
  });
});

describe('qualify, quoteLiteral', () => {
  it('qualifies with and without a schema', () => {
    expect(qualify('raw', 'orders')).toBe('"raw"."orders"');
    expect(qualify(undefined, 'orders')).toBe('"orders"');
  });

  it('quotes literals by doubling single quotes', () => {
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(quoteLiteral('a\\b')).toBe("'a\\b'");
  });
});

describe('truncateBytes, shortName', () => {
  it('never splits a character', () => {
    expect(truncateBytes('ééé', 4)).toBe('éé');
    expect(truncateBytes('ééé', 5)).toBe('éé');
    expect(truncateBytes('abc', 10)).toBe('abc');
  });

  it('keeps short names as they are and the suffix whole', () => {
    expect(shortName('orders', '__df_tmp_ab12cd34')).toBe('orders__df_tmp_ab12cd34');
  });

  it('fits long names into 63 bytes with a hash that keeps two long bases apart', () => {
    const a = shortName(`${'x'.repeat(70)}_a`, '__df_tmp_ab12cd34');
    const b = shortName(`${'x'.repeat(70)}_b`, '__df_tmp_ab12cd34');
    expect(identifierBytes(a)).toBe(MAX_IDENTIFIER_BYTES);
    expect(a.endsWith('__df_tmp_ab12cd34')).toBe(true);
    expect(a).not.toBe(b);
    expect(identifierBytes(shortName('é'.repeat(60), '__s'))).toBeLessThanOrEqual(MAX_IDENTIFIER_BYTES);
  });
});
