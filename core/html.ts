/**
 * The frame of leastpath's self-contained HTML pages (report and plan --format html): escaping, the head with a
 * Content-Security-Policy that forbids every request, and the summary tiles. Each page brings its own CSS and body.
 */

/** Only inline styles and data: images: the page makes no request of any kind. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** Text or a number as HTML text or attribute value. */
export function escapeHtml(s: string | number): string {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The lines from the doctype to `<main>`: the head (charset, CSP, viewport, title, the page's CSS) and the body's start. */
export function pageStart(title: string, css: string): string[] {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${css}</style>`,
    '</head>',
    '<body>',
    '<main>',
  ];
}

/** One summary tile: a number and its label, red when `warn` and the number is not 0 (`data-*` for tests and tools). */
export function tile(key: string, value: number, label: string, warn = false): string {
  return `<div class="tile${warn && value > 0 ? ' warn' : ''}" data-key="${key}" data-value="${value}"><b>${value}</b><span>${escapeHtml(label)}</span></div>`;
}
