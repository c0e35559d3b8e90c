import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildSiteData,
  generateSite,
  LineageError,
  layoutGraph,
  parseRuns,
  scriptJson,
} from '../src/index.js';
import { SHOP_LAKE, shopManifest, shopRuns } from './fixtures.js';

const FCT_TEST = 'test.shop.not_null_fct_orders_order_id.0fc45c337f';

describe('layoutGraph', () => {
  it('puts each node one column right of its furthest parent, deterministically', () => {
    const edges = [
      { from: 'lake', to: 'raw' },
      { from: 'raw', to: 'stg' },
      { from: 'stg', to: 'fct' },
      { from: 'raw', to: 'fct' },
      { from: 'fct', to: 'test' },
      { from: 'nope', to: 'fct' },
    ];
    const ids = ['test', 'fct', 'stg', 'raw', 'lake'];
    const pos = layoutGraph(ids, edges, { nodeWidth: 100, nodeHeight: 20, columnGap: 50, rowGap: 10 });
    expect(['lake', 'raw', 'stg', 'fct', 'test'].map((id) => pos.get(id)?.x)).toEqual([
      0, 150, 300, 450, 600,
    ]);
    expect([...pos.values()].every((p) => p.y === 0)).toBe(true);
    expect(layoutGraph([...ids].reverse(), [...edges].reverse())).toEqual(layoutGraph(ids, edges));
  });

  it('orders a column by its parents so siblings do not cross, and survives a cycle', () => {
    const pos = layoutGraph(
      ['a', 'b', 'a1', 'b1'],
      [
        { from: 'b', to: 'a1' },
        { from: 'a', to: 'b1' },
      ],
    );
    // a1's parent b is below a, so a1 goes below b1.
    expect((pos.get('a1')?.y ?? 0) > (pos.get('b1')?.y ?? 0)).toBe(true);
    const grouped = layoutGraph(
      ['m', 'test_a', 'child'],
      [
        { from: 'm', to: 'test_a' },
        { from: 'm', to: 'child' },
      ],
      {
        nodeWidth: 100,
        nodeHeight: 20,
        columnGap: 50,
        rowGap: 10,
        groupOf: (id) => (id.startsWith('test') ? 1 : 0),
      },
    );
    expect([grouped.get('child')?.y, grouped.get('test_a')?.y]).toEqual([0, 30]);
    const cyclic = layoutGraph(
      ['x', 'y'],
      [
        { from: 'x', to: 'y' },
        { from: 'y', to: 'x' },
      ],
    );
    expect(cyclic.size).toBe(2);
  });
});

describe('buildSiteData', () => {
  it('links lake URI → raw table → staging → mart → test, and attaches last runs and failing samples', async () => {
    const manifest = await shopManifest();
    const data = buildSiteData({
      manifest,
      runs: parseRuns(shopRuns()),
      lake: SHOP_LAKE,
      generatedAt: '2026-05-03T00:00:00.000Z',
    });
    const edge = (from: string, to: string) => data.edges.some((e) => e.from === from && e.to === to);
    expect(edge('lake.orders', 'source.shop.raw.orders')).toBe(true);
    expect(edge('source.shop.raw.orders', 'model.shop.stg_orders')).toBe(true);
    expect(edge('model.shop.stg_orders', 'model.shop.fct_orders')).toBe(true);
    expect(edge('model.shop.fct_orders', FCT_TEST)).toBe(true);

    const node = (id: string) => data.nodes.find((n) => n.id === id);
    const x = (id: string) => node(id)?.x ?? -1;
    expect(x('lake.orders')).toBeLessThan(x('source.shop.raw.orders'));
    expect(x('source.shop.raw.orders')).toBeLessThan(x('model.shop.stg_orders'));
    expect(x('model.shop.stg_orders')).toBeLessThan(x('model.shop.fct_orders'));
    expect(x('model.shop.fct_orders')).toBeLessThan(x(FCT_TEST));

    expect(node('lake.orders')).toMatchObject({ kind: 'lake', name: 's3://lake/raw/orders' });
    expect(node('lake.orders')?.lastRuns).toEqual([
      expect.objectContaining({ status: 'success', rowsOut: 1250, partition: '2026-05-01' }),
    ]);
    expect(node('source.shop.raw.orders')).toMatchObject({
      kind: 'source',
      name: 'raw_orders',
      relation: 'analytics.raw_orders',
    });
    expect(node('source.shop.raw.orders')?.lastRuns[0]).toMatchObject({
      status: 'success',
      rowsIn: 1250,
      rowsOut: 1249,
      rowsRejected: 1,
    });

    const fct = node('model.shop.fct_orders');
    expect(fct).toMatchObject({
      kind: 'model',
      materialized: 'incremental',
      relation: 'analytics.fct_orders',
    });
    expect(fct?.sql).toMatch(/"analytics"\."stg_orders"/);
    expect(fct?.columns.map((c) => c.name)).toContain('order_id');
    expect(fct?.tests).toContain(FCT_TEST);
    // newest first: the 05-02 build, then the 05-01 run
    expect(fct?.lastRuns.map((r) => [r.runId, r.rowsOut])).toEqual([
      ['20260502T020000Z-5e6f7a8b', 1310],
      ['20260501T020000Z-1a2b3c4d', 1250],
    ]);
    expect(node(FCT_TEST)?.lastRuns.map((r) => [r.status, r.failures])).toEqual([
      ['fail', 2],
      ['pass', 0],
    ]);
    expect(data.runs.map((r) => r.runId)).toEqual(['20260502T020000Z-5e6f7a8b', '20260501T020000Z-1a2b3c4d']);
    expect(data.runs[0]?.testResults[0]?.sample).toHaveLength(2);
    expect(data.runs[0]?.startedAt).toBe('2026-05-02T02:00:00.000Z');
  });
});

describe('site input and output', () => {
  it('parseRuns names the run and field that is wrong', () => {
    const runs = shopRuns() as unknown as Array<Record<string, unknown>>;
    (runs[1] as { jobs: Array<Record<string, unknown>> }).jobs[0] = { step: 'deploy', target: 'x' };
    expect(() => parseRuns(runs)).toThrow(LineageError);
    expect(() => parseRuns(runs)).toThrow(/^runs\.1\.jobs\.0\.step: /);
    expect(() => parseRuns([{ ...shopRuns()[0], startedAt: 'not a date' }])).toThrow(
      /^runs\.0\.startedAt: expected a date/,
    );
  });

  it('scriptJson cannot close the script element or open a comment', () => {
    const text = scriptJson({ sql: "select '</script><!--' as x" });
    expect(text).not.toMatch(/<\/script|<!--/);
    expect(JSON.parse(text)).toEqual({ sql: "select '</script><!--' as x" });
  });

  it('generateSite writes one self-contained index.html and site-data.json', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lineage-site-'));
    try {
      const manifest = JSON.parse(JSON.stringify(await shopManifest()));
      const out = await generateSite({
        manifest,
        runs: shopRuns(),
        lake: SHOP_LAKE,
        outDir: join(dir, 'docs'),
      });
      const html = await readFile(out.indexHtml, 'utf8');
      expect(html.startsWith('<!doctype html>')).toBe(true);
      // Nothing is loaded from elsewhere: no src= or href= to any URL, no external stylesheet.
      expect(html).not.toMatch(
        /<script[^>]+src=|<link[^>]+href=|@import|https?:\/\/(?!www\.w3\.org\/2000\/svg)/,
      );
      expect(html).toContain("default-src 'none'");
      const data = JSON.parse(await readFile(out.dataJson, 'utf8'));
      expect(data.nodes).toHaveLength(out.data.nodes.length);
      expect(data.project).toBe('shop');
      await expect(generateSite({ manifest: { nodes: {} }, runs: [], outDir: dir })).rejects.toThrow(
        /^manifest\.json: metadata: /,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
