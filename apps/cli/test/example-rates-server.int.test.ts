import { describe, expect, it } from 'vitest';
import { DEMO_RATES_TOKEN, startRatesServer } from '../../../examples/shop/scripts/rates-server.js';

describe('rates server over HTTP (loopback)', () => {
  it('listens on a free port, checks the bearer token, pages with a cursor, closes', async () => {
    const server = await startRatesServer({ port: 0, token: DEMO_RATES_TOKEN });
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}/v1/rates`);
      const denied = await fetch(`${server.url}?day=2026-05-02`);
      expect(denied.status).toBe(401);
      const headers = { authorization: `Bearer ${DEMO_RATES_TOKEN}` };
      const first = await fetch(`${server.url}?day=2026-05-02`, { headers });
      expect(first.status).toBe(200);
      expect(first.headers.get('content-type')).toBe('application/json');
      const body = (await first.json()) as {
        data: Array<{ day: string; currency: string }>;
        meta: { next_cursor: string };
      };
      expect(body.data.map((r) => [r.day, r.currency])).toEqual([
        ['2026-05-02', 'USD'],
        ['2026-05-02', 'EUR'],
        ['2026-05-02', 'GBP'],
      ]);
      expect(body.meta.next_cursor).toBe('3');
      const last = (await (await fetch(`${server.url}?day=2026-05-02&cursor=6`, { headers })).json()) as {
        data: unknown[];
        meta: { next_cursor: string | null };
      };
      expect(last.data).toHaveLength(2);
      expect(last.meta.next_cursor).toBeNull();
      expect(server.requests.map((r) => r.status)).toEqual([401, 200, 200]);
    } finally {
      await server.close();
    }
    await expect(fetch(server.url)).rejects.toThrow();
  });
});
