// A watched folder replaced under its path — here a symbolic link re-pointed (`ln -sfn t2 L`), as
// a file system mounted over it or another share mounted back look the same to the agent. The
// old folder's captures used to stay listed for good (ghosts: idle, their dialogs served, each
// holding its file open), a watch request for the old target was ignored (the folder was still
// deduplicated by the real path it had when first watched) and a link re-pointed at a folder
// watched already listed its captures twice.
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureInfo } from '../../agent/src/live/label-feed';
import { ServerMessage } from '../../agent/src/serve/protocol';
import { connectClient, TestClient } from '../serve/support/clients';
import { AgentProcess, openFilesOf, startAgent, waitFor, waitForFinalDialogs } from '../support/agent-process';
import { cleanUpAfterEach } from '../support/cleanup';
import { linkedFolders } from '../support/linked-folders';

const SAMPLES = join(__dirname, '..', '..', 'samples');
const { running, clients, roots } = cleanUpAfterEach();

/** A scratch folder holding root/t1/x.pcapng, root/t2/y.pcapng, and the link root/L -> t1. */
function layout(): { root: string; t1: string; t2: string; link: string } {
  const root = mkdtempSync(join(tmpdir(), 'cumma-replaced-folders-'));
  roots.push(root);
  return { root, ...linkedFolders(root) };
}

async function captureNames(agent: AgentProcess): Promise<string[]> {
  const list = (await (await fetch(`${agent.httpUrl}captures`, { headers: { Authorization: `Bearer ${agent.token}` } })).json()) as CaptureInfo[];
  return list.map((capture) => capture.name).sort();
}

/**
 * The `capture` `added` event of the file at `path`, among the messages from the `after`-th on.
 * What says that the agent lists a capture again: its earlier dialogs, still in the agent's
 * output and the client's log, say nothing of it.
 */
async function captureAdded(client: TestClient, path: string, after: number): Promise<void> {
  await client.until(`${path} added`, (messages) => messages.slice(after).some((m) => m.type === 'capture' && m.event === 'added' && m.capture.path === path));
}

/** The `folder` `back` event among the messages from the `after`-th on. */
async function folderBack(client: TestClient, after: number): Promise<FolderMessage> {
  const find = (): FolderMessage | undefined => client.messages.slice(after).find((m): m is FolderMessage => m.type === 'folder' && m.event === 'back');
  await client.until('the folder back', () => find() !== undefined);
  return find()!;
}

type FolderMessage = Extract<ServerMessage, { type: 'folder' }>;

/**
 * Right after the link moved: a capture appears in the folder it led to, whose writer goes on
 * (the agent's own sidecar rewrites do the same). The old folder's watcher listed the folder
 * again by the link's path, the new folder's files then, and the agent took them as the old
 * folder's until its next look, up to a second later: the new folder's captures added under the
 * old watch (a folder watched already: twice, as NAME#2), the old one's removed as deleted files,
 * before the agent said that the folder was replaced.
 */
function writerGoesOn(oldFolder: string): void {
  copyFileSync(join(SAMPLES, 'whatsapp-chat.pcapng'), join(oldFolder, 'later.pcapng'));
}

describe('a watched folder replaced (a symbolic link re-pointed)', () => {
  it('drops the old folder’s captures (removed, file closed, sidecar left) and reads the new one’s', async () => {
    const { root, t1, t2, link } = layout();
    const agent = await startAgent(link, join(root, 'config'));
    running.push(agent);
    const client = await connectClient(agent.httpUrl, { token: agent.token });
    clients.push(client);
    // A capture idle for 10 s has its file closed anyway (FILE_RELEASE_AFTER_MS): x's file is
    // seen open once x is read (its sidecar written) and closed as soon as x is removed, both
    // long before then, so that its closing is the removal's doing.
    await waitFor(() => existsSync(join(t1, 'x.pcapng.cumma.tsv')), 10_000, 'the sidecar of x');
    expect(openFilesOf(agent)).toContain(join(t1, 'x.pcapng'));

    const seen = client.messages.length;
    execFileSync('ln', ['-sfn', t2, link]);
    writerGoesOn(t1);
    await client.until('x removed', (messages) => messages.some((m) => m.type === 'capture' && m.event === 'removed' && m.capture.name === 'x.pcapng'));
    // The agent closes the file before it sends the event.
    expect(openFilesOf(agent)).not.toContain(join(t1, 'x.pcapng'));
    await folderBack(client, seen);
    await waitForFinalDialogs(agent, join(SAMPLES, 'telegram-calls.pcapng'), 'y.pcapng');
    // Said first, then done: the old folder's capture removed, the new one's read.
    const events = client.messages
      .slice(seen)
      .flatMap((m) => (m.type === 'folder' ? [m.event] : m.type === 'capture' && (m.event === 'added' || m.event === 'removed') ? [`${m.event} ${m.capture.name}`] : []));
    expect(events).toEqual(['missing', 'removed x.pcapng', 'back', 'added y.pcapng']);
    expect(client.of('folder').map((m) => m.event)).toEqual(['missing', 'back']);
    expect(client.of('folder')[0]!.message).toBe(
      `${link}: the watched folder was replaced by another of that name (deleted and made again, another file system mounted there, or a symbolic link on its path re-pointed)`,
    );
    expect(await captureNames(agent)).toEqual(['y.pcapng']);
    const late = await connectClient(agent.httpUrl, { token: agent.token });
    clients.push(late);
    expect(late.of('hello')[0]!.captures.map((capture) => capture.name)).toEqual(['y.pcapng']);
    // The old file is still there, out of the agent's reach: its sidecar stays with it.
    expect(existsSync(join(t1, 'x.pcapng.cumma.tsv'))).toBe(true);
    expect(await (await fetch(`${agent.httpUrl}health`)).json()).toMatchObject({ status: 'ok', folders: 1, foldersMissing: 0 });
  }, 90_000);

  it('a watch request for the old target watches it; one for the new target is the re-pointed folder again', async () => {
    const { root, t1, t2, link } = layout();
    const agent = await startAgent(link, join(root, 'config'));
    running.push(agent);
    const client = await connectClient(agent.httpUrl, { token: agent.token });
    clients.push(client);
    await waitForFinalDialogs(agent, join(SAMPLES, 'signal-media.pcapng'), 'x.pcapng');
    execFileSync('ln', ['-sfn', t2, link]);
    await waitForFinalDialogs(agent, join(SAMPLES, 'telegram-calls.pcapng'), 'y.pcapng');

    // x.pcapng's dialogs of its first reading (as L/x.pcapng) are in the output already: only the
    // capture added from t1, and dialogs published after the request, say that t1 is read.
    const seen = client.messages.length;
    const published = agent.published().length;
    client.send({ v: 1, type: 'watch', path: t1 });
    await client.until('t1 added', (messages) => messages.some((m) => m.type === 'folder' && m.event === 'added' && m.folder.path === t1));
    await captureAdded(client, join(t1, 'x.pcapng'), seen);
    await waitFor(() => agent.published().slice(published).some((dialog) => dialog.capture === 'x.pcapng' && dialog.status === 'final'), 30_000, 'x read again from t1');
    client.send({ v: 1, type: 'watch', path: t2 });
    await client.sync();
    // Nothing is to come of that request: an `added` folder event would have been sent before the
    // pong, but a WATCH_FAILED (a rejected promise) or a second reading of t2's captures would
    // come later, so the absence of both is checked after a while.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(client.of('error')).toEqual([]);
    expect(client.of('folder').filter((m) => m.event === 'added').map((m) => m.folder.path)).toEqual([t1]);
    expect(await captureNames(agent)).toEqual(['x.pcapng', 'y.pcapng']);
  }, 90_000);

  it('re-pointed at a folder watched already: watched once, and said so', async () => {
    const { root, t1, t2, link } = layout();
    const agent = await startAgent(link, join(root, 'config'), [t2]);
    running.push(agent);
    const client = await connectClient(agent.httpUrl, { token: agent.token });
    clients.push(client);
    await waitForFinalDialogs(agent, join(SAMPLES, 'signal-media.pcapng'), 'x.pcapng');
    await waitForFinalDialogs(agent, join(SAMPLES, 'telegram-calls.pcapng'), 'y.pcapng');

    let seen = client.messages.length;
    execFileSync('ln', ['-sfn', t2, link]);
    writerGoesOn(t1);
    // x is removed before the `back` event is sent (the same look at the folder does both).
    expect((await folderBack(client, seen)).message).toBe(`${link}: the folder now there is ${t2}, watched already: watched once, as ${t2}`);
    expect(await captureNames(agent)).toEqual(['y.pcapng']);
    // A second watcher on t2 would list y again as y.pcapng#2 once it has scanned the folder; that
    // absence has no event to wait for, so it is looked for after a while.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await captureNames(agent)).toEqual(['y.pcapng']);

    // Pointed back: watched on its own again, with the capture written into it meanwhile. x's
    // dialogs of the first reading are in the output already; the capture added and dialogs
    // published after the link moved say it is read again.
    seen = client.messages.length;
    const published = agent.published().length;
    execFileSync('ln', ['-sfn', t1, link]);
    expect((await folderBack(client, seen)).message).toBe(`${link}: watching the folder now there and reading its captures`);
    await waitFor(() => agent.stderr().includes(`${link}: watching the folder now there and reading its captures`), 10_000, 'the link watched again, on stderr');
    await captureAdded(client, join(link, 'x.pcapng'), seen);
    await captureAdded(client, join(link, 'later.pcapng'), seen);
    await waitFor(() => agent.published().slice(published).some((dialog) => dialog.capture === 'x.pcapng'), 30_000, 'x read again');
    expect(await captureNames(agent)).toEqual(['later.pcapng', 'x.pcapng', 'y.pcapng']);
  }, 90_000);
});
