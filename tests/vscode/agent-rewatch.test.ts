// "Watch folder in agent" survives an agent restart: the extension remembers the folders it
// asked for (per workspace, per agent address) and its AgentClient asks again after every
// hello. Against real `cumma watch` processes on loopback, restarted on the same port.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../agent/src/serve/protocol';
import { AgentClient } from '../../vscode-extension/src/host/agent-client';
import { FolderStore, WATCHED_FOLDERS_KEY, WatchedFolders } from '../../vscode-extension/src/host/watched-folders';
import { AgentProcess, startAgent, waitFor } from '../support/agent-process';

const ROOT = join(__dirname, '..', '..');

/** What VS Code's workspaceState is to the extension: a key-value store that persists. */
class MapStore implements FolderStore {
  readonly values = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }
  async update(key: string, value: unknown): Promise<void> {
    // Stored as JSON, as VS Code does: nothing shared with the caller survives.
    this.values.set(key, JSON.parse(JSON.stringify(value)));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('WatchedFolders', () => {
  it('keeps folders per agent address, once each, and forgets on request', async () => {
    const store = new MapStore();
    const folders = new WatchedFolders(store);
    await folders.remember('ws://127.0.0.1:7345', '/data/a');
    await folders.remember('ws://127.0.0.1:7345', '/data/b');
    await folders.remember('ws://127.0.0.1:7345', '/data/a');
    await folders.remember('ws://10.0.0.9:7345', '/data/c');
    // A new instance on the same store: what a window reload sees.
    const reloaded = new WatchedFolders(store);
    expect(reloaded.list('ws://127.0.0.1:7345')).toEqual(['/data/b', '/data/a']);
    expect(reloaded.list('ws://10.0.0.9:7345')).toEqual(['/data/c']);
    expect(reloaded.list('ws://127.0.0.1:9999')).toEqual([]);
    await reloaded.forget('ws://127.0.0.1:7345', '/data/b');
    expect(folders.list('ws://127.0.0.1:7345')).toEqual(['/data/a']);
    await reloaded.forget('ws://10.0.0.9:7345', '/data/c');
    expect(Object.keys(store.get<Record<string, unknown>>(WATCHED_FOLDERS_KEY)!)).toEqual(['ws://127.0.0.1:7345']);
  });

  it('ignores a stored value of the wrong shape', () => {
    const store = new MapStore();
    store.values.set(WATCHED_FOLDERS_KEY, ['not', 'a', 'record']);
    expect(new WatchedFolders(store).list('ws://127.0.0.1:7345')).toEqual([]);
    store.values.set(WATCHED_FOLDERS_KEY, { 'ws://127.0.0.1:7345': ['/ok', 42] });
    expect(new WatchedFolders(store).list('ws://127.0.0.1:7345')).toEqual(['/ok']);
  });
});

describe('a watched folder across an agent restart (real agents)', () => {
  const root = mkdtempSync(join(tmpdir(), 'cumma-rewatch-'));
  const agents: AgentProcess[] = [];
  let client: AgentClient | undefined;

  afterAll(async () => {
    client?.dispose();
    for (const agent of agents) if (agent.child.exitCode === null) await agent.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('is asked for again after the agent restarts, and its capture comes back', async () => {
    const started = join(root, 'started');
    const extra = join(root, 'extra');
    const config = join(root, 'config');
    mkdirSync(started);
    mkdirSync(extra);
    copyFileSync(join(ROOT, 'samples', 'signal-media.pcapng'), join(extra, 'signal-media.pcapng'));
    const port = await freePort();
    agents.push(await startAgent(started, config, ['--port', String(port)]));
    const url = `ws://127.0.0.1:${port}`;

    // What "Watch folder in agent" does: remembers the folder; the client asks after each hello.
    const folders = new WatchedFolders(new MapStore());
    await folders.remember(url, extra);
    const messages: ServerMessage[] = [];
    client = new AgentClient(
      {
        url,
        tokens: async () => [agents[0]!.token],
        backoff: { initialMs: 100, maxMs: 400 },
        resume: () => [{ v: 1, type: 'subscribe', captures: '*' }, ...folders.list(url).map((path) => ({ v: 1, type: 'watch', path }) as const)],
      },
      { status: () => undefined, message: (message) => messages.push(message), problem: () => undefined },
    );
    client.connect();
    const extraCapture = (from: number): boolean =>
      messages.slice(from).some((message) => message.type === 'capture' && message.event === 'added' && message.capture.path === join(extra, 'signal-media.pcapng'));
    await waitFor(() => extraCapture(0), 15_000, 'the extra folder watched on the first connection');
    const firstHello = messages.findIndex((message) => message.type === 'hello');
    expect(firstHello).toBe(0);
    expect(messages[0]!.type === 'hello' && messages[0].captures).toEqual([]);

    // The agent restarts (same port, same config folder, hence the same token): it watches only
    // its command line's folder again.
    await agents[0]!.stop();
    const seenBefore = messages.length;
    agents.push(await startAgent(started, config, ['--port', String(port)]));
    await waitFor(() => messages.slice(seenBefore).some((message) => message.type === 'hello'), 20_000, 'the reconnection');
    const secondHello = messages.findIndex((message, index) => index >= seenBefore && message.type === 'hello');
    await waitFor(() => extraCapture(secondHello), 15_000, 'the extra folder watched again after the restart');
  }, 90_000);

  it('says once which folder it cannot watch, and why', async () => {
    const agent = agents[agents.length - 1]!;
    const errors: string[] = [];
    const probe = new AgentClient(
      { url: agent.url, tokens: async () => [agent.token] },
      { status: () => undefined, message: (message) => (message.type === 'error' ? errors.push(message.message) : undefined), problem: () => undefined },
    );
    try {
      probe.connect();
      await waitFor(() => probe.connected, 10_000, 'a connection');
      await waitFor(() => probe.send({ v: 1, type: 'watch', path: '/nonexistent/dir' }), 5_000, 'the watch request to go out');
      await waitFor(() => errors.length > 0, 10_000, 'the refusal');
      expect(errors[0]).toMatch(/^cannot watch \/nonexistent\/dir: ENOENT/);
      expect(errors[0]!.match(/cannot watch/g)).toHaveLength(1);
    } finally {
      probe.dispose();
    }
  }, 30_000);
});
