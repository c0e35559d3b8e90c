import { describe, expect, it } from 'vitest';
import { handleRatesRequest } from '../../../examples/shop/scripts/rates-server.js';
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
