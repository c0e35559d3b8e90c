// The site's stylesheet and script, inlined into index.html: the page must open from disk on a
// machine with no network, so nothing is loaded from elsewhere. Plain ES2017 (no template
// literals, so this file stays a plain string); data is only ever set as textContent.

/** The site's CSS. */
export const SITE_STYLE = `
*{box-sizing:border-box}
body{margin:0;font:13px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2328;background:#f6f8fa;height:100vh;display:flex;flex-direction:column}
header{display:flex;align-items:center;gap:16px;padding:8px 16px;background:#24292f;color:#fff}
header h1{font-size:15px;margin:0;font-weight:600}
header .meta{color:#8c959f;font-size:12px}
nav button{background:none;border:0;color:#d0d7de;padding:6px 10px;cursor:pointer;font:inherit;border-radius:6px}
nav button[aria-selected=true]{background:#57606a;color:#fff}
main{flex:1;display:flex;min-height:0}
section{flex:1;display:flex;min-width:0;min-height:0}
section[hidden]{display:none}
.canvas{flex:1;position:relative;min-width:0}
.toolbar{position:absolute;top:8px;left:8px;display:flex;gap:6px;align-items:flex-start;z-index:2}
.toolbar input{width:240px;padding:5px 8px;border:1px solid #d0d7de;border-radius:6px;font:inherit}
.toolbar button{padding:4px 9px;border:1px solid #d0d7de;border-radius:6px;background:#fff;cursor:pointer;font:inherit}
#zoom-level{padding:5px 4px;color:#57606a;min-width:42px}
#search-results{position:absolute;top:36px;left:8px;z-index:3;background:#fff;border:1px solid #d0d7de;border-radius:6px;max-height:300px;overflow:auto;min-width:240px}
#search-results:empty{display:none}
#search-results button{display:block;width:100%;text-align:left;border:0;background:none;padding:5px 8px;cursor:pointer;font:inherit}
#search-results button:hover{background:#f3f4f6}
svg#graph{width:100%;height:100%;display:block;cursor:grab;background:#fff}
svg#graph.panning{cursor:grabbing}
.edge{fill:none;stroke:#afb8c1;stroke-width:1.4}
.edge.hot{stroke:#0969da;stroke-width:2.2}
.node{cursor:pointer}
.node rect{stroke-width:1.5;rx:6}
.node text{font-size:12px;pointer-events:none}
.kind-lake rect{fill:#fff8c5;stroke:#bf8700}
.kind-source rect{fill:#ddf4ff;stroke:#0969da}
.kind-seed rect{fill:#ddf4ff;stroke:#54aeff}
.kind-model rect{fill:#dafbe1;stroke:#1a7f37}
.kind-snapshot rect{fill:#fbefff;stroke:#8250df}
.kind-test rect{fill:#f6f8fa;stroke:#8c959f}
.node.status-failed rect,.node.status-fail rect,.node.status-error rect{stroke:#cf222e;stroke-width:2.5}
.node.status-warn rect{stroke:#bf8700;stroke-width:2.5}
.node.dim{opacity:.25}
.node.match rect{stroke:#8250df;stroke-width:3}
.node.selected rect{stroke:#0969da;stroke-width:3.5}
aside{width:520px;border-left:1px solid #d0d7de;background:#fff;overflow:auto;padding:12px 16px}
aside h2{font-size:16px;margin:4px 0 8px;word-break:break-all}
aside h3{font-size:13px;margin:16px 0 6px;color:#57606a;text-transform:uppercase;letter-spacing:.04em}
.badge{display:inline-block;white-space:nowrap;overflow-wrap:normal;padding:1px 7px;border-radius:10px;font-size:11px;background:#eaeef2;margin-right:4px}
.s-success,.s-pass{background:#dafbe1;color:#1a7f37}
.s-failed,.s-fail,.s-error{background:#ffebe9;color:#cf222e}
.s-warn{background:#fff8c5;color:#9a6700}
.s-skipped,.s-aborted,.s-running{background:#eaeef2;color:#57606a}
table{border-collapse:collapse;width:100%;font-size:12px}
th,td{text-align:left;padding:3px 6px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{color:#57606a;font-weight:600}
td{overflow-wrap:anywhere}
td.num,td:first-child{white-space:nowrap}
#node-tests td:first-child{white-space:normal}
#view-runs aside{width:55%}
td.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f6f8fa;border:1px solid #eaeef2;border-radius:6px;padding:8px;overflow:auto;font-size:12px;max-height:360px;white-space:pre}
.runs{flex:1;overflow:auto;padding:12px 16px}
.runs tr.run{cursor:pointer}
.runs tr.run:hover,.runs tr.run.selected{background:#ddf4ff}
.bar{height:8px;background:#54aeff;border-radius:4px;min-width:2px}
.muted{color:#8c959f}
`;

/** The site's script: graph drawing, pan, zoom, search, details, run history. */
export const SITE_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('site-data').textContent);
  var SVG = 'http://www.w3.org/2000/svg';
  var W = data.layout.nodeWidth, H = data.layout.nodeHeight;
  var byId = {};
  data.nodes.forEach(function (n) { byId[n.id] = n; });
  var svg = document.getElementById('graph');
  var viewport = document.getElementById('viewport');
  var details = document.getElementById('details');
  var view = { x: 20, y: 60, k: 1 };
  var nodeEls = {};
  var edgeEls = [];
  var selected = null;

  function svgEl(tag, attrs, parent) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(e);
    return e;
  }
  function h(tag, props, children) {
    var e = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      if (k === 'text') e.textContent = props[k];
      else if (k === 'onclick') e.addEventListener('click', props[k]);
      else e.setAttribute(k, props[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function fmtMs(ms) {
    if (ms === null || ms === undefined) return '';
    return ms < 1000 ? ms + ' ms' : (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
  }
  function fmtN(n) { return n === null || n === undefined ? '' : Number(n).toLocaleString('en-US'); }
  function badge(status) { return h('span', { 'class': 'badge s-' + status, text: status }); }
  function table(headers, rows, id) {
    var t = h('table', id ? { id: id } : {});
    t.appendChild(h('thead', {}, [h('tr', {}, headers.map(function (x) { return h('th', { text: x }); }))]));
    var body = h('tbody');
    rows.forEach(function (r) {
      body.appendChild(h('tr', {}, r.map(function (c) {
        if (c && c.nodeType) return h('td', {}, [c]);
        return h('td', typeof c === 'number' ? { 'class': 'num', text: fmtN(c) } : { text: c === null || c === undefined ? '' : String(c) });
      })));
    });
    t.appendChild(body);
    return t;
  }

  // ---- graph
  var edgeLayer = svgEl('g', {}, viewport);
  var nodeLayer = svgEl('g', {}, viewport);
  data.edges.forEach(function (e) {
    var a = byId[e.from], b = byId[e.to];
    if (!a || !b) return;
    var x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
    var p = svgEl('path', { 'class': 'edge', d: 'M' + x1 + ',' + y1 + ' C' + mx + ',' + y1 + ' ' + mx + ',' + y2 + ' ' + x2 + ',' + y2 }, edgeLayer);
    p.dataset.from = e.from; p.dataset.to = e.to;
    edgeEls.push(p);
  });
  data.nodes.forEach(function (n) {
    var last = n.lastRuns[0];
    var g = svgEl('g', { 'class': 'node kind-' + n.kind + (last ? ' status-' + last.status : ''), transform: 'translate(' + n.x + ',' + n.y + ')' }, nodeLayer);
    g.dataset.id = n.id;
    svgEl('rect', { width: W, height: H, rx: 6 }, g);
    var label = n.kind === 'lake' ? n.name.replace(/^.*:\/\//, '') : n.name;
    if (label.length > 28) label = '…' + label.slice(label.length - 27);
    svgEl('text', { x: 10, y: H / 2 + 4 }, g).textContent = label;
    svgEl('title', {}, g).textContent = n.kind + ': ' + (n.relation || n.name);
    g.addEventListener('click', function (ev) { ev.stopPropagation(); select(n.id); });
    nodeEls[n.id] = g;
  });

  // ---- pan and zoom
  function apply() {
    viewport.setAttribute('transform', 'translate(' + view.x + ',' + view.y + ') scale(' + view.k + ')');
    document.getElementById('zoom-level').textContent = Math.round(view.k * 100) + '%';
    svg.dataset.zoom = view.k.toFixed(3);
  }
  function zoomAt(factor, cx, cy) {
    var k = Math.min(4, Math.max(0.1, view.k * factor));
    view.x = cx - (cx - view.x) * (k / view.k);
    view.y = cy - (cy - view.y) * (k / view.k);
    view.k = k;
    apply();
  }
  function center() { var r = svg.getBoundingClientRect(); return [r.width / 2, r.height / 2]; }
  function fit() {
    var r = svg.getBoundingClientRect();
    var maxX = 0, maxY = 0;
    data.nodes.forEach(function (n) { maxX = Math.max(maxX, n.x + W); maxY = Math.max(maxY, n.y + H); });
    var k = Math.min(1.5, (r.width - 40) / Math.max(maxX, 1), (r.height - 90) / Math.max(maxY, 1));
    view.k = Math.max(0.1, k); view.x = 20; view.y = 60;
    apply();
  }
  function focus(id) {
    var n = byId[id]; var c = center();
    view.x = c[0] - (n.x + W / 2) * view.k; view.y = c[1] - (n.y + H / 2) * view.k;
    apply();
  }
  svg.addEventListener('wheel', function (ev) {
    ev.preventDefault();
    var r = svg.getBoundingClientRect();
    zoomAt(ev.deltaY < 0 ? 1.1 : 1 / 1.1, ev.clientX - r.left, ev.clientY - r.top);
  }, { passive: false });
  document.getElementById('zoom-in').addEventListener('click', function () { var c = center(); zoomAt(1.25, c[0], c[1]); });
  document.getElementById('zoom-out').addEventListener('click', function () { var c = center(); zoomAt(0.8, c[0], c[1]); });
  document.getElementById('zoom-fit').addEventListener('click', fit);
  var drag = null;
  svg.addEventListener('pointerdown', function (ev) {
    if (ev.target.closest && ev.target.closest('.node')) return;
    drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y };
    svg.classList.add('panning');
  });
  window.addEventListener('pointermove', function (ev) {
    if (!drag) return;
    view.x = drag.vx + ev.clientX - drag.x; view.y = drag.vy + ev.clientY - drag.y;
    apply();
  });
  window.addEventListener('pointerup', function () { drag = null; svg.classList.remove('panning'); });

  // ---- search
  var search = document.getElementById('search');
  var results = document.getElementById('search-results');
  function matches(q) {
    return data.nodes.filter(function (n) {
      return n.name.toLowerCase().indexOf(q) >= 0 || (n.relation || '').toLowerCase().indexOf(q) >= 0;
    });
  }
  search.addEventListener('input', function () {
    var q = search.value.trim().toLowerCase();
    results.textContent = '';
    var found = q ? matches(q) : [];
    var hit = {};
    found.forEach(function (n) { hit[n.id] = true; });
    data.nodes.forEach(function (n) {
      nodeEls[n.id].classList.toggle('match', !!hit[n.id]);
      nodeEls[n.id].classList.toggle('dim', !!q && !hit[n.id]);
    });
    found.slice(0, 30).forEach(function (n) {
      results.appendChild(h('button', { 'data-id': n.id, onclick: function () { choose(n.id); } }, [n.name + ' ', h('span', { 'class': 'muted', text: n.kind })]));
    });
  });
  search.addEventListener('keydown', function (ev) {
    if (ev.key !== 'Enter') return;
    var q = search.value.trim().toLowerCase();
    var first = q && matches(q)[0];
    if (first) choose(first.id);
  });
  function choose(id) { results.textContent = ''; select(id); focus(id); }

  // ---- details
  function select(id) {
    var n = byId[id];
    if (!n) return;
    if (selected && nodeEls[selected]) nodeEls[selected].classList.remove('selected');
    selected = id;
    nodeEls[id].classList.add('selected');
    edgeEls.forEach(function (e) { e.classList.toggle('hot', e.dataset.from === id || e.dataset.to === id); });
    details.textContent = '';
    details.dataset.node = id;
    details.appendChild(h('h2', { id: 'node-name', text: n.name }));
    var meta = h('div', {}, [badge(n.kind)]);
    if (n.materialized) meta.appendChild(h('span', { 'class': 'badge', text: n.materialized }));
    if (n.lastRuns[0]) meta.appendChild(badge(n.lastRuns[0].status));
    details.appendChild(meta);
    if (n.relation && n.relation !== n.name) details.appendChild(h('p', { 'class': 'muted', id: 'node-relation', text: n.relation }));
    if (n.file) details.appendChild(h('p', { 'class': 'muted', text: n.file }));
    if (n.description) details.appendChild(h('p', { text: n.description }));
    details.appendChild(h('h3', { text: 'Columns' }));
    details.appendChild(n.columns.length ? table(['column', 'description'], n.columns.map(function (c) { return [c.name, c.description || '']; }), 'node-columns') : h('p', { 'class': 'muted', id: 'node-columns', text: 'no documented columns' }));
    details.appendChild(h('h3', { text: 'Tests' }));
    details.appendChild(n.tests.length ? table(['test', 'last'], n.tests.map(function (t) {
      var tn = byId[t]; var last = tn && tn.lastRuns[0];
      var link = h('a', { href: '#', text: tn ? tn.name : t, onclick: function (ev) { ev.preventDefault(); choose(t); } });
      return [link, last ? badge(last.status) : ''];
    }), 'node-tests') : h('p', { 'class': 'muted', id: 'node-tests', text: 'no tests' }));
    details.appendChild(h('h3', { text: 'Last runs' }));
    details.appendChild(n.lastRuns.length ? table(['run', 'partition', 'status', 'duration', 'rows in', 'rows out', n.kind === 'test' ? 'failures' : 'rejected'], n.lastRuns.map(function (r) {
      var link = h('a', { href: '#', text: r.runId, onclick: function (ev) { ev.preventDefault(); showTab('runs'); showRun(r.runId); } });
      return [link, r.partition || '', badge(r.status), fmtMs(r.durationMs), r.rowsIn, r.rowsOut, n.kind === 'test' ? r.failures : r.rowsRejected];
    }), 'node-runs') : h('p', { 'class': 'muted', id: 'node-runs', text: 'not run yet' }));
    if (n.sql) {
      details.appendChild(h('h3', { text: 'SQL' }));
      details.appendChild(h('pre', { id: 'node-sql', text: n.sql }));
    }
  }
  svg.addEventListener('click', function (ev) { if (ev.target === svg) results.textContent = ''; });

  // ---- run history
  var runsBody = document.querySelector('#runs-table tbody');
  var runDetail = document.getElementById('run-detail');
  data.runs.forEach(function (r) {
    var tr = h('tr', { 'class': 'run', 'data-run': r.runId }, [
      h('td', { text: r.runId }), h('td', { text: r.command }), h('td', {}, [badge(r.status)]),
      h('td', { text: r.startedAt.replace('T', ' ').slice(0, 19) }),
      h('td', { text: r.intervalStart ? r.intervalStart + (r.intervalEnd ? ' → ' + r.intervalEnd : '') : '' }),
      h('td', { 'class': 'num', text: fmtMs(r.durationMs) }), h('td', { 'class': 'num', text: fmtN(r.rowsIn) }),
      h('td', { 'class': 'num', text: fmtN(r.rowsOut) }), h('td', { 'class': 'num', text: fmtN(r.rowsRejected) })
    ]);
    tr.addEventListener('click', function () { showRun(r.runId); });
    runsBody.appendChild(tr);
  });
  function showRun(runId) {
    var r = data.runs.filter(function (x) { return x.runId === runId; })[0];
    if (!r) return;
    Array.prototype.forEach.call(runsBody.children, function (tr) { tr.classList.toggle('selected', tr.dataset.run === runId); });
    runDetail.textContent = '';
    runDetail.dataset.run = runId;
    runDetail.appendChild(h('h2', { text: r.command + ' ' + r.runId }));
    runDetail.appendChild(h('div', {}, [badge(r.status), h('span', { 'class': 'muted', text: ' exit ' + (r.exitCode === null || r.exitCode === undefined ? '?' : r.exitCode) + ' · ' + fmtMs(r.durationMs) })]));
    if (r.errorMessage) runDetail.appendChild(h('pre', { text: (r.errorCode ? r.errorCode + ': ' : '') + r.errorMessage }));
    var jobs = r.jobs.slice().sort(function (a, b) { return a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0; });
    var longest = Math.max.apply(null, jobs.map(function (j) { return j.durationMs || 0; }).concat([1]));
    runDetail.appendChild(h('h3', { text: 'Steps' }));
    runDetail.appendChild(table(['step', 'target', 'partition', 'status', 'duration', '', 'rows in', 'rows out', 'rejected'], jobs.map(function (j) {
      var bar = h('div', { 'class': 'bar', style: 'width:' + Math.round(100 * (j.durationMs || 0) / longest) + 'px' });
      return [j.step, j.target, j.partition || '', badge(j.status), fmtMs(j.durationMs), bar, j.rowsIn, j.rowsOut, j.rowsRejected];
    }), 'run-steps'));
    if (r.rowCounts.length) {
      runDetail.appendChild(h('h3', { text: 'Row counts' }));
      runDetail.appendChild(table(['dataset', 'partition', 'stage', 'rows'], r.rowCounts.map(function (c) { return [c.dataset, c.partition || '', c.stage, c.rows]; })));
    }
    runDetail.appendChild(h('h3', { text: 'Tests' }));
    if (!r.testResults.length) runDetail.appendChild(h('p', { 'class': 'muted', text: 'no tests in this run' }));
    var rank = { fail: 0, error: 0, warn: 1, pass: 2, skipped: 3 };
    r.testResults.slice().sort(function (a, b) { return rank[a.status] - rank[b.status]; }).forEach(function (t) {
      var box = h('div', { 'class': 'test-result', 'data-test': t.testName }, [
        h('p', {}, [badge(t.status), h('b', { text: t.testName }), h('span', { 'class': 'muted', text: ' ' + fmtN(t.failures) + ' failing row(s)' + (t.severity ? ' · severity ' + t.severity : '') + ' · ' + fmtMs(t.durationMs) })])
      ]);
      if (t.message) box.appendChild(h('p', { 'class': 'muted', text: t.message }));
      if (t.sample.length) {
        var cols = Object.keys(t.sample[0]);
        box.appendChild(table(cols, t.sample.map(function (row) { return cols.map(function (c) { var v = row[c]; return v === null ? 'null' : typeof v === 'object' ? JSON.stringify(v) : String(v); }); }), null));
        if (t.sampleTruncated) box.appendChild(h('p', { 'class': 'muted', text: 'sample truncated' }));
      }
      runDetail.appendChild(box);
    });
  }

  // ---- tabs
  function showTab(name) {
    ['lineage', 'runs'].forEach(function (t) {
      document.getElementById('tab-' + t).setAttribute('aria-selected', String(t === name));
      document.getElementById('view-' + t).hidden = t !== name;
    });
    if (name === 'lineage') apply();
  }
  document.getElementById('tab-lineage').addEventListener('click', function () { showTab('lineage'); });
  document.getElementById('tab-runs').addEventListener('click', function () { showTab('runs'); });

  fit();
  if (data.runs[0]) showRun(data.runs[0].runId);
  document.body.dataset.ready = 'true';
})();
`;
