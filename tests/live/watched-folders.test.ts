// Clients may ask the agent to watch folders; each holds an inotify watch for the agent's life,
// so their number is bounded (3 000 requests once held 3 001 watches). The same folder twice is
// one watch, also through a symbolic link (once watched twice: every capture listed twice), and a
// refusal names the folder and the limit.
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FeedEvent } from '../../agent/src/live/label-feed';
import { LiveAgent, MAX_WATCHED_FOLDERS } from '../../agent/src/live/live-agent';
import { UsageModel } from '../../agent/src/pipeline/usage-model';
import { servedFolderName } from '../../agent/src/serve/address-redactor';
import { startAgentServer } from '../../agent/src/serve/server';
import { connectClient } from '../serve/support/clients';

const MODEL = join(__dirname, '..', '..', 'models', 'default.json');
const KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
const TOKEN = 'c0ffee'.repeat(10) + 'beef';
let dir: string;
let agent: LiveAgent;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cumma-watched-folders-'));
  for (const name of ['a', 'b', 'c']) mkdirSync(join(dir, name));
  symlinkSync(join(dir, 'a'), join(dir, 'link-to-a'));
  agent = new LiveAgent({ model: UsageModel.load(MODEL), stateDirectory: join(dir, 'state'), sidecars: false, maxFolders: 2 });
});
afterAll(async () => {
  await agent.close();
  rmSync(dir, { recursive: true, force: true });
});

it('watches up to the limit, counts a folder asked for twice once, and refuses the next, naming it', async () => {
  expect(MAX_WATCHED_FOLDERS).toBeGreaterThanOrEqual(64);
  await expect(agent.watchFolder(join(dir, 'a'))).resolves.toBe(join(dir, 'a'));
  // Other spellings of a folder watched: the path it is watched under.
  await expect(agent.watchFolder(join(dir, 'a', '.'))).resolves.toBe(join(dir, 'a'));
  await expect(agent.watchFolder(`${join(dir, 'a')}/`)).resolves.toBe(join(dir, 'a'));
  await expect(agent.watchFolder(join(dir, 'link-to-a'))).resolves.toBe(join(dir, 'a'));
  await agent.watchFolder(join(dir, 'b'));
  await expect(agent.watchFolder(join(dir, 'c'))).rejects.toThrow(`cannot watch ${join(dir, 'c')}: the agent already watches 2 folders, the most it watches at once`);
  // A folder already watched is still fine to ask for.
  await expect(agent.watchFolder(join(dir, 'b'))).resolves.toBe(join(dir, 'b'));
  expect(agent.folders()).toEqual([
    { path: join(dir, 'a'), state: 'watching' },
    { path: join(dir, 'b'), state: 'watching' },
  ]);
});

describe('folder events', () => {
  let root: string;
  let live: LiveAgent;
  let events: FeedEvent[];
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cumma-folder-events-'));
    live = new LiveAgent({ model: UsageModel.load(MODEL), stateDirectory: join(root, 'state'), sidecars: false });
    events = [];
    live.subscribe((event) => events.push(event));
  });
  afterEach(async () => {
    await live.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('tells every client of a folder added to the watch list, once however often it is asked for', async () => {
    const folder = join(root, 'asked');
    mkdirSync(folder);
    await live.watchFolder(folder);
    await live.watchFolder(`${folder}/`);
    expect(events.filter((event) => event.kind === 'folder')).toEqual([
      { kind: 'folder', event: 'added', folder: { path: folder, state: 'watching' }, message: `${folder}: added to the watched folders; reading its captures` },
    ]);
  });

  it("serves a folder watcher's error as a folder event, under the folder's keyed name when anonymising", async () => {
    const real = join(root, 'acme-customer');
    mkdirSync(real);
    symlinkSync(real, join(root, 'alice-link'));
    const folder = join(root, 'alice-link');
    await live.watchFolder(folder);
    const server = await startAgentServer({ feed: live, token: TOKEN, host: '127.0.0.1', port: 0, agentVersion: 'test', anonymizeKey: KEY, log: () => undefined });
    const client = await connectClient(server.httpUrl, { token: TOKEN });
    try {
      // chokidar errors (inotify limits, permissions) cannot be caused on demand without root:
      // the folder's watcher is made to report one, quoting the folder's real path as fs does.
      const watcher = (live as unknown as { folderMap: Map<string, { watcher: EventEmitter }> }).folderMap.get(folder)!.watcher;
      watcher.emit('error', new Error(`EACCES: permission denied, watch '${real}/sub'`));
      expect(events.at(-1)).toEqual({
        kind: 'folder',
        event: 'error',
        folder: { path: folder, state: 'watching' },
        message: `${folder}: watching the folder failed: EACCES: permission denied, watch '${folder}/sub'`,
      });
      const served = await client.next('folder');
      const image = servedFolderName(KEY, folder);
      expect(served).toEqual({ v: 1, type: 'folder', event: 'error', folder: { path: image, state: 'watching' }, message: `${image}: watching the folder failed: EACCES: permission denied, watch '${image}/sub'` });
      const text = client.messages.map((message) => JSON.stringify(message)).join('\n');
      for (const name of ['acme-customer', 'alice', root]) expect(text).not.toContain(name);
    } finally {
      client.close();
      await server.close();
    }
  });
});
