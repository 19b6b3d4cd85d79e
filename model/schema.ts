/**
 * Step one of validation: each file against its JSON Schema (schemas/*.schema.json, ajv, draft 2020-12).
 * ajv's errors become findings that name the key or value at fault and say what was expected.
 */
import { readFile } from 'node:fs/promises';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Finding } from '../core/findings.js';
import { assetPath } from '../core/assets.js';
import { findingAt, pointerToPath, type PathSegment, type YamlSource } from '../core/yaml-source.js';
import { findingAtKey } from './positions.js';
import { didYouMean } from './suggest.js';
import { isScalar } from 'yaml';

export type SchemaName = 'environment' | 'workload' | 'prefix-lists' | 'guardrails' | 'observed' | 'ask';

const SCHEMAS: readonly SchemaName[] = ['environment', 'workload', 'prefix-lists', 'guardrails', 'observed', 'ask'];
const RULE = 'schema';

/** Hints for required keys whose absence has one usual cause. */
const REQUIRED_HINTS: Record<string, string> = {
  ports: ': only a `service` rule may leave ports out (it gets tcp/443)',
  account: ': the 12-digit AWS account id, in quotes',
  egress: ': write `egress: []` for a workload that may reach nothing',
  policyName: ' (or policyArn): the firewall policy the rule groups are for',
};

let validators: Promise<Map<SchemaName, ValidateFunction>> | undefined;

/** Checks a parsed file against a schema; no findings means the data has the shape the normaliser expects. */
export async function checkSchema(src: YamlSource, schema: SchemaName): Promise<Finding[]> {
  const validate = (await loadValidators()).get(schema)!;
  if (validate(src.data)) return [];
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const err of validate.errors ?? []) {
    const f = toFinding(src, err);
    if (!f) continue;
    const key = `${f.path}\0${f.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f);
  }
  return out;
}

function loadValidators(): Promise<Map<SchemaName, ValidateFunction>> {
  validators ??= compileAll();
  return validators;
}

async function compileAll(): Promise<Map<SchemaName, ValidateFunction>> {
  // verbose: errors carry the failing schema, whose `description` says what was expected.
  const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addSchema(await readSchema('common'));
  for (const name of SCHEMAS) ajv.addSchema(await readSchema(name));
  const out = new Map<SchemaName, ValidateFunction>();
  for (const name of SCHEMAS) out.set(name, ajv.getSchema(`${name}.schema.json`)!);
  return out;
}

async function readSchema(name: string): Promise<object> {
  return JSON.parse(await readFile(assetPath(`schemas/${name}.schema.json`), 'utf8')) as object;
}

function addFormats(ajv: Ajv2020): void {
  // ajv-formats is CommonJS; under Node's ESM interop the plugin is the module itself or its `default`.
  const mod = addFormatsModule as unknown as { default?: typeof addFormatsModule };
  const plugin = (typeof mod === 'function' ? mod : mod.default) as unknown as (a: Ajv2020, formats: string[]) => void;
  plugin(ajv, ['date']);
}

function toFinding(src: YamlSource, err: ErrorObject): Finding | undefined {
  // `if` only says that `then`/`else` failed; that failure is reported on its own.
  if (err.keyword === 'if') return undefined;
  const path = pointerToPath(err.instancePath, src.data);
  const schema = (err.parentSchema ?? {}) as { description?: string; properties?: Record<string, unknown> };
  const expected = schema.description;
  switch (err.keyword) {
    case 'required': {
      const missing = String((err.params as { missingProperty: string }).missingProperty);
      return findingAt(src, [...path, missing], RULE, `missing required key "${missing}"${REQUIRED_HINTS[missing] ?? ''}`);
    }
    case 'additionalProperties': {
      const extra = String((err.params as { additionalProperty: string }).additionalProperty);
      const allowed = Object.keys(schema.properties ?? {});
      const hint = didYouMean(extra, allowed) || (allowed.length > 0 ? `; allowed here: ${allowed.join(', ')}` : '');
      return findingAtKey(src, [...path, extra], RULE, `unknown key "${extra}"${hint}`);
    }
    case 'dependentRequired': {
      const { property, missingProperty } = err.params as { property: string; missingProperty: string };
      return findingAtKey(src, [...path, property], RULE, `key "${property}" needs the key "${missingProperty}" beside it`);
    }
    case 'not': {
      // `{ not: {}, description }`: a key that does not apply here, and why.
      const key = path[path.length - 1];
      return findingAtKey(src, path, RULE, `key "${String(key)}" is ${expected ?? 'not allowed here'}`);
    }
    case 'enum': {
      const allowed = (err.params as { allowedValues: unknown[] }).allowedValues.map(String);
      const got = describeValue(err.data);
      const hint = typeof err.data === 'string' ? didYouMean(err.data, allowed) : '';
      return findingAt(src, path, RULE, `expected ${expected ?? `one of ${allowed.join(', ')}`}, got ${got}${hint}`);
    }
    case 'type':
    case 'pattern':
    case 'format':
    case 'minLength':
    case 'minimum':
    case 'exclusiveMinimum':
    case 'maximum':
    case 'minItems':
    case 'minProperties':
    case 'maxProperties':
      return findingAt(
        src,
        path,
        RULE,
        `expected ${expected ?? expectedFromError(err)}, got ${describeValue(err.data)}${quoteHint(err, path, src)}`,
      );
    default:
      return findingAt(src, path, RULE, err.message ?? `fails ${err.keyword}`);
  }
}

function expectedFromError(err: ErrorObject): string {
  if (err.keyword === 'type') {
    const t = (err.params as { type: string | string[] }).type;
    return (Array.isArray(t) ? t : String(t).split(',')).map(typeName).join(' or ');
  }
  return err.message ?? err.keyword;
}

function typeName(t: string): string {
  switch (t) {
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'string':
      return 'a text';
    case 'integer':
      return 'a whole number';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    default:
      return t;
  }
}

/** YAML reads 111111111111 and 47 as numbers; say how to keep them text. */
function quoteHint(err: ErrorObject, path: readonly PathSegment[], src: YamlSource): string {
  if (err.keyword !== 'type' || typeof err.data !== 'number') return '';
  // The text as written (011111111111 reads as the number 11111111111: the hint keeps the leading zero).
  const node = src.doc.getIn(path, true);
  const text = isScalar(node) && typeof node.source === 'string' && node.source !== '' ? node.source : String(err.data);
  const t = (err.params as { type: string | string[] }).type;
  const types = Array.isArray(t) ? t : String(t).split(',');
  if (!types.includes('string')) return '';
  if (path[path.length - 2] === 'ports') return ` (a bare number is not a port: write "tcp/${text}" or "udp/${text}")`;
  const last = path[path.length - 1];
  const where = typeof last === 'string' ? `${last}: ` : '';
  return ` (YAML reads an unquoted ${text} as a number: write ${where}"${text}")`;
}

function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : 'a list';
  if (typeof v === 'object') return Object.keys(v).length === 0 ? 'an empty mapping' : 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return `the number ${v}`;
  return String(v);
}
