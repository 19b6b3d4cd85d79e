/**
 * A fake OpenAI-compatible chat server on 127.0.0.1: it logs each request (path, headers, JSON body) and answers
 * with the next scripted reply (the last one repeats): a status and a raw body, or `answer(text)`; status 0 never
 * answers.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  status: number;
  body: string;
}

export interface LoggedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: { model?: string; messages?: { role: string; content: string }[] };
}

export interface FakeModel {
  /** The base URL, like http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  requests: LoggedRequest[];
  close(): Promise<void>;
}

/** A 200 answer whose first choice says `text`. */
export function answer(text: string): Reply {
  return {
    status: 200,
    body: JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: text } }] }),
  };
}

export async function startFakeModel(replies: Reply[]): Promise<FakeModel> {
  const requests: LoggedRequest[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: raw === '' ? {} : (JSON.parse(raw) as LoggedRequest['body']),
      });
      const reply = replies[Math.min(requests.length, replies.length) - 1] ?? { status: 500, body: 'no reply scripted' };
      if (reply.status === 0) return;
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
