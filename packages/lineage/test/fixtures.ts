import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileProject, manifestJson } from '@dataflow/modeling';
import { type Manifest, parseManifest } from '../src/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The CLI's shop example (lake sources → raw tables → staging views → marts → tests). */
export const SHOP_DIR = join(root, 'examples/shop');
export const SHOP_SOURCES = ['customers', 'orders', 'payments', 'rates'] as const;

/** The shop example compiled as the CLI does (raw tables `analytics.raw_<source>`), as manifest.json. */
export async function shopManifest(): Promise<Manifest> {
  const raw = Object.fromEntries(
    SHOP_SOURCES.map((s) => [s, { schema: 'analytics', identifier: `raw_${s}` }]),
  );
  const { graph, diagnostics } = await compileProject({
    dir: SHOP_DIR,
    schema: 'analytics',
    vars: { ds: '2026-05-01', data_interval_start: '2026-05-01', data_interval_end: '2026-05-02' },
    sources: { raw },
    externalRelations: SHOP_SOURCES.map((s) => ({
      name: `raw_${s}`,
      schema: 'analytics',
      identifier: `raw_${s}`,
    })),
  });
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(`shop example does not compile: ${errors[0]?.message}`);
  // Through JSON, as the site and the CLI read target/manifest.json.
  return parseManifest(JSON.parse(JSON.stringify(manifestJson(graph))));
}
