/**
 * Headless Chromium for the tests of leastpath's self-contained HTML pages (report and plan --format html): the DOM after
 * loading, and every host it asked for through a counting proxy of its own on 127.0.0.1 (which answers none).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The Chromium binary: $CHROMIUM, or the first of the usual names on PATH. */
export function findChromium(): string {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    for (const name of ['chromium', 'chromium-browser', 'google-chrome']) if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error('chromium not found: install it (apt-get install -y chromium, as .ci/run does) or set CHROMIUM');
}

/** Chromium's own background calls, which some builds make despite the flags below; the browser's, not the page's. */
const BROWSER_OWN = /^(?:[a-z0-9-]+\.)*(?:google\.com|googleapis\.com|gstatic\.com|gvt1\.com)(?::\d+)?$/;

/** Loads `file` in headless Chromium (profile under `scratch`); returns the DOM and the hosts the page asked for. */
export async function dumpDom(file: string, scratch: string): Promise<{ dom: string; requests: string[] }> {
  const requests: string[] = [];
  const proxy: Server = createServer((socket) => {
    socket.once('data', (d) => {
      // `GET http://host/path HTTP/1.1` or `CONNECT host:443 HTTP/1.1`
      const target = d.toString('latin1').split(' ')[1] ?? '';
      const host = target.replace(/^[a-z]+:\/\//, '').split('/')[0]!;
      if (!BROWSER_OWN.test(host)) requests.push(host);
      socket.destroy();
    });
  });
  await new Promise<void>((done) => proxy.listen(0, '127.0.0.1', done));
  const port = (proxy.address() as { port: number }).port;
  const profile = await mkdtemp(join(scratch, 'profile-'));
  try {
    const { stdout } = await run(
      findChromium(),
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        `--user-data-dir=${profile}`,
        `--proxy-server=http://127.0.0.1:${port}`,
        '--proxy-bypass-list=<-loopback>',
        '--virtual-time-budget=2000',
        '--dump-dom',
        pathToFileURL(file).href,
      ],
      { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
    );
    return { dom: stdout, requests };
  } finally {
    await new Promise<void>((done) => proxy.close(() => done()));
  }
}

/** Attributes of every `<tag class="<cls>" ...>` start tag (cls is a regular expression), entities decoded. */
export function elements(dom: string, tag: string, cls: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const m of dom.matchAll(new RegExp(`<${tag} class="(${cls})"([^>]*)>`, 'g'))) {
    const attrs: Record<string, string> = { class: m[1]! };
    for (const a of m[2]!.matchAll(/([\w-]+)="([^"]*)"/g))
      attrs[a[1]!] = a[2]!
        .replace(/&quot;/g, '"')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&');
    out.push(attrs);
  }
  return out;
}
