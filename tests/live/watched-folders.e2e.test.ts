// The folders a real `cumma watch` watches. One deleted (or deleted and made again at once, as a
// share remounted) used to be dropped without a word: /health said "ok", /captures [], and
// captures put in the new folder were never read. Now it is reported missing (stderr, a `folder`
// event, /health "degraded") and watched again once back, its captures labelled. The same folder
// given twice (`w2 w2/`, a symbolic link to it) used to be printed twice, and a symbolic link
// watched it twice (every capture listed twice); it is watched once.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureInfo } from '../../agent/src/live/label-feed';
import { connectClient } from '../serve/support/clients';
import { AgentProcess, expectedDialogs, startAgent, waitFor } from '../support/agent-process';
import { cleanUpAfterEach } from '../support/cleanup';

const SAMPLES = join(__dirname, '..', '..', 'samples');
const { running, clients, roots } = cleanUpAfterEach();

function tempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'cumma-watched-folders-'));
  roots.push(root);
  return root;
}

async function health(agent: AgentProcess): Promise<Record<string, unknown>> {
  return (await (await fetch(`${agent.httpUrl}health`)).json()) as Record<string, unknown>;
}

async function captures(agent: AgentProcess): Promise<CaptureInfo[]> {
  return (await (await fetch(`${agent.httpUrl}captures`, { headers: { Authorization: `Bearer ${agent.token}` } })).json()) as CaptureInfo[];
}

/** Waits until the agent has published, as final, every dialog `cumma classify` finds in the sample under `name`. */
async function labelled(agent: AgentProcess, sample: string, name: string): Promise<void> {
  const expected = expectedDialogs(join(SAMPLES, sample), name);
  const finals = (): Set<string> => new Set(agent.published().filter((dialog) => dialog.capture === name && dialog.status === 'final').map((dialog) => dialog.id));
  await waitFor(() => [...expected.keys()].every((id) => finals().has(id)), 30_000, `the dialogs of ${name}`);
}

describe('a watched folder that disappears', () => {
  it('is reported missing to the terminal, clients and /health, and watched again when it is back', async () => {
    const root = tempRoot();
    const folder = join(root, 'w5');
    mkdirSync(folder);
    copyFileSync(join(SAMPLES, 'signal-media.pcapng'), join(folder, 'signal-media.pcapng'));
    const agent = await startAgent(folder, join(root, 'config'));
    running.push(agent);
    const client = await connectClient(agent.httpUrl, { token: agent.token });
    clients.push(client);
    await labelled(agent, 'signal-media.pcapng', 'signal-media.pcapng');
    expect(await health(agent)).toMatchObject({ status: 'ok' });

    rmSync(folder, { recursive: true });
    await waitFor(() => agent.stderr().includes(`cumma watch: warning: ${folder}: the watched folder is gone (deleted, moved or unmounted); watching for it to come back`), 10_000, 'the warning on stderr');
    await client.until('the folder event', (messages) => messages.some((m) => m.type === 'folder' && m.event === 'missing'));
    const missing = client.of('folder')[0]!;
    expect(missing).toEqual({ v: 1, type: 'folder', event: 'missing', folder: { path: folder, state: 'missing' }, message: `${folder}: the watched folder is gone (deleted, moved or unmounted); watching for it to come back` });
    expect(await health(agent)).toMatchObject({ status: 'degraded', folders: 1, foldersMissing: 1 });

    mkdirSync(folder);
    copyFileSync(join(SAMPLES, 'telegram-calls.pcapng'), join(folder, 'telegram-calls.pcapng'));
    await labelled(agent, 'telegram-calls.pcapng', 'telegram-calls.pcapng');
    await client.until('the folder back', (messages) => messages.some((m) => m.type === 'folder' && m.event === 'back'));
    expect(client.of('folder').map((m) => [m.event, m.folder.state])).toEqual([
      ['missing', 'missing'],
      ['back', 'watching'],
    ]);
    // Its terminal line and its client message travel by different pipes: either may come first.
    await waitFor(() => agent.stderr().includes(`cumma watch: ${folder}: the watched folder is back; watching it and reading its captures`), 5000, 'the terminal line');
    expect(await health(agent)).toMatchObject({ status: 'ok', folders: 1, foldersMissing: 0 });
    expect((await captures(agent)).map((capture) => capture.name)).toEqual(['telegram-calls.pcapng']);
    // A client connecting now learns the folders and their state from hello.
    const late = await connectClient(agent.httpUrl, { token: agent.token });
    clients.push(late);
    expect(late.of('hello')[0]!.folders).toEqual([{ path: folder, state: 'watching' }]);
  }, 90_000);

  it('deleted and made again at once (no look in between), still says so and reads the new captures', async () => {
    const root = tempRoot();
    const folder = join(root, 'w5');
    mkdirSync(folder);
    copyFileSync(join(SAMPLES, 'signal-media.pcapng'), join(folder, 'signal-media.pcapng'));
    const agent = await startAgent(folder, join(root, 'config'));
    running.push(agent);
    await labelled(agent, 'signal-media.pcapng', 'signal-media.pcapng');

    // The user's report: rm -rf DIR; mkdir DIR; cp NEW DIR/ (a share unmounted and mounted again
    // looks the same: another folder under the same path).
    rmSync(folder, { recursive: true });
    mkdirSync(folder);
    copyFileSync(join(SAMPLES, 'telegram-calls.pcapng'), join(folder, 'telegram-calls.pcapng'));
    await labelled(agent, 'telegram-calls.pcapng', 'telegram-calls.pcapng');
    const replaced = new RegExp(`cumma watch: warning: ${folder}: the watched folder (is gone|was replaced by another of that name)`);
    await waitFor(() => replaced.test(agent.stderr()), 5000, 'the warning on the terminal');
    expect(await health(agent)).toMatchObject({ status: 'ok', foldersMissing: 0 });
    await waitFor(() => agent.stderr().includes('signal-media.pcapng: removed'), 10_000, 'the old capture removed');
  }, 90_000);
});

describe('the same folder given twice', () => {
  it('is watched once, whatever its spelling, and said so', async () => {
    const root = tempRoot();
    const folder = join(root, 'w2');
    mkdirSync(folder);
    symlinkSync(folder, join(root, 'link-to-w2'));
    copyFileSync(join(SAMPLES, 'whatsapp-chat.pcapng'), join(folder, 'chat.pcapng'));
    const spellings = [`${folder}/`, `${root}/./w2`, join(root, 'link-to-w2')];
    const agent = await startAgent(folder, join(root, 'config'), spellings);
    running.push(agent);
    expect(agent.stderr()).toContain(`cumma watch: model default@1; watching ${folder}\n`);
    for (const spelling of spellings) expect(agent.stderr()).toContain(`cumma watch: note: ${spelling} is ${folder} again: watched once`);
    await labelled(agent, 'whatsapp-chat.pcapng', 'chat.pcapng');
    expect((await captures(agent)).map((capture) => capture.name)).toEqual(['chat.pcapng']);
    expect(await health(agent)).toMatchObject({ status: 'ok', folders: 1 });
  }, 60_000);
});
