import { describe, expect, it } from 'vitest';
import { createRedactor, redactArgs, redactSecrets } from '../src/index.js';

describe('redactSecrets', () => {
  it('scrubs URL passwords but keeps user, host and path', () => {
    expect(redactSecrets('connect postgres://app:hunter2@db.internal:5432/shop?sslmode=require')).toBe(
      'connect postgres://app:***@db.internal:5432/shop?sslmode=require',
    );
  });

  it('scrubs token/key/password/secret query values', () => {
    expect(redactSecrets('GET https://api.x/v1?day=2026-05-01&token=abc123&key=k9&password=p&secret=s')).toBe(
      'GET https://api.x/v1?day=2026-05-01&token=***&key=***&password=***&secret=***',
    );
  });

  it('scrubs Bearer tokens and AWS secret keys', () => {
    expect(redactSecrets('Authorization: Bearer eyJhbGciOi.J9x-y_z')).toBe('Authorization: Bearer ***');
    expect(redactSecrets('aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')).toBe(
      'aws_secret_access_key=***',
    );
    expect(redactSecrets('"secretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"')).toBe(
      '"secretAccessKey":"***"',
    );
  });

  it('scrubs registered values, also JSON-escaped and URL-encoded', () => {
    const secret = 'p@ss"wo/rd';
    const text = `raw ${secret} json ${JSON.stringify(secret)} url ${encodeURIComponent(secret)}`;
    const out = redactSecrets(text, [secret]);
    expect(out).not.toContain('ss"wo');
    expect(out).not.toContain('ss\\"wo');
    expect(out).not.toContain('ss%22wo');
    expect(out).toBe('raw *** json "***" url ***');
  });

  it('ignores very short registered values rather than shredding text', () => {
    expect(redactSecrets('a b c', ['a'])).toBe('a b c');
  });
});

describe('createRedactor', () => {
  it('redacts added values in strings and nested values', () => {
    const r = createRedactor();
    r.add('s3cr3t-token');
    expect(r.size).toBe(1);
    expect(r.redact('x s3cr3t-token y')).toBe('x *** y');
    expect(r.redactValue({ a: ['s3cr3t-token', 1], b: { c: 'ok s3cr3t-token' } })).toEqual({
      a: ['***', 1],
      b: { c: 'ok ***' },
    });
  });
});

describe('redactArgs', () => {
  it('redacts values of secret flags in both forms and URL passwords', () => {
    expect(
      redactArgs([
        'run',
        '--token',
        'abc123',
        '--api-key=zzz',
        '--date',
        '2026-05-01',
        '--db',
        'postgres://u:pw@h/d',
      ]),
    ).toEqual([
      'run',
      '--token',
      '***',
      '--api-key=***',
      '--date',
      '2026-05-01',
      '--db',
      'postgres://u:***@h/d',
    ]);
  });

  it('redacts known secret values anywhere', () => {
    expect(redactArgs(['--source', 'orders', 'xyz-secret-1'], ['xyz-secret-1'])).toEqual([
      '--source',
      'orders',
      '***',
    ]);
  });
});
