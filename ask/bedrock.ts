/**
 * Amazon Bedrock through the Converse API (one request, the system prompt and the question as one user message).
 * Thin: the SDK signs with the usual AWS credentials and retries throttling and 5xx itself (three attempts at
 * most); errors name the model, the region and the HTTP status.
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 */
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { ServiceError } from '../core/errors.js';
import type { ModelProvider } from './model-provider.js';

interface BedrockOptions {
  model: string;
  region: string;
  timeoutMs: number;
}

export function bedrockProvider(o: BedrockOptions): ModelProvider {
  const label = `bedrock model ${o.model} in ${o.region}`;
  const client = new BedrockRuntimeClient({ region: o.region, maxAttempts: 3, requestHandler: { requestTimeout: o.timeoutMs } });
  return {
    label,
    async complete(prompt) {
      let out;
      try {
        out = await client.send(
          new ConverseCommand({
            modelId: o.model,
            system: [{ text: prompt.system }],
            messages: [{ role: 'user', content: [{ text: prompt.user }] }],
            inferenceConfig: { maxTokens: 2048, temperature: 0 },
          }),
        );
      } catch (err) {
        const e = err as Error & { $metadata?: { httpStatusCode?: number } };
        const status = e.$metadata?.httpStatusCode;
        throw new ServiceError(`${label}: ${e.name}${status ? ` (HTTP ${status})` : ''}: ${String(e.message).split('\n')[0]}`);
      }
      const text = (out.output?.message?.content ?? []).map((block) => block.text ?? '').join('');
      if (text.trim() === '') throw new ServiceError(`${label}: the answer has no text (stop reason ${out.stopReason ?? 'unknown'})`);
      return text;
    },
  };
}
