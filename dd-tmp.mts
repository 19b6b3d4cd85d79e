import { writeOrg, observeOrg, exchange, T0, errorLine } from './test/observe/helpers.js';
const recs = Array.from({ length: 40 }, (_, i) => exchange({ eni: 'eni-0web', src: '10.0.1.10', sport: 40000 + i, dst: `203.0.113.${i + 1}`, dport: 443, start: T0 + i * 60, flags: [2, 18] })).flat();
const root = await writeOrg({ logs: [{ name: 'a.log.gz', records: recs }] });
process.env.TMPDIR = '/tmp/ll/mnt';
try { await observeOrg(root); console.log('ok'); } catch (e) { console.log(errorLine(e).slice(0, 800)); }
