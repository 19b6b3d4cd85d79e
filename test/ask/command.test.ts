import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';

async function run(args: string[]): Promise<{ code: number; out: string; err: string[] }> {
  let out = '';
  const err: string[] = [];
  const code = await main(args, { stdout: (t) => (out += t), stderr: (l) => err.push(l) }, { LEASTPATH_TODAY: '2026-11-23' });
  return { code, out, err };
}

describe('leastpath sql check', () => {
  it('prints the accepted SQL with its LIMIT and exits 0', async () => {
    expect(await run(['sql', 'check', "SELECT srcaddr FROM vpc_flow_logs WHERE day = '2026/01/02'"])).toEqual({
      code: 0,
      out: "SELECT srcaddr FROM vpc_flow_logs WHERE day = '2026/01/02' LIMIT 1000\n",
      err: [],
    });
  });

  it('says why on stderr and exits 1', async () => {
    expect(await run(['sql', 'check', "SELECT foo FROM vpc_flow_logs WHERE day = '2026/11/21'"])).toEqual({
      code: 1,
      out: '',
      err: ['refused: column "foo" is not in vpc_flow_logs'],
    });
  });

  it('exits 2 on usage errors', async () => {
    expect((await run(['sql', 'check'])).code).toBe(2);
    expect((await run(['sql', 'check', ' '])).code).toBe(2);
    expect((await run(['sql', 'check', 'SELECT 1', '--env', 'nope'])).code).toBe(2);
  });

  it("checks against an environment's table with --env", async () => {
    const r = await run(['sql', 'check', "SELECT srcaddr FROM vpc_flow_logs WHERE day = '2026/11/21'", '--env', 'dev']);
    expect(r.code).toBe(0);
  });
});
