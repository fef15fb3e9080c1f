// A self-contained HTML report: Vega, Vega-Lite and vega-embed are inlined so it opens offline.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { RunRecord } from '@flowprune/store';
import { accuracyChart, accuracyFlopsChart, accuracyLatencyChart, channelsChart, type VegaLiteSpec } from './charts.js';

const require = createRequire(import.meta.url);
/** The browser (UMD) builds, inlined; their packages' `exports` hide them, so resolve the folder. */
const LIBS: [string, string][] = [
  ['vega', 'build/vega.min.js'],
  ['vega-lite', 'build/vega-lite.min.js'],
  ['vega-embed', 'build/vega-embed.min.js'],
];

function packageFile(pkg: string, file: string): string {
  const entry = require.resolve(pkg);
  const marker = join('node_modules', pkg);
  return join(entry.slice(0, entry.lastIndexOf(marker) + marker.length), file);
}

export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** JSON inside <script>: never let data close the tag. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

function summaryRows(runs: RunRecord[]): string {
  const pct = (x: unknown) => (typeof x === 'number' ? `${(100 * x).toFixed(2)} %` : '—');
  const num = (x: unknown) => (typeof x === 'number' ? x.toLocaleString('en-US') : '—');
  return runs
    .map((r) => {
      const s = r.summary ?? {};
      return `<tr><td>${escapeHtml(r.id)}</td><td>${escapeHtml(r.status)}</td><td>${escapeHtml(r.model)}</td><td>${escapeHtml(r.measure ?? 'base')}</td><td>${r.pruneRatio ? `${Math.round(r.pruneRatio * 100)} %` : '—'}</td><td>${r.seed ?? '—'}</td><td>${pct(s.accuracyBeforePruning)}</td><td>${pct(s.accuracyAfterPruning)}</td><td>${pct(s.bestTestAccuracy)}</td><td>${num(s.flopsBefore)}</td><td>${num(s.flopsAfter)}</td><td>${escapeHtml(String(r.backend ?? '—'))}</td></tr>`;
    })
    .join('\n');
}

export function renderReport(runs: RunRecord[], title = 'flowprune report'): string {
  const charts: [string, VegaLiteSpec][] = [
    ['accuracy', accuracyChart(runs)],
    ['channels', channelsChart(runs)],
    ['accuracy-flops', accuracyFlopsChart(runs)],
    ['accuracy-latency', accuracyLatencyChart(runs)],
  ];
  const body = `<p>${runs.length} run(s); generated ${new Date().toISOString()}.</p>
<table><thead><tr><th>run</th><th>status</th><th>model</th><th>measure</th><th>pruned</th><th>seed</th><th>acc. before pruning</th><th>right after</th><th>best test acc.</th><th>FLOPs before</th><th>FLOPs after</th><th>backend</th></tr></thead>
<tbody>
${summaryRows(runs)}
</tbody></table>`;
  return renderPage(title, body, charts);
}

/** A page: a title, trusted body HTML, then the charts in order (each in its own section, with an optional caption). */
export function renderPage(title: string, bodyHtml: string, charts: [string, VegaLiteSpec, string?][]): string {
  const libs = LIBS.map(([pkg, file]) => `<script>${readFileSync(packageFile(pkg, file), 'utf8')}</script>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; font-family: monospace; }
section { margin: 2em 0; }
</style>
${libs}
</head><body>
<h1>${escapeHtml(title)}</h1>
${bodyHtml}
${charts.map(([id, , caption]) => `<section>${caption ? `<p>${escapeHtml(caption)}</p>` : ''}<div id="chart-${id}" class="chart"></div></section>`).join('\n')}
<script>
const charts = ${scriptJson(Object.fromEntries(charts.map(([id, spec]) => [id, spec])))};
// Each chart records that it drew (used by the report test in headless Chromium).
Promise.all(Object.entries(charts).map(([id, spec]) =>
  vegaEmbed('#chart-' + id, spec, { renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } })
    .then(() => document.getElementById('chart-' + id).setAttribute('data-rendered', 'true'))
    .catch((e) => { document.getElementById('chart-' + id).setAttribute('data-error', String(e)); })
)).then(() => document.body.setAttribute('data-charts-done', 'true'));
</script>
</body></html>
`;
}
