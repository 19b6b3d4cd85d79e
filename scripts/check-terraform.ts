/**
 * Terraform checks what synth writes: synthesizes the repository (the bundled example by default) into a temp
 * folder and runs `terraform init -backend=false` and `terraform validate` on every stack, with the AWS provider
 * taken from a filesystem mirror (no registry is reached). Exit 0 when every stack is valid, 1 when one is not,
 * 2 when the check cannot run (no terraform, no mirror, synth failed).
 *
 * Usage: npm run check:terraform [-- --root DIR] [-- --keep]
 * Environment: LEASTPATH_TF_MIRROR (a folder holding registry.terraform.io/hashicorp/aws/<version>/<os_arch>/),
 * LEASTPATH_TERRAFORM (the binary: terraform or tofu; default terraform, else tofu, on the PATH),
 * LEASTPATH_TODAY (the date synth judges exceptions by; default 2026-11-23, inside the example's window).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { main as cli } from '../cli/main.js';

const run = promisify(execFile);

/** The provider every stack needs, as Terraform names it in a mirror's folder layout. */
export const AWS_PROVIDER_DIR = join('registry.terraform.io', 'hashicorp', 'aws');

/**
 * Where Terraform's own docs look for plugins without configuration ("implied local mirror directories"), and
 * `/opt`, where build images commonly unpack provider mirrors: each is tried as a mirror itself and one level down.
 */
export function mirrorCandidates(env: NodeJS.ProcessEnv): string[] {
  const dataDirs = (env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share').split(delimiter).filter(Boolean);
  return [
    join(homedir(), '.terraform.d', 'plugins'),
    join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'terraform', 'plugins'),
    ...dataDirs.map((d) => join(d, 'terraform', 'plugins')),
    '/opt',
  ];
}

/** The mirror: LEASTPATH_TF_MIRROR when set (it must hold hashicorp/aws), else the first candidate that does. */
export async function findMirror(env: NodeJS.ProcessEnv, candidates = mirrorCandidates(env)): Promise<string> {
  const given = env.LEASTPATH_TF_MIRROR;
  if (given) {
    if (!existsSync(join(given, AWS_PROVIDER_DIR)))
      throw new SetupError(`LEASTPATH_TF_MIRROR=${given} holds no ${AWS_PROVIDER_DIR}/<version>/ folder`);
    return resolve(given);
  }
  for (const c of candidates) {
    if (existsSync(join(c, AWS_PROVIDER_DIR))) return c;
    const children = await readdir(c, { withFileTypes: true }).catch(() => []);
    for (const d of children
      .filter((x) => x.isDirectory())
      .map((x) => x.name)
      .sort()) {
      if (existsSync(join(c, d, AWS_PROVIDER_DIR))) return join(c, d);
    }
  }
  throw new SetupError(
    `no filesystem mirror of hashicorp/aws found in ${candidates.join(', ')}: set LEASTPATH_TF_MIRROR to a folder holding ${AWS_PROVIDER_DIR}/<version>/<os_arch>/`,
  );
}

/** The versions of hashicorp/aws the mirror holds. */
export async function mirrorVersions(mirror: string): Promise<string[]> {
  return (await readdir(join(mirror, AWS_PROVIDER_DIR))).sort();
}

/** A CLI configuration that installs hashicorp/aws from the mirror only, and every other provider as usual. */
export function cliConfig(mirror: string): string {
  return [
    'provider_installation {',
    '  filesystem_mirror {',
    `    path    = ${JSON.stringify(mirror)}`,
    '    include = ["registry.terraform.io/hashicorp/aws"]',
    '  }',
    '  direct {',
    '    exclude = ["registry.terraform.io/hashicorp/aws"]',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The check cannot run: exit 2. */
export class SetupError extends Error {}

/** `LEASTPATH_TERRAFORM`, else `terraform`, else `tofu`, whichever answers `version`. */
export async function findTerraform(env: NodeJS.ProcessEnv): Promise<{ bin: string; version: string }> {
  const bins = env.LEASTPATH_TERRAFORM ? [env.LEASTPATH_TERRAFORM] : ['terraform', 'tofu'];
  for (const bin of bins) {
    const out = await run(bin, ['version'], { env: { ...env, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '' } }).catch(() => undefined);
    if (out) return { bin, version: out.stdout.split('\n')[0]!.trim() };
  }
  throw new SetupError(`neither ${bins.join(' nor ')} runs here: install Terraform (>= 1.10) or OpenTofu, or set LEASTPATH_TERRAFORM`);
}

export interface StackResult {
  stack: string;
  ok: boolean;
  /** What terraform printed when a step failed. */
  output: string;
}

/**
 * Runs init (no backend: the check must not touch state) and validate on each `stacks/<env>/cdk.tf.json` of
 * `outDir`, each in a folder of its own under `work`.
 */
export async function checkStacks(
  outDir: string,
  work: string,
  terraform: string,
  mirror: string,
  env: NodeJS.ProcessEnv,
): Promise<StackResult[]> {
  const config = join(work, 'terraform.rc');
  await mkdir(work, { recursive: true });
  await writeFile(config, cliConfig(mirror));
  // TF_PLUGIN_CACHE_DIR is cleared: a cache would make a provider the mirror lacks look present.
  const tfEnv = {
    ...env,
    TF_CLI_CONFIG_FILE: config,
    TF_PLUGIN_CACHE_DIR: '',
    TF_IN_AUTOMATION: '1',
    CHECKPOINT_DISABLE: '1',
    TF_INPUT: '0',
  };
  const results: StackResult[] = [];
  for (const stack of (await readdir(join(outDir, 'stacks'))).sort()) {
    const dir = join(work, stack);
    await mkdir(dir, { recursive: true });
    await cp(join(outDir, 'stacks', stack, 'cdk.tf.json'), join(dir, 'cdk.tf.json'));
    let output = '';
    let ok = true;
    for (const args of [
      ['init', '-backend=false', '-input=false', '-no-color'],
      ['validate', '-no-color'],
    ]) {
      const r = await run(terraform, args, { cwd: dir, env: tfEnv, maxBuffer: 64 * 1024 * 1024 }).then(
        () => undefined,
        (err: { stdout?: string; stderr?: string; message: string }) => `terraform ${args[0]}: ${err.stderr || err.stdout || err.message}`,
      );
      if (r !== undefined) {
        ok = false;
        output = r;
        break;
      }
    }
    results.push({ stack, ok, output });
  }
  return results;
}

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const rootIdx = argv.indexOf('--root');
  const root = resolve(rootIdx >= 0 && argv[rootIdx + 1] ? argv[rootIdx + 1]! : '.');
  const work = await mkdtemp(join(tmpdir(), 'leastpath-check-terraform-'));
  try {
    const { bin, version } = await findTerraform(env);
    const mirror = await findMirror(env);
    const out = join(work, 'out');
    const errors: string[] = [];
    const code = await cli(
      ['--root', root, 'synth', '--out', out],
      { stdout: () => undefined, stderr: (l) => errors.push(l) },
      { ...env, LEASTPATH_TODAY: env.LEASTPATH_TODAY ?? '2026-11-23' },
    );
    if (code !== 0) throw new SetupError(`synth failed (exit ${code}):\n${errors.join('\n')}`);
    const results = await checkStacks(out, join(work, 'tf'), bin, mirror, env);
    for (const r of results) {
      if (r.ok) console.log(`check:terraform: ${r.stack}: valid`);
      else console.error(`check:terraform: ${r.stack}: ${r.output.trim()}`);
    }
    const failed = results.filter((r) => !r.ok).length;
    console.log(
      `check:terraform: ${results.length - failed} of ${results.length} stacks valid (${version}; hashicorp/aws ${(await mirrorVersions(mirror)).join(', ')} from the filesystem mirror)`,
    );
    return failed === 0 && results.length > 0 ? 0 : 1;
  } catch (err) {
    console.error(`check:terraform: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  } finally {
    if (!argv.includes('--keep')) await rm(work, { recursive: true, force: true });
    else console.error(`check:terraform: kept ${work}`);
  }
}

// Run only as the script, not when a test imports the helpers.
if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  process.exitCode = await main(process.argv.slice(2), process.env);
}
