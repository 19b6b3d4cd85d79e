/**
 * The report as ONE self-contained HTML page: inline CSS, inline SVG charts drawn here, no script, no font, no
 * request of any kind (a Content-Security-Policy of `default-src 'none'` says so to the browser). Charts: flows per
 * destination per day for each workload, hits per rule, anomalies on a timeline. Every number shown is the JSON
 * document's, and is also carried in a data- attribute so a test can compare. Deterministic: same document, same bytes.
 */
import { escapeHtml, pageStart, tile } from '../core/html.js';
import { addDays, epochOf } from '../core/dates.js';
import { protocolPort } from '../core/ports.js';
import { compareText } from '../core/text.js';
import { formatBytes, rulePorts, type DailyEgress, type ReportDocument, type ReportRule } from './report.js';

const PALETTE = ['#2f6db5', '#e07b28', '#3c9a4a', '#c23b3b', '#8a5cb8', '#8c6d3f', '#d45fa8', '#6f7a86', '#b5a21a', '#1aa3b5'];
const OTHER_COLOR = '#c8ccd2';
const WIDTH = 920;
/** Destinations drawn on their own per workload; the rest are summed as "other". */
const TOP_DESTINATIONS = 8;

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;margin:0;background:#f6f7f9}
main{max-width:960px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}h3{font-size:15px;margin:18px 0 6px}
.window{color:#555;margin:0 0 16px}
.tiles{display:flex;gap:12px;flex-wrap:wrap}
.tile{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:10px 14px;min-width:110px}
.tile b{display:block;font-size:22px}.tile span{color:#555}
.banner{background:#fdecea;border:1px solid #c23b3b;border-radius:6px;padding:10px 14px}
.tile.warn b{color:#c23b3b}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:12px 16px;margin-top:16px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eceef1;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
svg{display:block;max-width:100%;height:auto}
svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;fill:#1d2430}
svg .axis{fill:#666}svg .grid{stroke:#eceef1}
.muted{color:#666}
`;

const esc = escapeHtml;

function f(n: number): string {
  return (Math.round(n * 10) / 10).toFixed(1).replace(/\.0$/, '');
}

export function renderReportHtml(doc: ReportDocument): string {
  const s = doc.summary;
  const parts = [
    ...pageStart(`leastpath report: ${doc.environment}`, CSS),
    `<h1>leastpath report: ${esc(doc.environment)}</h1>`,
    ...(doc.window.noRecords
      ? [
          '<p class="banner" id="no-records" role="alert"><b>No flow-log records in this window.</b> No records is not no traffic: check the flow-log delivery. No rule is called unused.</p>',
        ]
      : []),
    `<p class="window" data-from="${doc.window.from}" data-to="${doc.window.to}">Counted: ${esc(doc.window.counted)}. Rules: ${esc(doc.rulesFrom === 'resolved' ? 'the resolved rules' : doc.rulesFrom)}.</p>`,
    '<div class="tiles" id="summary">',
    tile('hits', s.hits, 'hits counted'),
    tile('counted', s.counted, 'rules counted'),
    tile('unused', s.unused, 'unused rules', true),
    ...(s.noEvidence > 0 ? [tile('noEvidence', s.noEvidence, 'rules without evidence')] : []),
    tile('notCounted', s.notCounted, 'not counted'),
    tile('rejected', s.rejected, 'rejected destinations', true),
    tile('anomalies', s.anomalies, 'anomalies', true),
    ...(doc.rulesFrom === 'resolved' ? [] : [tile('outside', s.outside, 'rules outside leastpath', true)]),
    '</div>',
    anomalySection(doc),
    hitsSection(doc),
    flowsSection(doc),
    rejectedSection(doc),
    outsideSection(doc),
    '</main>',
    '</body>',
    '</html>',
  ];
  return `${parts.join('\n')}\n`;
}

// --- anomalies -----------------------------------------------------------------------------------------------

function anomalySection(doc: ReportDocument): string {
  const out = ['<section id="anomalies">', '<h2>Anomalies <span class="muted">(a triage list, not proof)</span></h2>'];
  if (doc.anomalies.length === 0) {
    out.push('<p>None.</p>', '</section>');
    return out.join('\n');
  }
  out.push(timeline(doc));
  out.push(
    '<table><thead><tr><th>kind</th><th>workload</th><th>destination</th><th>port</th><th class="n">flows</th><th class="n">bytes</th><th>why</th></tr></thead><tbody>',
  );
  for (const a of doc.anomalies) {
    out.push(
      `<tr class="anomaly" data-kind="${a.kind}" data-workload="${esc(a.workload)}" data-destination="${esc(a.destination)}" data-port="${a.port ?? ''}" data-flows="${a.flows}" data-bytes="${a.bytes}">` +
        `<td>${a.kind}</td><td>${esc(a.workload)}</td><td>${esc(a.destination)}</td><td>${esc(protocolPort(a))}</td>` +
        `<td class="n">${a.flows}</td><td class="n" title="${a.bytes} bytes">${esc(formatBytes(a.bytes))}</td><td>${esc(a.why)}</td></tr>`,
    );
  }
  out.push('</tbody></table>', '</section>');
  return out.join('\n');
}

function timeline(doc: ReportDocument): string {
  const left = 300;
  const right = 16;
  const row = 26;
  const top = 24;
  const days = doc.window.days;
  const from = epochOf(doc.window.from);
  const span = days * 86_400;
  const plot = WIDTH - left - right;
  const x = (epoch: number) => left + (Math.min(Math.max(epoch - from, 0), span) / span) * plot;
  const height = top + doc.anomalies.length * row + 8;
  const out = [
    `<svg id="timeline" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="anomalies on a timeline">`,
  ];
  for (let d = 0; d <= days; d++) {
    const xd = f(left + (d / days) * plot);
    out.push(`<line class="grid" x1="${xd}" y1="${top - 6}" x2="${xd}" y2="${height - 8}"/>`);
    if (d < days && (days <= 16 || d % Math.ceil(days / 14) === 0)) {
      out.push(
        `<text class="axis" x="${f(left + ((d + 0.5) / days) * plot)}" y="${top - 10}" text-anchor="middle">${addDays(doc.window.from, d).slice(5)}</text>`,
      );
    }
  }
  doc.anomalies.forEach((a, i) => {
    const y = top + i * row;
    const color = a.kind === 'volume' ? '#c23b3b' : '#8a5cb8';
    out.push(
      `<g class="anomaly-mark" data-kind="${a.kind}" data-workload="${esc(a.workload)}" data-destination="${esc(a.destination)}" data-from="${a.from}" data-to="${a.to}">`,
    );
    out.push(`<title>${esc(a.why)}</title>`);
    out.push(
      `<text x="${left - 8}" y="${y + 16}" text-anchor="end">${esc(`${a.workload} ${a.kind} ${a.destination} ${protocolPort(a)}`)}</text>`,
    );
    if (a.kind === 'beacon' && a.firstStart !== undefined && a.lastStart !== undefined) {
      const x1 = x(a.firstStart);
      const x2 = Math.max(x(a.lastStart), x1 + 2);
      out.push(`<rect x="${f(x1)}" y="${y + 6}" width="${f(x2 - x1)}" height="14" rx="3" fill="${color}" fill-opacity="0.75"/>`);
    } else {
      const d0 = epochOf(a.from);
      out.push(`<rect x="${f(x(d0))}" y="${y + 6}" width="${f(plot / days)}" height="14" rx="3" fill="${color}"/>`);
    }
    out.push('</g>');
  });
  out.push('</svg>');
  return out.join('\n');
}

// --- hits per rule -------------------------------------------------------------------------------------------

function hitsSection(doc: ReportDocument): string {
  const out = ['<section id="hits">', '<h2>Hits per rule</h2>'];
  if (doc.rules.length === 0) {
    out.push('<p>No rules.</p>', '</section>');
    return out.join('\n');
  }
  const noEvidence = new Set(doc.noEvidence);
  const left = 400;
  const right = 90;
  const row = 20;
  const top = 6;
  const max = Math.max(1, ...doc.rules.map((r) => r.hits ?? 0));
  const plot = WIDTH - left - right;
  const height = top + doc.rules.length * row + 6;
  out.push(
    `<svg id="hits-chart" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="hits per rule">`,
  );
  doc.rules.forEach((r, i) => {
    const y = top + i * row;
    out.push(
      `<g class="rule" data-index="${i}" data-group="${esc(r.group)}" data-direction="${r.direction}" data-peer="${esc(r.peer)}" data-ports="${esc(rulePorts(r))}" data-counted="${r.counted}" data-hits="${r.hits ?? ''}">`,
    );
    out.push(`<title>${esc(ruleTitle(r))}</title>`);
    out.push(
      `<text x="${left - 8}" y="${y + 14}" text-anchor="end">${esc(`${r.group} ${r.direction === 'ingress' ? '← ' : '→ '}${r.peer} ${rulePorts(r)}`)}</text>`,
    );
    if (!r.counted) {
      out.push(`<rect x="${left}" y="${y + 3}" width="${plot}" height="14" fill="#f0f1f3"/>`);
      out.push(`<text class="axis value" x="${left + 6}" y="${y + 14}">not counted</text>`);
    } else {
      const w = ((r.hits ?? 0) / max) * plot;
      // A rule of a workload whose interfaces logged nothing is no evidence of anything: grey, not red.
      const unused = r.hits === 0 && !noEvidence.has(r);
      const color = unused ? '#c23b3b' : '#2f6db5';
      if (w > 0) out.push(`<rect x="${left}" y="${y + 3}" width="${f(Math.max(w, 1))}" height="14" fill="${color}"/>`);
      out.push(
        `<text class="value" x="${f(left + Math.max(w, 0) + 6)}" y="${y + 14}"${unused ? ' fill="#c23b3b"' : ''}>${r.hits === 0 ? (unused ? '0 (unused)' : '0 (no evidence)') : r.hits}</text>`,
      );
    }
    out.push('</g>');
  });
  out.push('</svg>', '</section>');
  return out.join('\n');
}

function ruleTitle(r: ReportRule): string {
  const head = `${r.group} ${r.direction} ${r.peer} ${rulePorts(r)}`;
  if (!r.counted) return `${head}: not counted: ${r.notCounted ?? ''}`;
  return `${head}: ${r.hits} hits${r.lastHit ? `, last ${r.lastHit}` : ''}${r.why ? ` (${r.why})` : ''}`;
}

// --- flows per destination per day -----------------------------------------------------------------------------

interface Series {
  label: string;
  color: string;
  flows: number[];
  total: number;
}

function flowsSection(doc: ReportDocument): string {
  const out = [
    '<section id="flows">',
    '<h2>Flows per destination, per day</h2>',
    '<p class="muted">Records of connections each workload opened, by destination.</p>',
  ];
  const workloads = [...new Set(doc.daily.map((d) => d.workload))];
  if (workloads.length === 0) out.push('<p>No egress in the window.</p>');
  for (const w of workloads)
    out.push(
      workloadChart(
        doc,
        w,
        doc.daily.filter((d) => d.workload === w),
      ),
    );
  out.push('</section>');
  return out.join('\n');
}

function seriesOf(entries: readonly DailyEgress[], days: number): Series[] {
  const byDest = new Map<string, number[]>();
  for (const e of entries) {
    const label = `${e.destination} ${protocolPort(e)}`;
    const flows = byDest.get(label) ?? new Array<number>(days).fill(0);
    e.flows.forEach((n, i) => (flows[i] = flows[i]! + n));
    byDest.set(label, flows);
  }
  const all = [...byDest].map(([label, flows]) => ({ label, flows, total: flows.reduce((a, b) => a + b, 0) }));
  all.sort((a, b) => b.total - a.total || compareText(a.label, b.label));
  const top = all.slice(0, TOP_DESTINATIONS).map((s, i) => ({ ...s, color: PALETTE[i % PALETTE.length]! }));
  const rest = all.slice(TOP_DESTINATIONS);
  if (rest.length > 0) {
    const flows = new Array<number>(days).fill(0);
    for (const r of rest) r.flows.forEach((n, i) => (flows[i] = flows[i]! + n));
    top.push({ label: `${rest.length} other destinations`, color: OTHER_COLOR, flows, total: flows.reduce((a, b) => a + b, 0) });
  }
  return top;
}

function workloadChart(doc: ReportDocument, workload: string, entries: readonly DailyEgress[]): string {
  const days = doc.window.days;
  const series = seriesOf(entries, days);
  const perDay = Array.from({ length: days }, (_, d) => series.reduce((n, s) => n + s.flows[d]!, 0));
  const total = perDay.reduce((a, b) => a + b, 0);
  const left = 56;
  const right = 12;
  const top = 12;
  const plotH = 170;
  const legendRow = 18;
  const plot = WIDTH - left - right;
  const height = top + plotH + 24 + series.length * legendRow + 8;
  const max = niceMax(Math.max(1, ...perDay));
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const bw = plot / days;
  const out = [
    `<h3>${esc(workload)}</h3>`,
    `<svg class="flows-chart" data-workload="${esc(workload)}" data-total="${total}" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="flows per destination per day of ${esc(workload)}">`,
  ];
  for (const t of [0, 0.2, 0.4, 0.6, 0.8, 1]) {
    const yy = f(y(max * t));
    out.push(`<line class="grid" x1="${left}" y1="${yy}" x2="${WIDTH - right}" y2="${yy}"/>`);
    out.push(`<text class="axis" x="${left - 6}" y="${f(y(max * t) + 4)}" text-anchor="end">${Math.round(max * t)}</text>`);
  }
  for (let d = 0; d < days; d++) {
    const x = left + d * bw;
    let acc = 0;
    out.push(`<g class="day" data-day="${addDays(doc.window.from, d)}" data-flows="${perDay[d]}">`);
    out.push(`<title>${esc(`${addDays(doc.window.from, d)}: ${perDay[d]} flows`)}</title>`);
    for (const s of series) {
      const v = s.flows[d]!;
      if (v === 0) continue;
      out.push(`<rect x="${f(x + 2)}" y="${f(y(acc + v))}" width="${f(bw - 4)}" height="${f(y(acc) - y(acc + v))}" fill="${s.color}"/>`);
      acc += v;
    }
    out.push('</g>');
    if (days <= 16 || d % Math.ceil(days / 14) === 0) {
      out.push(
        `<text class="axis" x="${f(x + bw / 2)}" y="${top + plotH + 14}" text-anchor="middle">${addDays(doc.window.from, d).slice(5)}</text>`,
      );
    }
  }
  series.forEach((s, i) => {
    const yy = top + plotH + 24 + i * legendRow;
    out.push(`<g class="legend" data-destination="${esc(s.label)}" data-flows="${s.total}">`);
    out.push(`<rect x="${left}" y="${yy}" width="12" height="12" fill="${s.color}"/>`);
    out.push(`<text x="${left + 18}" y="${yy + 10}">${esc(s.label)}: ${s.total} flows</text>`);
    out.push('</g>');
  });
  out.push('</svg>');
  return out.join('\n');
}

/** A round axis maximum at or above `n` (1, 2, 2.5, 5 times a power of ten). */
function niceMax(n: number): number {
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

// --- rejected --------------------------------------------------------------------------------------------------

function rejectedSection(doc: ReportDocument): string {
  const out = ['<section id="rejected">', '<h2>Rejected: what the current rules stopped</h2>'];
  if (doc.rejected.length === 0) {
    out.push('<p>Nothing was rejected in the window.</p>', '</section>');
    return out.join('\n');
  }
  out.push(
    '<table><thead><tr><th>workload</th><th>destination</th><th>port</th><th class="n">flows</th><th>last seen</th></tr></thead><tbody>',
  );
  for (const r of doc.rejected) {
    out.push(
      `<tr class="rejected" data-workload="${esc(r.workload)}" data-destination="${esc(r.destination)}" data-flows="${r.flows}">` +
        `<td>${esc(r.workload)}</td><td>${esc(r.destination)}</td><td>${esc(protocolPort(r))}</td><td class="n">${r.flows}</td><td>${r.lastSeen}</td></tr>`,
    );
  }
  out.push('</tbody></table>', '</section>');
  return out.join('\n');
}

function outsideSection(doc: ReportDocument): string {
  if (doc.rulesFrom === 'resolved') return '';
  const out = ['<section id="outside">', '<h2>Rules outside leastpath on adopted groups</h2>'];
  if (doc.outside.length === 0) {
    out.push('<p>None: every egress rule of the adopted groups was written by leastpath.</p>', '</section>');
    return out.join('\n');
  }
  out.push('<p>The stack never removes these rules, so each group still allows what they allow. Revoke each once.</p>');
  out.push(
    '<table><thead><tr><th>group</th><th>rule</th><th>peer</th><th>ports</th><th class="n">hits</th><th>revoke</th></tr></thead><tbody>',
  );
  for (const r of doc.outside) {
    out.push(
      `<tr class="outside" data-group="${esc(r.outside!.groupId)}" data-rule="${esc(r.ruleId ?? '')}">` +
        `<td>${esc(r.group)} (${esc(r.outside!.groupId)})</td><td>${esc(r.ruleId ?? '-')}</td><td>${esc(r.peer)}</td><td>${esc(rulePorts(r))}</td>` +
        `<td class="n">${r.counted ? r.hits : 'not counted'}</td><td><code>${esc(r.outside!.revoke ?? '-')}</code></td></tr>`,
    );
  }
  out.push('</tbody></table>', '</section>');
  return out.join('\n');
}
