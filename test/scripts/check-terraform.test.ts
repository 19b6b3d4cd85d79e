/** `npm run check:terraform`: the mirror is found or named, and Terraform itself refuses a stack it cannot apply. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_PROVIDER_DIR, checkStacks, cliConfig, findMirror, findTerraform } from '../../scripts/check-terraform.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'leastpath-check-tf-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('findMirror', () => {
  it('takes LEASTPATH_TF_MIRROR, and refuses one that holds no hashicorp/aws', async () => {
    const good = join(dir, 'given');
    await mkdir(join(good, AWS_PROVIDER_DIR, '5.100.0'), { recursive: true });
    expect(await findMirror({ LEASTPATH_TF_MIRROR: good }, [])).toBe(good);
    await expect(findMirror({ LEASTPATH_TF_MIRROR: join(dir, 'empty') }, [])).rejects.toThrow(
      /LEASTPATH_TF_MIRROR=.*empty holds no registry.terraform.io/,
    );
  });

  it('searches the candidates and one level below them, and says where it looked when none holds the provider', async () => {
    const base = join(dir, 'opt');
    await mkdir(join(base, 'other'), { recursive: true });
    await mkdir(join(base, 'tf-mirror', AWS_PROVIDER_DIR, '5.100.0'), { recursive: true });
    expect(await findMirror({}, [join(dir, 'nowhere'), base])).toBe(join(base, 'tf-mirror'));
    await expect(findMirror({}, [join(dir, 'nowhere')])).rejects.toThrow(
      /no filesystem mirror of hashicorp\/aws found in .*nowhere: set LEASTPATH_TF_MIRROR/,
    );
  });

  it('writes a CLI config that takes hashicorp/aws from the mirror only', () => {
    const text = cliConfig('/mirror');
    expect(text).toContain('filesystem_mirror {\n    path    = "/mirror"\n    include = ["registry.terraform.io/hashicorp/aws"]');
    expect(text).toContain('direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]');
  });
});

describe("checkStacks (real Terraform, provider from the machine's mirror)", () => {
  it("passes a valid stack and fails one with an argument the provider does not have, with Terraform's message", async () => {
    const { bin } = await findTerraform(process.env);
    const mirror = await findMirror(process.env);
    const out = join(dir, 'out');
    const stack = (group: Record<string, unknown>) =>
      JSON.stringify({
        terraform: { required_providers: { aws: { source: 'hashicorp/aws', version: '>= 5.100, < 7.0' } } },
        provider: { aws: [{ region: 'eu-west-1' }] },
        resource: { aws_security_group: { sg_web: { name: 'leastpath-dev-web', vpc_id: 'vpc-0123', ...group } } },
      });
    await mkdir(join(out, 'stacks', 'good'), { recursive: true });
    await mkdir(join(out, 'stacks', 'bad'), { recursive: true });
    await writeFile(join(out, 'stacks', 'good', 'cdk.tf.json'), stack({ revoke_rules_on_delete: true }));
    await writeFile(join(out, 'stacks', 'bad', 'cdk.tf.json'), stack({ revoke_rules_on_destroy: true }));
    const results = await checkStacks(out, join(dir, 'work'), bin, mirror, process.env);
    expect(results.map((r) => [r.stack, r.ok])).toEqual([
      ['bad', false],
      ['good', true],
    ]);
    expect(results[0]!.output).toMatch(/terraform validate: [\s\S]*revoke_rules_on_destroy/);
  }, 120_000);
});
