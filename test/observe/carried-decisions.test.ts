/**
 * Issue 14, case 2, through the real CLI: a long-lived connection opened before the scan. Its handshake (SYN /
 * SYN-ACK) is days old; after each 30-minute idle gap the server's keep-alive record starts a second before the
 * client's. AWS logs `start` up to 60 s late, so that order decides nothing; the decision tcp-flags made while the
 * handshake was in the window is carried forward with the evidence (openConnections).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../validate/org.js';
import { at, exchange, writeOrg, type Rec } from './helpers.js';

const WEB = '10.0.1.10';
const SERVER = '198.51.100.50';

/**
 * The connection web opened at `opened` to SERVER:`dport` from `sport`, kept open to the end of 2026-11-21: the
 * handshake, then a keep-alive every 30 minutes in which the server's record starts one second before web's.
 */
function longConnection(sport: number, dport: number, opened: number, closeAt?: number): Rec[] {
  const base = { eni: 'eni-0web', src: WEB, sport, dst: SERVER, dport };
  const records = exchange({ ...base, start: opened, flags: [2, 18] });
  const end = at('2026-11-22T00:00:00Z');
  for (let t = opened + 1800; t < end; t += 1800) {
    const last = closeAt !== undefined && t >= closeAt;
    records.push(...exchange({ ...base, start: t + 1, replyStart: t, flags: last ? [1, 1] : [0, 0] }));
    if (last) break;
  }
  return records;
}

async function observeTo(root: string, to: string) {
  const run = await runCli(['--root', root, 'observe', '--env', 'dev', '--to', to]);
  expect(run.code, run.stderr.join('\n')).toBe(0);
  return readFile(join(root, 'observed/dev/web.yaml'), 'utf8');
}

/** The egress entry of `observed` to SERVER (its lines), or '' when there is none. */
function entryTo(observed: string, port: number): string {
  const blocks = observed.split('\n  - ').filter((b) => b.startsWith(`destination: ${SERVER}/32`));
  return blocks.find((b) => b.includes(`port: ${port}\n`)) ?? '';
}

describe('a long-lived connection opened days before the window', () => {
  it('the documented case (tcp/6379, handshake four days before the window): the client keeps its egress', async () => {
    // 2026-11-03T10:15: the scan (from 2026-11-07) starts with keep-alives, 15 minutes after its first second
    const root = await writeOrg({
      minCoverage: 0,
      logs: [{ name: 'a.log', records: longConnection(41234, 6379, at('2026-11-03T10:15:00Z')) }],
    });
    const observed = await observeTo(root, '2026-11-21');
    const entry = entryTo(observed, 6379);
    expect(entry, observed).toContain('protocol: tcp\n    port: 6379');
    expect(entry).toContain('firstSeen: 2026-11-08');
    expect(entry).toContain('lastSeen: 2026-11-21');
    // not by the order of the starts, a second apart (inside AWS's 60 s): by the registered port
    expect(entry).toContain('decidedBy: well-known-port');
    // and plan says the rule is there: nothing observed breaks
    const plan = await runCli(['--root', root, 'plan', '--env', 'dev', '--format', 'json']);
    expect(plan.code, plan.stderr.join('\n')).toBe(0);
    const doc = JSON.parse(plan.stdout) as { rules: { destination: string; ports: string }[] };
    expect(doc.rules.map((r) => `${r.destination} ${r.ports}`)).toContain(`${SERVER}/32 6379`);
  });

  it('on ports that say nothing (web:41000 -> 52000), the decision tcp-flags made in an earlier window is carried forward', async () => {
    const root = await writeOrg({
      minCoverage: 0,
      logs: [{ name: 'a.log', records: longConnection(41000, 52000, at('2026-11-03T10:15:00Z')) }],
    });
    // the nightly run of 2026-11-10 saw the handshake: tcp-flags decided, and the connection is still open
    const first = await observeTo(root, '2026-11-10');
    expect(entryTo(first, 52000)).toContain('decidedBy: tcp-flags');
    expect(first).toContain(`openConnections:\n  - { client: ${WEB}, clientPort: 41000, server: ${SERVER}, serverPort: 52000 }\n`);
    // eleven days later the handshake is out of the scan; the decision stands, and the new window's flows count
    const later = await observeTo(root, '2026-11-21');
    const entry = entryTo(later, 52000);
    expect(entry, later).toContain('firstSeen: 2026-11-08');
    expect(entry).toContain('lastSeen: 2026-11-21');
    expect(entry).toContain(`flows: ${14 * 48}`);
    expect(entry).toContain('decidedBy: tcp-flags');
    expect(later).toContain(`openConnections:\n  - { client: ${WEB}, clientPort: 41000, server: ${SERVER}, serverPort: 52000 }\n`);
    // the server's port is never an egress of web's ephemeral one
    expect(later).not.toContain('port: 41000');
  });

  it('a connection closed (FIN) is not carried: its decision has nothing left to decide', async () => {
    const root = await writeOrg({
      minCoverage: 0,
      logs: [{ name: 'a.log', records: longConnection(41000, 52000, at('2026-11-03T10:15:00Z'), at('2026-11-06T12:00:00Z')) }],
    });
    const first = await observeTo(root, '2026-11-10');
    expect(entryTo(first, 52000)).toContain('decidedBy: tcp-flags');
    expect(first).not.toContain('openConnections');
  });
});
