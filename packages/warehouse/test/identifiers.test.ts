import { describe, expect, it } from 'vitest';
import { qualify, quoteIdent } from '../src/index.js';

describe('quoteIdent', () => {
  it('double-quotes and escapes embedded quotes', () => {
    expect(quoteIdent('orders')).toBe('"orders"');
    expect(quoteIdent('order "id"')).toBe('"order ""id"""');
    expect(quoteIdent('Mixed Case')).toBe('"Mixed Case"');
  });

  it('accepts exactly 63 bytes and rejects 64 (multi-byte counted in bytes)', () => {
    expect(quoteIdent('a'.repeat(63))).toBe(`"${'a'.repeat(63)}"`);
    expect(() => quoteIdent('a'.repeat(64))).toThrowError(
      expect.objectContaining({ code: 'IDENTIFIER_TOO_LONG' }),
    );
    // 32 two-byte characters = 64 bytes although only 32 characters.
    const err = (() => {
      try {
        quoteIdent('é'.repeat(32));
      } catch (e) {
        return e;
      }
    })();
    // @dataflow/pg's PgError; loadPartition reports it as a WarehouseError with the same code.
    expect((err as { code: string }).code).toBe('IDENTIFIER_TOO_LONG');
  });

  it('rejects empty names and NUL', () => {
    expect(() => quoteIdent('')).toThrowError(expect.objectContaining({ code: 'BAD_IDENTIFIER' }));
    expect(() => quoteIdent('a\u0000b')).toThrowError(expect.objectContaining({ code: 'BAD_IDENTIFIER' }));
  });
});

describe('qualify', () => {
  it('joins schema and name, each quoted', () => {
    expect(qualify('raw', 'orders')).toBe('"raw"."orders"');
    expect(qualify(undefined, 'orders')).toBe('"orders"');
    expect(() => qualify('s', 'x'.repeat(64))).toThrowError(
      expect.objectContaining({ code: 'IDENTIFIER_TOO_LONG' }),
    );
  });
});
