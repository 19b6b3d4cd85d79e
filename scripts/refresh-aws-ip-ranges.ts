/**
 * Refreshes the pinned copy of AWS's ip-ranges.json (observe/data/aws-ip-ranges.json): downloads it, keeps
 * the service-specific prefixes, and writes them sorted so a refresh shows as a readable diff.
 * Usage: npm run refresh:ip-ranges [-- --from FILE]   (FILE: an ip-ranges.json already downloaded)
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../core/atomic.js';
import { assetPath } from '../core/assets.js';
import { IP_RANGES_FILE, slimIpRanges, type IpRangesFile } from '../observe/aws-ranges.js';

const SOURCE = 'https://ip-ranges.amazonaws.com/ip-ranges.json';

async function main(): Promise<void> {
  const fromIdx = process.argv.indexOf('--from');
  const raw =
    fromIdx > 0 && process.argv[fromIdx + 1]
      ? await readFile(process.argv[fromIdx + 1]!, 'utf8')
      : await fetch(SOURCE).then((r) => {
          if (!r.ok) throw new Error(`${SOURCE}: HTTP ${r.status}`);
          return r.text();
        });
  const slim = slimIpRanges(JSON.parse(raw) as IpRangesFile);
  const changed = await writeFileAtomic(assetPath(IP_RANGES_FILE), `${JSON.stringify(slim, null, 1)}\n`);
  console.log(
    `${IP_RANGES_FILE}: ${slim.prefixes.length} IPv4 and ${slim.ipv6_prefixes.length} IPv6 prefixes (syncToken ${slim.syncToken})${changed ? '' : ', unchanged'}`,
  );
}

await main();
