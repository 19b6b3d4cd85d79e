/**
 * Reading a repository: policies/ and observed/ -> YAML with positions -> schema check -> normalised model.
 * All file IO of validation happens here; the checks themselves are pure (validate/), run by cli/load.ts.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, UsageError, ValidationFailed } from '../core/errors.js';
import { sortFindings, type Finding } from '../core/findings.js';
import { assertSafeName } from '../core/names.js';
import { compareText } from '../core/text.js';
import { parseYamlSource, type YamlSource } from '../core/yaml-source.js';
import { observedSource } from './read-observed.js';
import { checkSchema, type SchemaName } from './schema.js';
import { findingAtFile } from './positions.js';
import { didYouMean } from './suggest.js';
import {
  normaliseEnvironment,
  normaliseGuardrails,
  normaliseObserved,
  normalisePrefixLists,
  normaliseWorkload,
  type RawEnvironment,
  type RawGuardrails,
  type RawObserved,
  type RawPrefixLists,
  type RawWorkload,
} from './normalise.js';
import type { AskConfig, EnvironmentPolicies, ObservedFile, Repo, Sourced, WorkloadIntent } from './types.js';

export interface LoadResult {
  repo: Repo;
  /** Sorted findings of syntax and schema (validation's rules are cli/load.ts's). */
  findings: Finding[];
}

/** Files under policies/<env>/ that leastpath reads; another YAML file there is most likely a misnamed one. */
const ENV_FILES = new Set(['environment.yaml', 'prefix-lists.yaml']);

/** Steps one and two only (syntax, schema, normalise), without the semantic rules. */
export async function readRepo(root: string, opts: { env?: string } = {}): Promise<LoadResult> {
  const { env } = opts;
  // Checked before any path is built from it.
  if (env !== undefined) assertSafeName('environment', env);
  const policiesDir = join(root, 'policies');
  if (!(await isDirectory(policiesDir))) {
    throw new InputError(`no policies/ folder in ${root}: run leastpath from the repository root or pass --root DIR`);
  }
  const environmentNames = (await listEntries(policiesDir)).filter((e) => e.dir && !e.name.startsWith('.')).map((e) => e.name);
  // Nothing to validate, plan or synthesize would otherwise read as "valid" (and synth would write an empty manifest).
  if (environmentNames.length === 0) {
    throw new InputError('policies/ holds no environment: add policies/<env>/environment.yaml (see the example organisation)');
  }
  if (env !== undefined && !environmentNames.includes(env)) {
    throw new UsageError(`unknown environment ${JSON.stringify(env)}: policies/ holds ${environmentNames.join(', ')}`);
  }

  const findings: Finding[] = [];
  const guardrailsFile = await loadFile<RawGuardrails>(root, 'policies/guardrails.yaml', 'guardrails', findings, true);
  const askFile = await loadFile<AskConfig>(root, ASK_FILE, 'ask', findings, true);
  const selected = env !== undefined ? [env] : environmentNames;
  const loaded = await Promise.all(selected.map((name) => readEnvironment(root, name, findings)));

  const environments = new Map<string, EnvironmentPolicies>();
  for (const e of loaded) if (e) environments.set(e.name, e);
  // The promotion chain crosses environments: under --env, it is followed into the environments not loaded, whose
  // promoteFrom is read on its own (unvalidated), and only as far as the chain goes.
  const promoteFrom = new Map<string, string | null>([...environments].map(([name, e]) => [name, e.environment.value.promoteFrom]));
  for (const e of environments.values()) {
    let cur = e.environment.value.promoteFrom;
    while (cur !== null && !promoteFrom.has(cur) && environmentNames.includes(cur)) {
      const from = await peekPromoteFrom(root, cur);
      if (from === undefined) break;
      promoteFrom.set(cur, from);
      cur = from;
    }
  }
  const repo: Repo = {
    root,
    guardrails: normaliseGuardrails(guardrailsFile?.data),
    ...(guardrailsFile ? { guardrailsSource: guardrailsFile.source } : {}),
    ...(askFile ? { ask: askFile.data } : {}),
    environments,
    environmentNames,
    promoteFrom,
  };
  return { repo, findings: sortFindings(findings) };
}

/** `promoteFrom` of an environment that is not loaded; undefined when its environment.yaml does not say (or is broken). */
async function peekPromoteFrom(root: string, name: string): Promise<string | null | undefined> {
  const text = await readFile(join(root, 'policies', name, 'environment.yaml'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const doc = parseYamlSource(`policies/${name}/environment.yaml`, text).data as { promoteFrom?: unknown } | null;
    const from = doc?.promoteFrom;
    return typeof from === 'string' || from === null ? from : undefined;
  } catch {
    return undefined;
  }
}

export const ASK_FILE = 'policies/ask.yaml';

/**
 * policies/ask.yaml alone (for `sql check` without --env, which needs no other file): undefined when absent;
 * ValidationFailed, with positions, when it does not fit its schema.
 */
export async function readAskConfig(root: string): Promise<AskConfig | undefined> {
  const findings: Finding[] = [];
  const file = await loadFile<AskConfig>(root, ASK_FILE, 'ask', findings, true);
  if (findings.length > 0) throw new ValidationFailed(sortFindings(findings));
  return file?.data;
}

async function readEnvironment(root: string, name: string, findings: Finding[]): Promise<EnvironmentPolicies | undefined> {
  const dir = `policies/${name}`;
  const unloaded: string[] = [];
  const loadOptional = <T>(rel: string, schema: SchemaName) => loadFile<T>(root, rel, schema, findings, true, unloaded);

  const entries = await listEntries(join(root, dir));
  for (const e of entries) {
    if (!e.dir && /\.ya?ml$/.test(e.name) && !ENV_FILES.has(e.name)) {
      const hint = didYouMean(e.name, ENV_FILES);
      findings.push(
        findingAtFile(
          `${dir}/${e.name}`,
          'schema',
          `ignored: leastpath reads environment.yaml, prefix-lists.yaml and workloads/*.yaml here${hint}`,
          'warning',
        ),
      );
    }
  }

  const [envFile, prefixFile, workloadFiles, observedFiles] = await Promise.all([
    loadOptional<RawEnvironment>(`${dir}/environment.yaml`, 'environment'),
    loadOptional<RawPrefixLists>(`${dir}/prefix-lists.yaml`, 'prefix-lists'),
    loadFolder<RawWorkload>(root, `${dir}/workloads`, 'workload', findings, unloaded),
    loadFolder<RawObserved>(root, `observed/${name}`, 'observed', findings, unloaded),
  ]);

  if (!envFile) {
    if (!(await isFile(join(root, dir, 'environment.yaml')))) {
      findings.push(
        findingAtFile(
          `${dir}/environment.yaml`,
          'schema',
          `missing: every folder under policies/ is an environment and needs an environment.yaml`,
        ),
      );
    }
    return undefined;
  }

  const workloads = new Map<string, Sourced<WorkloadIntent>>();
  for (const [file, f] of workloadFiles) workloads.set(file, { value: normaliseWorkload(f.data), source: f.source });
  const observed = new Map<string, Sourced<ObservedFile>>();
  for (const [file, f] of observedFiles) observed.set(file, { value: normaliseObserved(f.data), source: f.source });

  return {
    name,
    environment: { value: normaliseEnvironment(envFile.data), source: envFile.source },
    prefixLists: prefixFile ? normalisePrefixLists(prefixFile.data) : {},
    ...(prefixFile ? { prefixListsSource: prefixFile.source } : {}),
    workloads,
    observed,
    unloaded: unloaded.sort(),
  };
}

interface LoadedFile<T> {
  source: YamlSource;
  data: T;
}

/**
 * Reads one YAML file and checks it against its schema. Undefined when it is absent (and optional) or has
 * errors; errors go to `findings` and the file to `unloaded`.
 */
async function loadFile<T>(
  root: string,
  rel: string,
  schema: SchemaName,
  findings: Finding[],
  optional: boolean,
  unloaded?: string[],
): Promise<LoadedFile<T> | undefined> {
  const text = await readText(root, rel, optional);
  if (text === undefined) return undefined;
  const source = schema === 'observed' ? observedSource(rel, text) : parseYamlSource(rel, text);
  const errors = source.errors.length > 0 ? source.errors : await checkSchema(source, schema);
  if (errors.length > 0) {
    findings.push(...errors);
    unloaded?.push(rel);
    return undefined;
  }
  return { source, data: source.data as T };
}

/** Every `*.yaml` of a folder (absent folder: none), keyed by file name without `.yaml`, sorted. */
async function loadFolder<T>(
  root: string,
  dirRel: string,
  schema: SchemaName,
  findings: Finding[],
  unloaded: string[],
): Promise<Map<string, LoadedFile<T>>> {
  const entries = await listEntries(join(root, dirRel));
  const names: string[] = [];
  for (const e of entries) {
    if (e.dir) {
      // Skipping it would drop the workload's rules or evidence without a word (a folder made by mistake, an unpacked archive).
      if (/\.ya?ml$/.test(e.name)) {
        findings.push(
          findingAtFile(
            `${dirRel}/${e.name}`,
            'schema',
            `is a folder, where leastpath reads a ${schema} file: move it away and put the YAML file in its place`,
          ),
        );
        unloaded.push(`${dirRel}/${e.name}`);
      }
      continue;
    }
    if (e.name.endsWith('.yaml')) names.push(e.name.slice(0, -'.yaml'.length));
    else if (e.name.endsWith('.yml')) {
      findings.push(
        findingAtFile(
          `${dirRel}/${e.name}`,
          'schema',
          `ignored: leastpath reads *.yaml files; rename it to ${e.name.slice(0, -4)}.yaml`,
          'warning',
        ),
      );
    }
  }
  const files = await Promise.all(names.map((n) => loadFile<T>(root, `${dirRel}/${n}.yaml`, schema, findings, false, unloaded)));
  const out = new Map<string, LoadedFile<T>>();
  names.forEach((n, i) => {
    const f = files[i];
    if (f) out.set(n, f);
  });
  return out;
}

interface Entry {
  name: string;
  dir: boolean;
}

/** Folder entries sorted by name (symbolic links followed); an absent folder has none. */
async function listEntries(absDir: string): Promise<Entry[]> {
  let dirents;
  try {
    dirents = await readdir(absDir, { withFileTypes: true });
  } catch (err) {
    if (isNotFound(err)) return [];
    throw new InputError(`cannot read folder ${absDir}: ${(err as Error).message}`);
  }
  const out = await Promise.all(
    dirents.map(async (d): Promise<Entry> => ({
      name: d.name,
      dir: d.isSymbolicLink() ? await isDirectory(join(absDir, d.name)) : d.isDirectory(),
    })),
  );
  return out.sort((a, b) => compareText(a.name, b.name));
}

async function readText(root: string, rel: string, optional: boolean): Promise<string | undefined> {
  try {
    return await readFile(join(root, rel), 'utf8');
  } catch (err) {
    if (optional && isNotFound(err)) return undefined;
    throw new InputError(`cannot read ${rel}: ${(err as Error).message}`, { file: rel });
  }
}

async function isDirectory(abs: string): Promise<boolean> {
  return (await stat(abs).catch(() => undefined))?.isDirectory() ?? false;
}

async function isFile(abs: string): Promise<boolean> {
  return (await stat(abs).catch(() => undefined))?.isFile() ?? false;
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
