// Clients may ask the agent to watch folders; each holds an inotify watch for the agent's life,
// so their number is bounded (3 000 requests once held 3 001 watches). The same folder twice is
// one watch, also through a symbolic link (once watched twice: every capture listed twice), and a
// refusal names the folder and the limit.
import { EventEmitter } from 'node:events';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FeedEvent } from '../../agent/src/live/label-feed';
import { LiveAgent, MAX_WATCHED_FOLDERS } from '../../agent/src/live/live-agent';
import { UsageModel } from '../../agent/src/pipeline/usage-model';
import { servedFolderName } from '../../agent/src/serve/address-redactor';
import { startAgentServer } from '../../agent/src/serve/server';
import { connectClient } from '../serve/support/clients';
import { waitFor } from '../support/agent-process';
import { linkedFolders } from '../support/linked-folders';

const MODEL = join(__dirname, '..', '..', 'models', 'default.json');
const SAMPLES = join(__dirname, '..', '..', 'samples');
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

  // The agent looks at its folders once a second; a link re-pointed in between, then a change in
  // the folder it led to (its writer going on, a sidecar rewritten), had the old folder's watcher
  // list the new folder's files as the old one's: t2's capture listed a second time (y.pcapng#2,
  // for good) and x.pcapng removed as a deleted file. Here the periodic look is put off for the
  // test's whole length, so the agent can only learn of the new folder from that listing.
  it('takes a folder replaced for what it is as soon as its watcher lists the new one', async () => {
    const { t1, t2, link } = linkedFolders(root);
    const slow = new LiveAgent({ model: UsageModel.load(MODEL), stateDirectory: join(root, 'state-slow'), sidecars: false, pollIntervalMs: 3_600_000 });
    const seen: FeedEvent[] = [];
    slow.subscribe((event) => seen.push(event));
    try {
      await slow.watchFolder(link);
      await slow.watchFolder(t2);
      expect(slow.captures().map((capture) => capture.name).sort()).toEqual(['x.pcapng', 'y.pcapng']);

      execFileSync('ln', ['-sfn', t2, link]);
      copyFileSync(join(SAMPLES, 'whatsapp-chat.pcapng'), join(t1, 'later.pcapng'));
      const folderEvents = (): Array<{ event: string; message: string | undefined }> =>
        seen.flatMap((event) => (event.kind === 'folder' && event.folder.path === link ? [{ event: event.event, message: event.message }] : []));
      const added = (): string[] => seen.flatMap((event) => (event.kind === 'capture' && event.event === 'added' ? [event.capture.name] : []));
      // Whichever comes first: the folder said replaced, or another capture listed.
      await waitFor(() => folderEvents().some((event) => event.event === 'back') || added().length > 2, 10_000, 'the folder replaced and back');
      expect(added()).toEqual(['x.pcapng', 'y.pcapng']);
      expect(folderEvents().filter((event) => event.event !== 'added')).toEqual([
        { event: 'missing', message: `${link}: the watched folder was replaced by another of that name (deleted and made again, another file system mounted there, or a symbolic link on its path re-pointed)` },
        { event: 'back', message: `${link}: the folder now there is ${t2}, watched already: watched once, as ${t2}` },
      ]);
      expect(slow.captures().map((capture) => capture.name)).toEqual(['y.pcapng']);
    } finally {
      await slow.close();
    }
  });

  // The look that notices a folder replaced closes its watcher, and chokidar never says 'ready'
  // for a watcher closed before its first listing is done: a folder replaced while it was first
  // listed left watchFolder waiting for good (the agent's start-up, a client's watch request).
  it('finishes watching a folder replaced while its files are first listed, and reads the folder now there', async () => {
    const { t2, link } = linkedFolders(root);
    const slow = new LiveAgent({ model: UsageModel.load(MODEL), stateDirectory: join(root, 'state-slow'), sidecars: false, pollIntervalMs: 3_600_000 });
    try {
      const watching = slow.watchFolder(link);
      // Before the watcher's first look at the folder: it lists t2 while t1 is the folder watched.
      execFileSync('ln', ['-sfn', t2, link]);
      const waited = new Promise<string>((_resolve, reject) => setTimeout(() => reject(new Error('watchFolder still waiting after 10 s')), 10_000).unref());
      await expect(Promise.race([watching, waited])).resolves.toBe(link);
      await waitFor(() => slow.captures().length > 0, 10_000, 'the folder now there read');
      expect(slow.captures().map((capture) => capture.path)).toEqual([join(link, 'y.pcapng')]);
      expect(slow.folders()).toEqual([{ path: link, state: 'watching' }]);
    } finally {
      await slow.close();
    }
  });
});
