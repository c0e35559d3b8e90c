import { describe, expect, it } from 'vitest';
import { parseRetryAfter, redactUrl, retryDelay, retryPolicy } from '../src/index.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2024-01-01T00:00:00Z');
  it('reads delta seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Sun, 31 Dec 2023 23:00:00 GMT', now)).toBe(0);
  });
  it('ignores absent or garbage values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('retryDelay', () => {
  const policy = retryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, minRetryAfterMs: 250 });
  it('grows exponentially under full jitter and is capped', () => {
    expect(retryDelay(1, policy, undefined, 0, () => 0.999)).toBe(99);
    expect(retryDelay(3, policy, undefined, 0, () => 0.999)).toBe(399);
    expect(retryDelay(10, policy, undefined, 0, () => 0.999)).toBe(999);
    expect(retryDelay(3, policy, undefined, 0, () => 0)).toBe(0);
  });
  it('honours Retry-After with a floor and a cap', () => {
    expect(retryDelay(1, policy, '0', 0, () => 0.5)).toBe(250);
    expect(retryDelay(1, policy, '0.5', 0, () => 0.5)).toBe(500);
    expect(retryDelay(1, policy, '3600', 0, () => 0.5)).toBe(1000);
  });
  it('fills defaults and clamps nonsense', () => {
    expect(retryPolicy()).toEqual({
      attempts: 5,
      baseDelayMs: 200,
      maxDelayMs: 30_000,
      minRetryAfterMs: 250,
    });
    expect(retryPolicy({ attempts: 0 }).attempts).toBe(1);
  });
});

describe('redactUrl', () => {
  it('removes credentials and secret-looking query values', () => {
    expect(
      redactUrl(
        'https://user:pw@api.test/x?api_key=a&Token=b&client_secret=c&password=d&X-Amz-Signature=e&page=2',
      ),
    ).toBe(
      'https://api.test/x?api_key=***&Token=***&client_secret=***&password=***&X-Amz-Signature=***&page=2',
    );
  });
  it('redacts extra parameter names and leaves non-URLs alone', () => {
    expect(redactUrl('http://h/p?apikeyz=1&q=2', ['q'])).toBe('http://h/p?apikeyz=***&q=***');
    expect(redactUrl('/local/path.csv')).toBe('/local/path.csv');
  });
});
