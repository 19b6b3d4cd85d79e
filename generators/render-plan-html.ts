/**
 * The plan as ONE self-contained HTML page for a reviewer, in the order a reviewer needs it: what the change would
 * break first (with names, the DNS what-if and the Network Firewall drops next to it), then the rule diff against
 * the committed baseline, the exceptions and their expiry, every rule with
 * a link to the line of its policy or observed file, and the quota. Inline CSS, no script, no request of any kind
 * (a Content-Security-Policy of `default-src 'none'`). Every number is the JSON plan's, also in a data- attribute so
 * a test can compare. Pure and deterministic: same plan and lines, same bytes.
 */
import { escapeHtml, pageStart, tile } from '../core/html.js';
import { protocolPort } from '../core/ports.js';
import { adoptedLine, breakLine, dnsLine, networkFirewallLine } from './render-plan.js';
import { planRulePorts, reviewWhy, type PlanDocument, type PlanRule } from './plan.js';

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;margin:0;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0 0 8px}
.meta{color:#555;margin:0 0 12px}
.headline{font-size:16px;font-weight:600;padding:10px 14px;border-radius:6px;margin:0 0 12px}
.headline.breaks{background:#fbeaea;border:1px solid #e3a5a5;color:#8d1f1f}
.headline.safe{background:#e9f5ec;border:1px solid #a9d5b3;color:#1f5f2e}
.tiles{display:flex;gap:12px;flex-wrap:wrap}
.tile{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:10px 14px;min-width:110px}
.tile b{display:block;font-size:22px}.tile span{color:#555}
.tile.warn b{color:#c23b3b}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:12px 16px;margin-top:16px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eceef1;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.added td:first-child{color:#1f7a36;font-weight:700}tr.removed td:first-child{color:#c23b3b;font-weight:700}
tr.removed td{color:#666}
tr.soon td{background:#fff6e0}
code{font-size:12px}
.muted{color:#666}
`;

const esc = escapeHtml;

/** `policies/dev/workloads/web.yaml egress[2]` -> its file and path. */
function splitSource(source: string): { file: string; path: string } {
  const at = source.lastIndexOf(' ');
  return at < 0 ? { file: source, path: '' } : { file: source.slice(0, at), path: source.slice(at + 1) };
}

/**
 * The rule's source as a link relative to the repository root (`policies/dev/workloads/web.yaml#L12`, GitHub's
 * line anchor), so the page opened from the root or from a checkout's blob view lands on the rule.
 */
function sourceCell(source: string, line: number | undefined): string {
  const { file, path } = splitSource(source);
  if (line === undefined) return `<td><code>${esc(file)}</code> <span class="muted">${esc(path)}</span></td>`;
  const href = `${encodeURI(file)}#L${line}`;
  return `<td><a class="source" href="${esc(href)}" data-file="${esc(file)}" data-line="${line}"><code>${esc(file)}:${line}</code></a> <span class="muted">${esc(path)}</span></td>`;
}

function ruleRow(cls: string, sign: string, r: PlanRule, line: number | undefined): string {
  const ex = r.exception ? ` <span class="muted">(exception: ${esc(r.exception.owner)}, expires ${esc(r.exception.expires)})</span>` : '';
  return (
    `<tr class="${cls}" data-workload="${esc(r.workload)}" data-destination="${esc(r.destination)}" data-ports="${esc(planRulePorts(r))}" data-flows="${r.flows ?? ''}">` +
    `${sign === '' ? '' : `<td>${sign}</td>`}<td>${esc(r.workload)}</td><td><code>${esc(r.destination)}</code></td><td>${esc(planRulePorts(r))}</td>` +
    `<td>${esc(r.provenance)}</td><td>${esc(reviewWhy(r))}${ex}</td><td class="n">${r.flows ?? ''}</td><td>${esc(r.lastSeen ?? '')}</td>` +
    `${sourceCell(r.source, line)}</tr>`
  );
}

const RULE_HEAD =
  '<th>workload</th><th>destination</th><th>ports</th><th>provenance</th><th>why</th><th class="n">flows</th><th>last seen</th><th>source</th>';

/**
 * Renders the plan. `lineOf` gives the line of a current rule's source (`file path`) in today's files; rules
 * removed against the baseline get no link, since their line is in the committed file, not today's.
 */
export function renderPlanHtml(p: PlanDocument, lineOf: (source: string) => number | undefined = () => undefined): string {
  const s = p.summary;
  const soon = p.exceptions.filter((e) => e.expiringSoon).length;
  const changes = p.changes;
  const parts = [
    ...pageStart(`leastpath plan: ${p.environment}`, CSS),
    `<h1>leastpath plan: ${esc(p.environment)} (${esc(p.mode)})</h1>`,
    `<p class="meta">account ${esc(p.account)}, ${esc(p.region)}, ${esc(p.vpc)}${p.mode === 'audit' ? '. Audit: plan and report only, the stack takes nothing over' : ''}.</p>`,
    `<p class="headline ${p.whatIf.denied.length > 0 ? 'breaks' : 'safe'}" id="headline">${esc(breakLine(p))}</p>`,
    '<div class="tiles" id="summary">',
    tile('breaksFlows', s.breaksFlows, 'flows it would break', true),
    tile('breaksWorkloads', s.breaksWorkloads, 'workloads affected', true),
    tile('rules', s.rules, `rules (${s.intent} intent, ${s.observed} observed)`),
    ...(changes.baseline === null
      ? []
      : [tile('added', changes.added.length, 'rules added'), tile('removed', changes.removed.length, 'rules removed')]),
    tile('exceptions', p.exceptions.length, 'exceptions'),
    tile('expiringSoon', soon, 'expiring soon', true),
    '</div>',
    breaksSection(p),
    dnsSection(p),
    networkFirewallSection(p),
    changesSection(p, lineOf),
    exceptionsSection(p, lineOf),
    rulesSection(p, lineOf),
    quotaSection(p),
    adoptedSection(p),
    otherSections(p),
    '</main>',
    '</body>',
    '</html>',
  ];
  return `${parts.filter((x) => x !== '').join('\n')}\n`;
}

function breaksSection(p: PlanDocument): string {
  if (p.whatIf.denied.length === 0) return '';
  const rows = p.whatIf.denied.map(
    (d) =>
      `<tr class="denied" data-workload="${esc(d.workload)}" data-destination="${esc(d.destination)}" data-port="${esc(protocolPort(d))}" data-flows="${d.flows}">` +
      `<td>${esc(d.workload)}</td><td><code>${esc(d.destination)}</code></td><td>${esc(protocolPort(d))}</td><td class="n">${d.flows}</td><td>${esc(d.lastSeen)}</td><td>${esc(d.reason)}</td></tr>`,
  );
  return [
    '<section id="breaks">',
    '<h2>What would break</h2>',
    '<p class="muted">Observed flows that no rule of the plan admits: enforced, these connections would be refused.</p>',
    '<table><thead><tr><th>workload</th><th>destination</th><th>port</th><th class="n">flows</th><th>last seen</th><th>why no rule</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table>',
    '</section>',
  ].join('\n');
}

/** A section with a title and a headline, then a table of `rows` when there are any. */
function headedTable(id: string, title: string, headline: string, head: string, rows: readonly string[]): string {
  const table = rows.length === 0 ? [] : [`<table><thead><tr>${head}</tr></thead><tbody>`, ...rows, '</tbody></table>'];
  return [`<section id="${id}">`, `<h2>${esc(title)}</h2>`, headline, ...table, '</section>'].join('\n');
}

/** The DNS what-if, next to what would break: names the window's queries asked for that the allowlist would not allow. */
function dnsSection(p: PlanDocument): string {
  const d = p.dnsWhatIf;
  if (!d) return '';
  const rows = d.blocked.map(
    (b) =>
      `<tr class="dns-blocked" data-workload="${esc(b.workload)}" data-name="${esc(b.name)}" data-queries="${b.queries}">` +
      `<td>${esc(b.workload)}</td><td><code>${esc(b.name)}</code></td><td class="n">${b.queries}</td></tr>`,
  );
  const headline = `<p id="dns-headline" data-blocked-queries="${d.blockedQueries}">${esc(dnsLine(d))}</p>`;
  return headedTable(
    'dns',
    'Names the DNS Firewall would not allow',
    headline,
    '<th>workload</th><th>name</th><th class="n">queries</th>',
    rows,
  );
}

/** What the Network Firewall's rule groups would drop of the window's connections, by name. */
function networkFirewallSection(p: PlanDocument): string {
  const nf = p.networkFirewall;
  if (!nf) return '';
  const rows = nf.dropped.map(
    (d) =>
      `<tr class="nf-dropped" data-workload="${esc(d.workload)}" data-destination="${esc(d.destination)}" data-port="tcp/${d.port}" data-flows="${d.flows}">` +
      `<td>${esc(d.workload)}</td><td><code>${esc(d.destination)}</code></td><td>tcp/${d.port}</td><td>${esc(d.names.join(', '))}</td><td class="n">${d.flows}</td></tr>`,
  );
  const headline = `<p id="network-firewall-headline">${esc(networkFirewallLine(nf))}</p>`;
  const head = '<th>workload</th><th>destination</th><th>port</th><th>names</th><th class="n">flows</th>';
  return headedTable('network-firewall', 'Network Firewall', headline, head, rows);
}

function changesSection(p: PlanDocument, lineOf: (source: string) => number | undefined): string {
  const c = p.changes;
  if (c.baseline === null)
    return '<section id="changes"><h2>Rule changes</h2><p class="muted">No committed baseline to compare with (no git HEAD, or the committed files do not resolve).</p></section>';
  const rows = [
    ...c.added.map((r) => ruleRow('added', '+', r, lineOf(r.source))),
    ...c.removed.map((r) => ruleRow('removed', '−', r, undefined)),
  ];
  return [
    '<section id="changes">',
    `<h2>Rule changes against ${esc(c.baseline)}: ${c.added.length} added, ${c.removed.length} removed</h2>`,
    ...(rows.length === 0
      ? ['<p class="muted">No rule changes.</p>']
      : [`<table><thead><tr><th></th>${RULE_HEAD}</tr></thead><tbody>`, ...rows, '</tbody></table>']),
    '</section>',
  ].join('\n');
}

function exceptionsSection(p: PlanDocument, lineOf: (source: string) => number | undefined): string {
  if (p.exceptions.length === 0) return '';
  const rows = p.exceptions.map(
    (e) =>
      `<tr class="exception${e.expiringSoon ? ' soon' : ''}" data-workload="${esc(e.workload)}" data-destination="${esc(e.destination)}" data-expires="${esc(e.expires)}" data-days-left="${e.daysLeft}">` +
      `<td>${esc(e.workload)}</td><td><code>${esc(e.destination)}</code></td><td>${esc(e.ports)}</td><td>${esc(e.reason)}</td><td>${esc(e.owner)}</td><td>${esc(e.ticket ?? '')}</td>` +
      `<td>${esc(e.expires)}</td><td class="n">${e.daysLeft}${e.expiringSoon ? ' (soon)' : ''}</td>${sourceCell(`${e.file} ${e.path}`, lineOf(`${e.file} ${e.path}`))}</tr>`,
  );
  return [
    '<section id="exceptions">',
    '<h2>Exceptions</h2>',
    '<table><thead><tr><th>workload</th><th>destination</th><th>ports</th><th>reason</th><th>owner</th><th>ticket</th><th>expires</th><th class="n">days left</th><th>source</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table>',
    '</section>',
  ].join('\n');
}

function rulesSection(p: PlanDocument, lineOf: (source: string) => number | undefined): string {
  return [
    '<section id="rules">',
    `<h2>Rules: ${p.summary.rules} for ${p.summary.workloads} workloads</h2>`,
    `<table><thead><tr>${RULE_HEAD}</tr></thead><tbody>`,
    ...p.rules.map((r) => ruleRow('rule', '', r, lineOf(r.source))),
    '</tbody></table>',
    '</section>',
  ].join('\n');
}

function quotaSection(p: PlanDocument): string {
  const rows = p.quota.map(
    (q) =>
      `<tr class="quota" data-workload="${esc(q.workload)}" data-used="${q.used}" data-limit="${q.limit}"><td>${esc(q.workload)}</td><td class="n">${q.used}</td><td class="n">${q.limit}</td><td class="n">${q.prefixListEntries}</td></tr>`,
  );
  const compaction = p.compaction.map(
    (c) =>
      `<li>${esc(c.workload)} ${esc(protocolPort(c))}: ${c.before} destinations merged into ${c.after} CIDRs, allowing ${esc(c.extraAddresses)} addresses never observed.</li>`,
  );
  return [
    '<section id="quota">',
    '<h2>Quota (rule units per security group)</h2>',
    '<table><thead><tr><th>security group</th><th class="n">used</th><th class="n">limit</th><th class="n">prefix-list entries</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table>',
    ...(compaction.length > 0 ? ['<h2>Compaction</h2>', '<ul>', ...compaction, '</ul>'] : []),
    '</section>',
  ].join('\n');
}

/** The names `observed: adopt` adopted instead of addresses (adoptNames). */
function adoptedSection(p: PlanDocument): string {
  if (!p.adoptedNames) return '';
  return [
    '<section id="adopted">',
    '<h2>Adopted by name</h2>',
    '<ul>',
    ...p.adoptedNames.map(
      (a) =>
        `<li class="adopted" data-workload="${esc(a.workload)}" data-name="${esc(a.name)}" data-addresses="${a.addresses.length}">${esc(adoptedLine(a))}</li>`,
    ),
    '</ul>',
    '</section>',
  ].join('\n');
}

function otherSections(p: PlanDocument): string {
  const out: string[] = [];
  if (p.endpoints.length > 0) {
    out.push('<section id="endpoints">', '<h2>VPC endpoints</h2>', '<ul>');
    for (const e of p.endpoints) out.push(`<li>${esc(e.service)} (${esc(e.type)}) for ${esc(e.workloads.join(', '))}</li>`);
    out.push('</ul>', '</section>');
  }
  if (p.quarantine.length > 0) {
    out.push('<section id="quarantine">', '<h2>Quarantine (NACL rules; a NACL change drops established connections at once)</h2>', '<ul>');
    for (const q of p.quarantine)
      out.push(
        `<li><code>${esc(q.networkAcl)}</code> #${q.ruleNumber} ${q.egress ? 'egress' : 'ingress'} ${esc(q.action)} <code>${esc(q.cidr)}</code> (${esc(q.subnet)}: ${esc(q.reason)})</li>`,
      );
    out.push('</ul>', '</section>');
  }
  const listed = p.notAdopted.filter((n) => n.reason === 'review' || n.reason === 'denied');
  if (listed.length > 0) {
    out.push('<section id="not-adopted">', '<h2>Observed but not adopted</h2>', '<ul>');
    for (const n of listed)
      out.push(
        `<li>${esc(n.workload)} <code>${esc(n.destination)}</code> ${esc(protocolPort(n))}: ${n.flows} flows (${esc(n.reason)}: ${esc(n.detail)})</li>`,
      );
    out.push('</ul>', '</section>');
  }
  return out.join('\n');
}
