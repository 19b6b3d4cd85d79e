/**
 * The import check: `npm run check:imports [-- ROOT]` (default the current folder). Reads the imports of every .ts
 * file outside node_modules, dist, test and hidden folders with the TypeScript parser (static, type-only, re-exports,
 * `import()` and `import('...')` types alike) and fails, as `file:line:col: specifier: message`, on an import cycle
 * (the cycle printed with the line of each step) and on an import that runs up the layer order below. Exit 0 when
 * the tree is clean, 1 on a finding, 2 when it cannot run.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/**
 * The layers, bottom first: a file may import its own folder and the folders of lower layers, never a higher one.
 * The stages follow the pipeline (a later stage may use an earlier one): observe writes the evidence the generators
 * read; validate checks what the generators would make of the policies (synth-ready resolves as plan does); stacks
 * renders the generators' model; verify replays and counts it; propose puts plans into pull requests; ask queries
 * observe's table. The CLI wires them all; the tools beside it (example generator, benchmarks, npm scripts, root
 * config) may use anything and nothing imports them.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  ['model'],
  ['observe'],
  ['generators'],
  ['validate'],
  ['stacks'],
  ['verify'],
  ['propose'],
  ['ask'],
  ['cli'],
  ['examples', 'bench', 'scripts', '.'],
];

/** Folders that hold no code of leastpath's own layers. */
const SKIPPED = new Set(['node_modules', 'dist', 'test', 'cdktf.out', 'coverage']);

/** One import of one file: where it is written and the file of the tree it names. */
export interface ImportEdge {
  /** Importing file, relative to the root, with `/`. */
  from: string;
  /** Imported file, relative to the root, with `/`. */
  to: string;
  specifier: string;
  line: number;
  col: number;
}

export interface ImportFinding {
  kind: 'cycle' | 'upward' | 'no-layer';
  file: string;
  line: number;
  col: number;
  /** The import's specifier as written (or the folder, for a folder without a layer). */
  path: string;
  message: string;
}

/** Every checked .ts file under `root`, relative with `/`, sorted. */
export async function sourceFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const e of await readdir(join(root, dir), { withFileTypes: true })) {
      const rel = dir === '' ? e.name : `${dir}/${e.name}`;
      // A symlinked folder (node_modules in a worktree) is no directory entry here, so it is never followed.
      if (e.isDirectory()) {
        if (!e.name.startsWith('.') && !SKIPPED.has(e.name)) await walk(rel);
      } else if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
        out.push(rel);
      }
    }
  }
  await walk('');
  return out.sort();
}

/** The imports of each file that name another checked file (package imports and other files are left out). */
export async function readImports(root: string, files: readonly string[]): Promise<ImportEdge[]> {
  const known = new Set(files);
  const edges: ImportEdge[] = [];
  for (const from of files) {
    const text = await readFile(join(root, from), 'utf8');
    const sf = ts.createSourceFile(from, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    for (const spec of specifiers(sf)) {
      const to = resolveSpecifier(from, spec.text, known);
      if (to === undefined) continue;
      const pos = sf.getLineAndCharacterOfPosition(spec.getStart(sf));
      edges.push({ from, to, specifier: spec.text, line: pos.line + 1, col: pos.character + 1 });
    }
  }
  return edges;
}

/** The module specifiers of a file, in text order: every form that makes the file depend on another. */
function specifiers(sf: ts.SourceFile): ts.StringLiteralLike[] {
  const out: ts.StringLiteralLike[] = [];
  function visit(node: ts.Node): void {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteralLike(node.moduleSpecifier)
    ) {
      out.push(node.moduleSpecifier);
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteralLike(node.moduleReference.expression)
    ) {
      out.push(node.moduleReference.expression);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      out.push(node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteralLike(node.argument.literal)) {
      out.push(node.argument.literal);
    }
    ts.forEachChild(node, visit);
  }
  visit(sf);
  return out;
}

/** The checked file a relative specifier names (`./x.js` is `./x.ts` under NodeNext), if any. */
function resolveSpecifier(from: string, spec: string, known: ReadonlySet<string>): string | undefined {
  if (!/^\.\.?(\/|$)/.test(spec)) return undefined;
  const base = join(dirname(from), spec).split(sep).join('/');
  const candidates = [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, `${base}/index.ts`];
  return candidates.find((c) => known.has(c));
}

/** The folder that decides a file's layer: its first path segment, `.` for a file at the root. */
function folderOf(file: string): string {
  const i = file.indexOf('/');
  return i < 0 ? '.' : file.slice(0, i);
}

function layerOf(folder: string): number | undefined {
  const i = LAYERS.findIndex((l) => l.includes(folder));
  return i < 0 ? undefined : i;
}

/** Folders without a layer, and imports from a lower layer to a higher one. */
export function upwardImports(files: readonly string[], edges: readonly ImportEdge[]): ImportFinding[] {
  const out: ImportFinding[] = [];
  const unplaced = new Set<string>();
  for (const file of files) {
    const folder = folderOf(file);
    if (layerOf(folder) !== undefined || unplaced.has(folder)) continue;
    unplaced.add(folder);
    out.push({
      kind: 'no-layer',
      file,
      line: 1,
      col: 1,
      path: folder,
      message: `folder ${folder}/ has no layer: add it to LAYERS in scripts/check-imports.ts and docs/ARCHITECTURE.md`,
    });
  }
  for (const e of edges) {
    const [fromFolder, toFolder] = [folderOf(e.from), folderOf(e.to)];
    const [from, to] = [layerOf(fromFolder), layerOf(toFolder)];
    if (from === undefined || to === undefined || to <= from) continue;
    out.push({
      kind: 'upward',
      ...at(e),
      message: `upward import: ${shown(fromFolder)} (layer ${from + 1}) may not import ${e.to} (${shown(toFolder)}, layer ${to + 1})`,
    });
  }
  return out;
}

/** The layer order as one line, bottom first. */
export function layerNames(): string {
  return LAYERS.map((l) => l.map(shown).join(' ')).join(' < ');
}

function shown(folder: string): string {
  return folder === '.' ? 'root files' : `${folder}/`;
}

function at(e: ImportEdge): Pick<ImportFinding, 'file' | 'line' | 'col' | 'path'> {
  return { file: e.from, line: e.line, col: e.col, path: e.specifier };
}

/**
 * One finding per circle of files that import each other (a strongly connected component, Tarjan's algorithm):
 * the shortest cycle through its first file, printed step by step with each import's line.
 */
export function importCycles(files: readonly string[], edges: readonly ImportEdge[]): ImportFinding[] {
  const out = new Map<string, ImportEdge[]>(files.map((f) => [f, []]));
  for (const e of edges) out.get(e.from)!.push(e);
  const findings: ImportFinding[] = [];
  for (const component of stronglyConnected(files, out)) {
    const members = new Set(component);
    const start = component[0]!;
    const cycle = shortestCycle(start, members, out);
    if (!cycle) continue;
    const steps = cycle.map((e) => `${e.from}:${e.line}`).join(' -> ');
    const more = component.length > cycle.length ? ` (${component.length} files tied in this circle: ${component.join(', ')})` : '';
    findings.push({ kind: 'cycle', ...at(cycle[0]!), message: `import cycle: ${steps} -> ${start}${more}` });
  }
  return findings;
}

/** Components of more than one file, or of a file that imports itself; each sorted, in order of their first file. */
function stronglyConnected(files: readonly string[], out: ReadonlyMap<string, ImportEdge[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  // Iterative, so a long chain of imports cannot overflow the call stack.
  for (const root of files) {
    if (index.has(root)) continue;
    const work: { file: string; i: number }[] = [{ file: root, i: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const edges = out.get(top.file)!;
      if (top.i < edges.length) {
        const to = edges[top.i++]!.to;
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          work.push({ file: to, i: 0 });
        } else if (onStack.has(to)) {
          low.set(top.file, Math.min(low.get(top.file)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.file, Math.min(low.get(parent.file)!, low.get(top.file)!));
      if (low.get(top.file) !== index.get(top.file)) continue;
      const component: string[] = [];
      let f: string;
      do {
        f = stack.pop()!;
        onStack.delete(f);
        component.push(f);
      } while (f !== top.file);
      const selfImport = edges.some((e) => e.to === top.file);
      if (component.length > 1 || selfImport) components.push(component.sort());
    }
  }
  return components.sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
}

/** The imports of the shortest way from `start` back to it inside one component (breadth first, text order). */
function shortestCycle(start: string, members: ReadonlySet<string>, out: ReadonlyMap<string, ImportEdge[]>): ImportEdge[] | undefined {
  const via = new Map<string, ImportEdge>();
  const queue = [start];
  for (let q = 0; q < queue.length; q++) {
    for (const e of out.get(queue[q]!)!) {
      if (!members.has(e.to)) continue;
      if (e.to === start) {
        const path = [e];
        for (let f = e.from; f !== start; f = via.get(f)!.from) path.unshift(via.get(f)!);
        return path;
      }
      if (via.has(e.to)) continue;
      via.set(e.to, e);
      queue.push(e.to);
    }
  }
  return undefined;
}

/** Every finding of the tree at `root`: cycles first, then folders without a layer and upward imports. */
export async function checkImports(root: string): Promise<{ files: number; findings: ImportFinding[] }> {
  const files = await sourceFiles(root);
  const edges = await readImports(root, files);
  return { files: files.length, findings: [...importCycles(files, edges), ...upwardImports(files, edges)] };
}

async function main(args: string[]): Promise<number> {
  const root = args[0] ?? '.';
  if (
    args.length > 1 ||
    !(await stat(root).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  ) {
    console.error(`check:imports: expected one folder to check, got ${args.map((a) => JSON.stringify(a)).join(' ')}`);
    return 2;
  }
  const { files, findings } = await checkImports(root);
  for (const f of findings) console.error(`${relative('.', join(root, f.file))}:${f.line}:${f.col}: ${f.path}: ${f.message}`);
  if (findings.some((f) => f.kind === 'upward')) console.error(`layers, bottom up: ${layerNames()}`);
  console.log(`check:imports: ${files} file(s), ${findings.length} finding(s)`);
  return findings.length === 0 ? 0 : 1;
}

// Run only as the script, not when a test imports the helpers.
if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  process.exitCode = await main(process.argv.slice(2));
}
