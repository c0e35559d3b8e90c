import { describe, expect, it } from 'vitest';
import { buildSiteData, nodeLineage, PRODUCER, parseRuns, postgresLocation } from '../src/index.js';
import { SHOP_LAKE, shopManifest, shopRuns } from './fixtures.js';

// The shop has a snapshot (snapshots/customers_snapshot.sql): manifests with snapshots parse,
// the site shows the snapshot between its parent and nothing else, and lineage reads it as a job.
const SNAPSHOT = 'snapshot.shop.customers_snapshot';

describe('snapshots in lineage and the site', () => {
  it('the site has the snapshot node, fed by stg_customers, with its SQL and relation', async () => {
    const data = buildSiteData({
      manifest: await shopManifest(),
      runs: parseRuns(shopRuns()),
      lake: SHOP_LAKE,
      generatedAt: '2026-05-03T00:00:00.000Z',
    });
    const node = data.nodes.find((n) => n.id === SNAPSHOT);
    expect(node).toMatchObject({
      kind: 'snapshot',
      name: 'customers_snapshot',
      relation: 'analytics.customers_snapshot',
      file: 'snapshots/customers_snapshot.sql',
    });
    expect(node?.sql).toMatch(/from "analytics"\."stg_customers"/i);
    expect(data.edges.filter((e) => e.to === SNAPSHOT).map((e) => e.from)).toEqual([
      'model.shop.stg_customers',
    ]);
  });

  it('OpenLineage: a model-kind job reading stg_customers and writing the snapshot table', async () => {
    const job = nodeLineage({
      producer: PRODUCER,
      manifest: await shopManifest(),
      uniqueId: SNAPSHOT,
      warehouse: postgresLocation('postgres://db.internal:5432/shop'),
      rows: 30,
    });
    expect(job?.kind).toBe('model');
    expect(job?.inputs.map((d) => d.name)).toEqual(['shop.analytics.stg_customers']);
    expect(job?.outputs.map((d) => d.name)).toEqual(['shop.analytics.customers_snapshot']);
    expect(job?.sql).toMatch(/select customer_id, first_name, last_name, email, country/);
  });
});
