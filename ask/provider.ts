/**
 * The model provider `ask` uses (model-provider.ts): policies/ask.yaml chooses the implementation, which is
 * imported only when used (the Bedrock SDK is not loaded for an OpenAI-compatible server).
 */
import { UsageError } from '../core/errors.js';
import { ASK_FILE } from '../model/read-repo.js';
import type { AskConfig } from '../model/types.js';
import type { ModelProvider } from './model-provider.js';

interface ProviderOptions {
  /** Where the API key is read from (the variable ask.yaml names in apiKeyEnv). */
  env: NodeJS.ProcessEnv;
  /** Bedrock's region when ask.yaml names none: the environment's. */
  defaultRegion: string;
  /** Waits between retries; injected so tests need not sleep. */
  sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_TIMEOUT_SECONDS = 60;

/** What `ask` says when no model is configured (exit 2). */
export const NO_PROVIDER = [
  `ask needs a model, and none is configured: create ${ASK_FILE} with a provider, for example`,
  '',
  '  # Amazon Bedrock (Converse API), with your AWS credentials',
  '  provider: bedrock',
  '  model: anthropic.claude-3-5-sonnet-20240620-v1:0',
  "  region: eu-west-1          # optional, default: the environment's region",
  '',
  '  # or any OpenAI-compatible chat endpoint (a local model server works)',
  '  provider: openai-compatible',
  '  baseUrl: http://127.0.0.1:11434/v1   # leastpath POSTs to BASE/chat/completions',
  '  model: llama3.1',
  '  apiKeyEnv: OPENAI_API_KEY  # optional: the NAME of the variable holding the key, never the key',
  '',
  `Both take timeoutSeconds (default ${DEFAULT_TIMEOUT_SECONDS}) and maxLimit (the row limit, default 1000). ` +
    'Only the question and the table schema are sent to the model, never flow-log data.',
].join('\n');

/** The configured provider; UsageError with the how-to when there is none. */
export async function createProvider(config: AskConfig | undefined, opts: ProviderOptions): Promise<ModelProvider> {
  const model = config?.model;
  if (config?.provider === undefined || model === undefined) throw new UsageError(NO_PROVIDER);
  const timeoutMs = (config.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  if (config.provider === 'bedrock') {
    const { bedrockProvider } = await import('./bedrock.js');
    return bedrockProvider({ model, region: config.region ?? opts.defaultRegion, timeoutMs });
  }
  if (config.baseUrl === undefined) throw new UsageError(`${ASK_FILE}: provider openai-compatible needs baseUrl`);
  let apiKey: string | undefined;
  if (config.apiKeyEnv !== undefined) {
    apiKey = opts.env[config.apiKeyEnv];
    if (apiKey === undefined || apiKey === '') {
      throw new UsageError(`${ASK_FILE} says the API key is in the environment variable ${config.apiKeyEnv}, which is not set`);
    }
  }
  const { openAiCompatibleProvider } = await import('./openai.js');
  return openAiCompatibleProvider({
    baseUrl: config.baseUrl,
    model,
    timeoutMs,
    ...(apiKey ? { apiKey } : {}),
    ...(opts.sleep ? { sleep: opts.sleep } : {}),
  });
}
