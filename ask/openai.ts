/**
 * Any OpenAI-compatible chat endpoint (OpenAI, a local model server): one POST to `${baseUrl}/chat/completions`.
 * Thin: a timeout per attempt, at most two retries on 429 and 5xx with a short wait, and errors that name the
 * endpoint and the HTTP status. The API key goes in the Authorization header only and is cut out of every
 * message and of the model's answer, in case a server or the model echoes it.
 */
import { ServiceError } from '../core/errors.js';
import type { ChatPrompt } from './prompt.js';
import type { ModelProvider } from './model-provider.js';

interface OpenAiCompatibleOptions {
  baseUrl: string;
  model: string;
  apiKey?: string;
  timeoutMs: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Waits before the second and third attempt. */
const RETRY_DELAYS_MS = [500, 2000];

export function openAiCompatibleProvider(o: OpenAiCompatibleOptions): ModelProvider {
  const url = `${o.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  const label = `openai-compatible model ${o.model} at ${url}`;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const redact = (s: string) => (o.apiKey ? s.split(o.apiKey).join('***') : s);
  const fail = (what: string): never => {
    throw new ServiceError(redact(`${label}: ${what}`));
  };

  const post = async (prompt: ChatPrompt): Promise<Response> => {
    try {
      return await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}) },
        body: JSON.stringify({
          model: o.model,
          messages: [
            { role: 'system', content: prompt.system },
            { role: 'user', content: prompt.user },
          ],
          temperature: 0,
        }),
        signal: AbortSignal.timeout(o.timeoutMs),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      if (e.name === 'TimeoutError') return fail(`no answer within ${o.timeoutMs / 1000} s`);
      return fail(`cannot connect (${e.cause?.code ?? e.message})`);
    }
  };

  return {
    label,
    async complete(prompt) {
      let res = await post(prompt);
      for (const delay of RETRY_DELAYS_MS) {
        if (res.status !== 429 && res.status < 500) break;
        await res.body?.cancel();
        await sleep(delay);
        res = await post(prompt);
      }
      const text = await res.text();
      // Redacted before it is cut short: a key cut in two would not be found whole afterwards.
      if (!res.ok) return fail(`HTTP ${res.status}${errorDetail(redact(text))}`);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return fail(`HTTP ${res.status} but the answer is not JSON`);
      }
      const choices = (body as { choices?: unknown }).choices;
      if (!Array.isArray(choices) || choices.length === 0) return fail(`HTTP ${res.status} but the answer has no choices`);
      const content = (choices[0] as { message?: { content?: unknown } } | undefined)?.message?.content;
      if (typeof content !== 'string' || content.trim() === '') return fail(`HTTP ${res.status} but the first choice has no text`);
      // A model may echo the key (asked to, by a question): its text is printed as SQL, in refusals, and sent to
      // Athena's query history, so the key is cut out before anything else sees it.
      return redact(content);
    },
  };
}

/** `: message` from an error body (OpenAI's `{ error: { message } }`, or the text), one line, short. */
function errorDetail(text: string): string {
  let message = text;
  try {
    const m = (JSON.parse(text) as { error?: { message?: unknown } | string }).error;
    const inner = typeof m === 'string' ? m : m?.message;
    if (typeof inner === 'string') message = inner;
  } catch {
    // not JSON: the text itself
  }
  const line = message.replace(/\s+/g, ' ').trim().slice(0, 200);
  return line === '' ? '' : `: ${line}`;
}
