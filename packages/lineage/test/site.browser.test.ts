import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSite } from '../src/index.js';
import { SHOP_LAKE, shopManifest, shopRuns } from './fixtures.js';

// The docs site in a real browser: the Debian `chromium` package driven by playwright-core.
// CI installs chromium itself; a machine without it fails here, loudly, unless the run says
// DATAFLOW_SKIP_BROWSER=1.
const CHROMIUM = process.env.DATAFLOW_CHROMIUM ?? '/usr/bin/chromium';
const SKIP = process.env.DATAFLOW_SKIP_BROWSER === '1';
const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '../../../test-results');
const FCT = 'model.shop.fct_orders';

describe.skipIf(SKIP)('docs site in Chromium', { timeout: 120_000 }, () => {
  let dir: string;
  let context: BrowserContext;
  let page: Page;
  const requests: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium) or set DATAFLOW_SKIP_BROWSER=1`,
      );
    }
    dir = await mkdtemp(join(tmpdir(), 'lineage-browser-'));
    const manifest = await shopManifest();
    const site = await generateSite({
      manifest,
      runs: shopRuns(),
      lake: SHOP_LAKE,
      outDir: join(dir, 'docs'),
    });
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      timeout: 60_000,
      viewport: { width: 1400, height: 860 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(30_000);
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(pathToFileURL(site.indexHtml).href);
    await page.waitForSelector('body[data-ready="true"]');
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('searches, zooms, and shows a clicked model’s SQL, columns, tests and last runs', async () => {
    await page.fill('#search', 'fct_orders');
    const results = page.locator('#search-results button');
    expect(await results.count()).toBeGreaterThan(1);
    expect(await page.locator(`g.node[data-id="${FCT}"]`).getAttribute('class')).toContain('match');
    expect(await page.locator('g.node[data-id="model.shop.stg_customers"]').getAttribute('class')).toContain(
      'dim',
    );
    await page.click(`#search-results button[data-id="${FCT}"]`);
    expect(await results.count()).toBe(0);

    const zoom = async () => Number(await page.locator('svg#graph').getAttribute('data-zoom'));
    const before = await zoom();
    await page.click('#zoom-in');
    await page.click('#zoom-in');
    expect(await zoom()).toBeCloseTo(Math.min(4, before * 1.25 * 1.25), 2);
    expect(await page.textContent('#zoom-level')).toBe(`${Math.round((await zoom()) * 100)}%`);
    const box = await page.locator('svg#graph').boundingBox();
    if (!box) throw new Error('graph not laid out');
    await page.mouse.move(box.x + box.width - 30, box.y + box.height - 30);
    const beforeWheel = await zoom();
    await page.mouse.wheel(0, 300);
    await expect.poll(zoom).toBeLessThan(beforeWheel);
    // pan: drag the background
    const transform = () => page.locator('#viewport').getAttribute('transform');
    const beforePan = await transform();
    await page.mouse.down();
    await page.mouse.move(box.x + box.width - 130, box.y + box.height - 80, { steps: 4 });
    await page.mouse.up();
    expect(await transform()).not.toBe(beforePan);

    await page.locator(`g.node[data-id="${FCT}"]`).click();
    expect(await page.getAttribute('#details', 'data-node')).toBe(FCT);
    expect(await page.textContent('#node-name')).toBe('fct_orders');
    expect(await page.textContent('#node-sql')).toMatch(/from "analytics"\."stg_orders"/i);
    const columns = await page.locator('#node-columns tbody tr td:first-child').allTextContents();
    expect(columns).toEqual(expect.arrayContaining(['order_id', 'customer_id', 'status']));
    const tests = await page.locator('#node-tests tbody tr').allTextContents();
    expect(tests.some((t) => t.includes('not_null_fct_orders_order_id') && t.includes('fail'))).toBe(true);
    const runs = await page.locator('#node-runs tbody tr').allTextContents();
    expect(runs).toHaveLength(2);
    expect(runs[0]).toContain('20260502T020000Z-5e6f7a8b');
    expect(runs[0]).toContain('1,310');
    expect(runs[1]).toContain('20260501T020000Z-1a2b3c4d');
    expect(runs[1]).toContain('1,250');
    expect(await page.locator('path.edge.hot').count()).toBeGreaterThan(1);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'site.png') });
  });

  it('shows the run history with per-step durations, rows and failing-row samples', async () => {
    await page.click('#tab-runs');
    const rows = page.locator('#runs-table tbody tr');
    expect(await rows.count()).toBe(2);
    await page.click('#runs-table tr[data-run="20260501T020000Z-1a2b3c4d"]');
    const steps = await page.locator('#run-steps tbody tr').allTextContents();
    expect(steps).toHaveLength(12);
    expect(steps[0]).toMatch(/^ingestcustomers2026-05-01success2\.10 s/);
    expect(steps.some((s) => s.startsWith('loadorders') && s.includes('1,250') && s.includes('1,249'))).toBe(
      true,
    );

    await page.click('#runs-table tr[data-run="20260502T020000Z-5e6f7a8b"]');
    expect(await page.getAttribute('#run-detail', 'data-run')).toBe('20260502T020000Z-5e6f7a8b');
    const failed = page.locator('#run-detail .test-result[data-test="not_null_fct_orders_order_id"]');
    expect(await failed.textContent()).toContain('2 failing row(s)');
    const sample = await failed.locator('tbody tr').allTextContents();
    expect(sample).toEqual(['null17placed12.50', 'null42shipped7.00']);
    await page.screenshot({ path: join(ARTIFACTS, 'site-runs.png') });
  });

  it('loaded nothing but the file itself and raised no script error', () => {
    expect(pageErrors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
  });
});
