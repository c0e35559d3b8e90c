import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LineageError } from './errors.js';
import { type Manifest, parseManifest } from './manifest.js';
import { buildSiteData, type LakeSource, type SiteData } from './site-data.js';
import { renderSiteHtml } from './site-html.js';
import { parseRuns } from './site-runs.js';

/** Input of {@link generateSite}. */
export interface GenerateSiteOptions {
  /** `target/manifest.json` as parsed JSON (or already parsed by `parseManifest`). */
  manifest: Manifest | unknown;
  /** Run history, newest first or not: runlog `RunDetail`s (or their JSON). */
  runs: readonly unknown[];
  /** Lake locations of the project's sources (the graph's first column). */
  lake?: readonly LakeSource[] | undefined;
  /** Directory for `index.html` and `site-data.json` (created). */
  outDir: string;
  generatedAt?: string | undefined;
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/**
 * Writes the lineage and run-history site: `index.html` (one self-contained file, opens from
 * disk with no network: style, data and script inline) and `site-data.json` (the same data).
 * Each file is written to a temp name and renamed, so a reader never sees half a site.
 *
 * @example
 * const { indexHtml } = await generateSite({ manifest, runs, lake, outDir: 'target/docs' });
 */
export async function generateSite(
  options: GenerateSiteOptions,
): Promise<{ indexHtml: string; dataJson: string; data: SiteData }> {
  const manifest = parseManifest(options.manifest);
  const runs = parseRuns(options.runs);
  const data = buildSiteData({ manifest, runs, lake: options.lake, generatedAt: options.generatedAt });
  const indexHtml = join(options.outDir, 'index.html');
  const dataJson = join(options.outDir, 'site-data.json');
  try {
    await mkdir(options.outDir, { recursive: true });
    await writeAtomic(dataJson, `${JSON.stringify(data, null, 2)}\n`);
    await writeAtomic(indexHtml, renderSiteHtml(data));
  } catch (cause) {
    throw new LineageError(
      'SITE_WRITE_FAILED',
      `could not write the site to ${options.outDir}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  return { indexHtml, dataJson, data };
}
