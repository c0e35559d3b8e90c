import { describe, expect, it } from 'vitest';
import { handleRatesRequest, rateUpdates } from '../../../examples/shop/scripts/rates-server.js';
import { CURRENCIES, rateOf } from '../../../examples/shop/scripts/shop-data.js';

const options = { token: 't0ken', pageSize: 3 };
const auth = 'Bearer t0ken';

describe('rates API (pure handler)', () => {
  it('serves a day in cursor pages until next_cursor is null', () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? '' : `&cursor=${cursor}`;
      const reply = handleRatesRequest('GET', `/v1/rates?day=2026-05-01${query}`, auth, options);
      expect(reply.status).toBe(200);
      const body = reply.body as {
        data: Array<{ currency: string; rate_to_usd: number }>;
        meta: { next_cursor: string | null };
      };
      for (const r of body.data) {
        seen.push(r.currency);
        expect(r).toEqual(rateOf('2026-05-01', r.currency as (typeof CURRENCIES)[number]));
      }
      cursor = body.meta.next_cursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual([...CURRENCIES]);
  });

  it('answers 401 without the bearer token, 400 for a bad day or cursor, 404/405 elsewhere', () => {
    expect(handleRatesRequest('GET', '/v1/rates?day=2026-05-01', undefined, options).status).toBe(401);
    expect(handleRatesRequest('GET', '/v1/rates?day=2026-05-01', 'Bearer wrong', options).status).toBe(401);
    expect(handleRatesRequest('GET', '/v1/rates', auth, options).status).toBe(400);
    expect(handleRatesRequest('GET', '/v1/rates?day=2026-02-30', auth, options).status).toBe(400);
    expect(handleRatesRequest('GET', '/v1/rates?day=2026-05-01&cursor=8', auth, options).status).toBe(400);
    expect(handleRatesRequest('GET', '/v1/rates?day=2026-05-01&cursor=-1', auth, options).status).toBe(400);
    expect(handleRatesRequest('GET', '/v2/rates?day=2026-05-01', auth, options).status).toBe(404);
    expect(handleRatesRequest('POST', '/v1/rates?day=2026-05-01', auth, options).status).toBe(405);
  });
});

describe('rates API: the updated_since feed (incremental example)', () => {
  const at = (iso: string) => Date.parse(iso);
  const feed = { token: 't0ken', pageSize: 100, firstDay: '2026-05-01' };

  it('serves what was published or revised since, oldest first, including the next-day JPY revision', () => {
    const asOf = at('2026-05-02T12:00:00Z');
    const all = rateUpdates({ since: at('2026-05-01T00:00:00Z'), asOf, firstDay: '2026-05-01' });
    // 05-01: 8 rates at 16:00, JPY revised 05-02 09:00; 05-02 not published yet at 12:00.
    expect(all).toHaveLength(8);
    expect(all.at(-1)).toMatchObject({
      day: '2026-05-01',
      currency: 'JPY',
      updated_at: '2026-05-02T09:00:00Z',
    });
    expect(all.at(-1)?.rate_to_usd).not.toBe(rateOf('2026-05-01', 'JPY').rate_to_usd);
    // A cursor read from the last value gets the late revision only (>=: the boundary comes again).
    const later = rateUpdates({ since: at('2026-05-01T16:00:00Z'), asOf, firstDay: '2026-05-01' });
    expect(later.map((r) => `${r.day}/${r.currency}`)).toEqual([
      ...CURRENCIES.filter((c) => c !== 'JPY')
        .sort()
        .map((c) => `2026-05-01/${c}`),
      '2026-05-01/JPY',
    ]);
    const newer = rateUpdates({ since: at('2026-05-01T16:00:01Z'), asOf, firstDay: '2026-05-01' });
    expect(newer.map((r) => r.updated_at)).toEqual(['2026-05-02T09:00:00Z']);
  });

  it('bounds by updated_before, pages with next_cursor, and answers 400 for a bad instant', () => {
    const asOf = at('2026-05-04T00:00:00Z');
    const url = '/v1/rates?updated_since=2026-05-01T00:00:00Z&updated_before=2026-05-02T00:00:00Z';
    const reply = handleRatesRequest('GET', url, auth, { ...feed, asOf });
    expect(reply.status).toBe(200);
    const body = reply.body as { data: Array<{ updated_at: string }>; meta: { next_cursor: string | null } };
    expect(body.data).toHaveLength(8);
    expect(body.data.every((r) => r.updated_at === '2026-05-01T16:00:00Z')).toBe(true);
    const paged = handleRatesRequest('GET', url, auth, { ...feed, pageSize: 3, asOf });
    expect((paged.body as { meta: { next_cursor: string } }).meta.next_cursor).toBe('3');
    const bad = handleRatesRequest('GET', '/v1/rates?updated_since=yesterday', auth, { ...feed, asOf });
    expect(bad.status).toBe(400);
  });
});
