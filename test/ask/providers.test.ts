/** The model providers at their boundary: a local HTTP server for OpenAI-compatible, the SDK mock for Bedrock. */
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceError, UsageError } from '../../core/errors.js';
import { bedrockProvider } from '../../ask/bedrock.js';
import { openAiCompatibleProvider } from '../../ask/openai.js';
import { buildPrompt, stripFence } from '../../ask/prompt.js';
import { createProvider, NO_PROVIDER } from '../../ask/provider.js';
import { FLOW_LOG_COLUMNS } from '../../ask/schema.js';
import { answer, startFakeModel, type FakeModel, type Reply } from './fake-model.js';

const policy = { table: 'flows_prod', columns: FLOW_LOG_COLUMNS.map((c) => c.name), partitionColumn: 'day', maxLimit: 250 };
const prompt = buildPrompt('top talkers yesterday?', policy, '2026-11-23');

describe('the prompt', () => {
  it('grounds the model in the exact table, its columns and types, the partition column and the limit', () => {
    expect(prompt.user).toBe('top talkers yesterday?');
    for (const c of FLOW_LOG_COLUMNS) expect(prompt.system).toMatch(new RegExp(`^  ${c.name} ${c.type}\\b`, 'm'));
    expect(prompt.system).toContain('Table flows_prod, one row per flow-log record:');
    expect(prompt.system).toContain("day = '2026/11/23'");
    expect(prompt.system).toContain('End with LIMIT n, n at most 250.');
  });

  it('one ```sql fence around the whole answer is taken off; anything else is left for the validator', () => {
    expect(stripFence('```sql\nSELECT 1\n```')).toBe('SELECT 1');
    expect(stripFence('  ```SQL\r\nSELECT 1\r\n```  ')).toBe('SELECT 1');
    expect(stripFence('```\nSELECT 1\n```')).toBe('SELECT 1');
    expect(stripFence('Sure:\n```sql\nSELECT 1\n```')).toBe('Sure:\n```sql\nSELECT 1\n```');
    expect(stripFence('```sql\nSELECT 1\n```\n```sql\nDROP TABLE x\n```')).toBe('SELECT 1\n```\n```sql\nDROP TABLE x');
  });
});

describe('openai-compatible provider', () => {
  let model: FakeModel | undefined;
  afterEach(async () => {
    await model?.close();
    model = undefined;
  });
  const provider = async (replies: Reply[], extra: { apiKey?: string; timeoutMs?: number } = {}) => {
    model = await startFakeModel(replies);
    const waits: number[] = [];
    const p = openAiCompatibleProvider({
      baseUrl: `${model.baseUrl}/`,
      model: 'm',
      timeoutMs: extra.timeoutMs ?? 5000,
      sleep: async (ms) => void waits.push(ms),
      ...(extra.apiKey ? { apiKey: extra.apiKey } : {}),
    });
    return { p, waits, m: model };
  };

  it('POSTs the system prompt and the question to BASE/chat/completions and returns the first choice', async () => {
    const { p, m } = await provider([answer('SELECT 1')]);
    expect(await p.complete(prompt)).toBe('SELECT 1');
    expect(m.requests).toHaveLength(1);
    const req = m.requests[0]!;
    expect([req.method, req.path]).toEqual(['POST', '/v1/chat/completions']);
    expect(req.headers.authorization).toBeUndefined();
    expect(req.body).toMatchObject({
      model: 'm',
      messages: [
        { role: 'system', content: prompt.system },
        { role: 'user', content: prompt.user },
      ],
    });
  });

  it('retries 429 and 5xx twice with a short wait, then answers', async () => {
    const { p, waits, m } = await provider([{ status: 503, body: '' }, { status: 429, body: '{}' }, answer('SELECT 2')]);
    expect(await p.complete(prompt)).toBe('SELECT 2');
    expect(waits).toEqual([500, 2000]);
    expect(m.requests).toHaveLength(3);
  });

  it('gives up after three attempts with a ServiceError naming the endpoint and the status', async () => {
    const { p, m } = await provider([{ status: 502, body: '<html>bad gateway</html>' }]);
    const err = await p.complete(prompt).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as Error).message).toBe(`openai-compatible model m at ${m.baseUrl}/chat/completions: HTTP 502: <html>bad gateway</html>`);
    expect(m.requests).toHaveLength(3);
  });

  it.each([
    ['a 4xx (not retried)', { status: 404, body: '{"error":{"message":"model m not found"}}' }, 'HTTP 404: model m not found', 1],
    ['an answer that is not JSON', { status: 200, body: 'hello' }, 'HTTP 200 but the answer is not JSON', 1],
    ['an answer without choices', { status: 200, body: '{"choices":[]}' }, 'HTTP 200 but the answer has no choices', 1],
    [
      'a choice without text',
      { status: 200, body: '{"choices":[{"message":{"content":null}}]}' },
      'HTTP 200 but the first choice has no text',
      1,
    ],
  ])('%s is a ServiceError', async (_name, reply, message, requests) => {
    const { p, m } = await provider([reply]);
    await expect(p.complete(prompt)).rejects.toThrow(
      new ServiceError(`openai-compatible model m at ${m.baseUrl}/chat/completions: ${message}`),
    );
    expect(m.requests).toHaveLength(requests);
  });

  it('times out', async () => {
    const { p } = await provider([{ status: 0, body: '' }], { timeoutMs: 200 });
    await expect(p.complete(prompt)).rejects.toThrow(/: no answer within 0.2 s$/);
  });

  it('says when it cannot connect', async () => {
    const { m } = await provider([answer('x')]);
    await m.close();
    const p = openAiCompatibleProvider({ baseUrl: m.baseUrl, model: 'm', timeoutMs: 2000 });
    await expect(p.complete(prompt)).rejects.toThrow(/: cannot connect \(ECONNREFUSED\)$/);
  });

  it('sends the key as a bearer token and cuts it out of errors', async () => {
    const key = 'sk-abc-123';
    const { p, m } = await provider([{ status: 403, body: `key ${key} is not allowed` }], { apiKey: key });
    const err = (await p.complete(prompt).catch((e: unknown) => e)) as Error;
    expect(m.requests[0]!.headers.authorization).toBe(`Bearer ${key}`);
    expect(err.message).toMatch(/HTTP 403: key \*\*\* is not allowed$/);
  });
});

describe('bedrock provider', () => {
  const bedrock = mockClient(BedrockRuntimeClient);
  afterEach(() => bedrock.reset());

  it('sends one Converse request (system prompt, the question) and joins the text of the answer', async () => {
    bedrock.on(ConverseCommand).resolves({
      output: { message: { role: 'assistant', content: [{ text: 'SELECT ' }, { text: '1' }] } },
      stopReason: 'end_turn',
    } as never);
    expect(await bedrockProvider({ model: 'mid', region: 'eu-west-1', timeoutMs: 1000 }).complete(prompt)).toBe('SELECT 1');
    const input = bedrock.commandCalls(ConverseCommand)[0]!.args[0].input;
    expect(input).toEqual({
      modelId: 'mid',
      system: [{ text: prompt.system }],
      messages: [{ role: 'user', content: [{ text: 'top talkers yesterday?' }] }],
      inferenceConfig: { maxTokens: 2048, temperature: 0 },
    });
  });

  it('an answer without text is a ServiceError', async () => {
    bedrock.on(ConverseCommand).resolves({ output: { message: { role: 'assistant', content: [] } }, stopReason: 'max_tokens' } as never);
    await expect(bedrockProvider({ model: 'mid', region: 'eu-west-1', timeoutMs: 1000 }).complete(prompt)).rejects.toThrow(
      new ServiceError('bedrock model mid in eu-west-1: the answer has no text (stop reason max_tokens)'),
    );
  });
});

describe('createProvider', () => {
  it('refuses without a provider, with the how-to', async () => {
    await expect(createProvider(undefined, { env: {}, defaultRegion: 'eu-west-1' })).rejects.toThrow(new UsageError(NO_PROVIDER));
    await expect(createProvider({ maxLimit: 5 }, { env: {}, defaultRegion: 'eu-west-1' })).rejects.toThrow(new UsageError(NO_PROVIDER));
  });

  it("uses the environment's region for Bedrock unless ask.yaml names one", async () => {
    expect((await createProvider({ provider: 'bedrock', model: 'x' }, { env: {}, defaultRegion: 'eu-west-1' })).label).toBe(
      'bedrock model x in eu-west-1',
    );
    expect(
      (await createProvider({ provider: 'bedrock', model: 'x', region: 'us-east-1' }, { env: {}, defaultRegion: 'eu-west-1' })).label,
    ).toBe('bedrock model x in us-east-1');
  });
});
