import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { AgentClient, AgentProblem, checkAgentUrl } from '../../vscode-extension/src/host/agent-client';
import { isLoopback } from '../../vscode-extension/src/shared/connection';
import { ConnectionStatus, describeConnection, parseConnectionStatus } from '../../vscode-extension/src/shared/connection';
import type { ServerMessage } from '../../agent/src/serve/protocol';
import { waitFor } from '../support/agent-process';
import { capture, hello } from './fixtures';

interface FakeAgent {
  readonly url: string;
  readonly headers: (string | undefined)[];
  readonly received: unknown[];
  close(): Promise<void>;
}

/** A WebSocket server that checks a Bearer token like the agent and sends a hello. */
async function fakeAgent(token: string, port = 0, onConnection?: (send: (text: string) => void) => void): Promise<FakeAgent> {
  const headers: (string | undefined)[] = [];
  const received: unknown[] = [];
  const http = createServer();
  const wss = new WebSocketServer({ noServer: true });
  http.on('upgrade', (request, socket, head) => {
    headers.push(request.headers.authorization);
    if (request.headers.authorization !== `Bearer ${token}`) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      ws.on('message', (data) => received.push(JSON.parse(String(data))));
      ws.send(JSON.stringify(hello([capture('a.pcapng')])));
      onConnection?.((text) => ws.send(text));
    });
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  return {
    url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}`,
    headers,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        http.close(() => resolve());
      }),
  };
}

function recorder() {
  const statuses: ConnectionStatus[] = [];
  const messages: ServerMessage[] = [];
  const problems: AgentProblem[] = [];
  const invalid: string[] = [];
  return {
    statuses,
    messages,
    problems,
    invalid,
    events: { status: (s: ConnectionStatus) => statuses.push(s), message: (m: ServerMessage) => messages.push(m), problem: (p: AgentProblem) => problems.push(p), invalid: (r: string) => invalid.push(r) },
  };
}

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

describe('AgentClient', () => {
  it('sends the token as a Bearer header, never in the URL, and passes validated messages on', async () => {
    const agent = await fakeAgent('s3cret', 0, (send) => {
      send('{not json');
      send(JSON.stringify({ v: 1, type: 'dialog', dialog: { id: 'x' } }));
      send(JSON.stringify({ v: 1, type: 'pong', id: 1 }));
    });
    cleanup.push(() => agent.close());
    const seen = recorder();
    const client = new AgentClient({ url: agent.url, tokens: async () => ['s3cret'] }, seen.events);
    cleanup.push(() => client.dispose());
    client.connect();
    await waitFor(() => seen.messages.length === 2, 5000, 'hello and pong');
    expect(seen.messages.map((m) => m.type)).toEqual(['hello', 'pong']);
    expect(seen.invalid).toHaveLength(2);
    expect(agent.headers).toEqual(['Bearer s3cret']);
    expect(seen.statuses.map((s) => s.state)).toEqual(['connecting', 'connected']);
    expect(client.send({ v: 1, type: 'subscribe', captures: '*' })).toBe(true);
    await waitFor(() => agent.received.length === 1, 5000, 'subscribe');
    expect(agent.received).toEqual([{ v: 1, type: 'subscribe', captures: '*' }]);
    expect(() => client.send({ v: 1, type: 'watch', path: '' })).toThrow();
  });

  it('tries the next token source after a refusal, and stops retrying when all are refused, reporting once', async () => {
    const agent = await fakeAgent('right');
    cleanup.push(() => agent.close());
    const seen = recorder();
    const client = new AgentClient({ url: agent.url, tokens: async () => ['stale', 'right'] }, seen.events);
    cleanup.push(() => client.dispose());
    client.connect();
    await waitFor(() => seen.messages.length === 1, 5000, 'hello');
    expect(agent.headers).toEqual(['Bearer stale', 'Bearer right']);
    expect(seen.problems).toEqual([]);

    const refused = recorder();
    const wrong = new AgentClient({ url: agent.url, tokens: async () => ['wrong'], backoff: { initialMs: 10 } }, refused.events);
    cleanup.push(() => wrong.dispose());
    wrong.connect();
    await waitFor(() => refused.statuses.some((s) => s.state === 'unauthorized'), 5000, 'unauthorized');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(refused.problems.map((p) => p.kind)).toEqual(['unauthorized']);
    expect(agent.headers.filter((h) => h === 'Bearer wrong')).toHaveLength(1);
  });

  it('tells a missing token from a refused one', async () => {
    const agent = await fakeAgent('right');
    cleanup.push(() => agent.close());
    const outcomes: ConnectionStatus[] = [];
    for (const tokens of [[], ['wrong']]) {
      const seen = recorder();
      const client = new AgentClient({ url: agent.url, tokens: async () => tokens }, seen.events);
      cleanup.push(() => client.dispose());
      client.connect();
      await waitFor(() => seen.statuses.some((s) => s.state === 'unauthorized'), 5000, 'unauthorized');
      outcomes.push(seen.statuses.find((s) => s.state === 'unauthorized')!);
    }
    expect(outcomes.map((status) => status.refusal)).toEqual(['no-token', 'token']);
    expect(describeConnection(outcomes[0]!)).toBe(`no token for the agent at ${agent.url}`);
    expect(describeConnection(outcomes[1]!)).toBe(`the agent at ${agent.url} refused the token`);
    expect(parseConnectionStatus(JSON.parse(JSON.stringify(outcomes[0])))).toEqual(outcomes[0]);
  });

  it('retries with growing delays while the agent is away, reports the outage once, and reconnects', async () => {
    // Find a free port, then leave it closed for a while.
    const probe = await fakeAgent('t');
    const port = Number(new URL(probe.url).port);
    await probe.close();
    const seen = recorder();
    const client = new AgentClient({ url: `ws://127.0.0.1:${port}`, tokens: async () => ['t'], backoff: { initialMs: 40, factor: 2, maxMs: 200, jitter: 0 } }, seen.events);
    cleanup.push(() => client.dispose());
    client.connect();
    await waitFor(() => seen.statuses.filter((s) => s.state === 'retrying').length >= 4, 5000, 'four retries');
    const delays = seen.statuses.filter((s) => s.state === 'retrying').map((s) => s.retryInMs);
    expect(delays.slice(0, 4)).toEqual([40, 80, 160, 200]);
    expect(seen.problems).toHaveLength(1);
    expect(seen.problems[0]!.kind).toBe('unreachable');
    const agent = await fakeAgent('t', port);
    cleanup.push(() => agent.close());
    await waitFor(() => seen.messages.some((m) => m.type === 'hello'), 5000, 'reconnection');
    // The next outage is reported again, once.
    await agent.close();
    await waitFor(() => seen.problems.length === 2, 5000, 'second outage report');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(seen.problems).toHaveLength(2);
  });

  it('accepts only ws:// and wss:// addresses without credentials or token', () => {
    expect(checkAgentUrl('ws://127.0.0.1:7345').port).toBe('7345');
    expect(() => checkAgentUrl('http://127.0.0.1:7345')).toThrow(/ws:\/\//);
    expect(() => checkAgentUrl('ws://u:p@127.0.0.1:7345')).toThrow(/credentials/);
    expect(() => checkAgentUrl('ws://127.0.0.1:7345/?token=abc')).toThrow(/token/);
    expect(isLoopback(new URL('ws://localhost:1'))).toBe(true);
    expect(isLoopback(new URL('ws://[::1]:1'))).toBe(true);
    expect(isLoopback(new URL('ws://127.1.2.3:1'))).toBe(true);
    expect(isLoopback(new URL('ws://10.0.0.1:1'))).toBe(false);
  });
});
