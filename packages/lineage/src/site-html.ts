import { SITE_SCRIPT, SITE_STYLE } from './site-assets.js';
import type { SiteData } from './site-data.js';

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

/**
 * JSON safe inside a `<script>` element: `<` is escaped, so no value (a model's SQL, a
 * failing-row sample) can close the element or open a comment.
 *
 * @example
 * scriptJson({ sql: '</script>' }); // '{"sql":"\\u003c/script>"}'
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * The whole site as one HTML document: style, data and script inline, nothing fetched. Pure.
 *
 * @example
 * await writeFile('target/docs/index.html', renderSiteHtml(buildSiteData({ manifest, runs })));
 */
export function renderSiteHtml(data: SiteData): string {
  const title = `${data.project} · dataflow lineage`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${SITE_STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(data.project)}</h1>
<nav role="tablist"><button id="tab-lineage" role="tab" aria-selected="true">Lineage</button><button id="tab-runs" role="tab" aria-selected="false">Runs (${data.runs.length})</button></nav>
<span class="meta">${data.nodes.length} nodes · generated ${escapeHtml(data.generatedAt)}</span>
</header>
<main>
<section id="view-lineage">
<div class="canvas">
<div class="toolbar">
<input id="search" type="search" placeholder="Search models, tables, tests…" autocomplete="off">
<button id="zoom-in" title="Zoom in">+</button><button id="zoom-out" title="Zoom out">−</button><button id="zoom-fit" title="Fit">Fit</button>
<span id="zoom-level">100%</span>
</div>
<div id="search-results"></div>
<svg id="graph" xmlns="http://www.w3.org/2000/svg"><g id="viewport"></g></svg>
</div>
<aside id="details"><p class="muted">Click a node, or search for one, to see its SQL, columns, tests and last runs.</p></aside>
</section>
<section id="view-runs" hidden>
<div class="runs">
<table id="runs-table"><thead><tr><th>run</th><th>command</th><th>status</th><th>started (UTC)</th><th>interval</th><th>duration</th><th>rows in</th><th>rows out</th><th>rejected</th></tr></thead><tbody></tbody></table>
</div>
<aside id="run-detail"><p class="muted">No runs recorded yet.</p></aside>
</section>
</main>
<script id="site-data" type="application/json">${scriptJson(data)}</script>
<script>${SITE_SCRIPT}</script>
</body>
</html>
`;
}
