// Clients may ask the agent to watch folders; each holds an inotify watch for the agent's life,
// so their number is bounded (3 000 requests once held 3 001 watches). The same folder twice is
// one watch, also through a symbolic link (once watched twice: every capture listed twice), and a
// refusal names the folder and the limit.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LiveAgent, MAX_WATCHED_FOLDERS } from '../../agent/src/live/live-agent';
import { UsageModel } from '../../agent/src/pipeline/usage-model';

const MODEL = join(__dirname, '..', '..', 'models', 'default.json');
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
