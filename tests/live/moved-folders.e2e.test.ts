// A watched folder moved away (`mv caps caps.old`) and back, with a real `cumma watch`. chokidar
// reports every file of a folder gone from its path as unlinked, whether the folder was deleted or
// moved, and the agent took each as deleted: the captures were `removed` at once, their state
// journals deleted, /captures was [] while the folder was away, and when it was moved back every
// final dialog was published again (twice on stdout, again as new to clients). Now a file that
// went with its folder is kept, as for a share unmounted, and simply continues when the folder is
// back as the same file; one deleted (`rm -r`, or deleted where the folder was moved to) is still
// removed at once.
import { copyFileSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureInfo, LiveDialog } from '../../agent/src/live/label-feed';
import { ServerMessage } from '../../agent/src/serve/protocol';
import { connectClient, TestClient } from '../serve/support/clients';
import { AgentProcess, expectedDialogs, servedLabels, waitFor, waitForFinalDialogs } from '../support/agent-process';
import { agentInScratch, cleanUpAfterEach } from '../support/cleanup';

const SAMPLES = join(__dirname, '..', '..', 'samples');
const CALLS = join(SAMPLES, 'telegram-calls.pcapng');
const CHAT = join(SAMPLES, 'whatsapp-chat.pcapng');
const leftovers = cleanUpAfterEach();
const { clients } = leftovers;

interface Setup {
  readonly root: string;
  readonly folder: string;
  readonly away: string;
  readonly state: string;
  readonly agent: AgentProcess;
  readonly client: TestClient;
}

/** root/caps/call.pcapng watched (journals in root/state), a client connected from the start, every dialog of call.pcapng final and its sidecar written. */
async function watchedAndRead(): Promise<Setup> {
  const { root, folder, state, agent } = await agentInScratch(leftovers, 'cumma-moved-folders-', { folderName: 'caps', captures: new Map([[CALLS, 'call.pcapng']]) });
  const client = await connectClient(agent.httpUrl, { token: agent.token });
  clients.push(client);
  client.send({ v: 1, type: 'subscribe', captures: '*' });
  await waitForFinalDialogs(agent, join(folder, 'call.pcapng'), 'call.pcapng');
  await waitFor(() => existsSync(join(folder, 'call.pcapng.cumma.tsv')), 10_000, 'the sidecar of call.pcapng');
  return { root, folder, away: join(root, 'caps.old'), state, agent, client };
}

async function captures(agent: AgentProcess): Promise<CaptureInfo[]> {
  return (await (await fetch(`${agent.httpUrl}captures`, { headers: { Authorization: `Bearer ${agent.token}` } })).json()) as CaptureInfo[];
}

async function health(agent: AgentProcess): Promise<Record<string, unknown>> {
  return (await (await fetch(`${agent.httpUrl}health`)).json()) as Record<string, unknown>;
}

/** The journals in the state folder: name → inode and content. */
function journals(state: string): Map<string, string> {
  return new Map(readdirSync(state).map((name) => [name, `${statSync(join(state, name)).ino}:${readFileSync(join(state, name), 'utf8')}`]));
}

async function folderEvent(client: TestClient, event: 'missing' | 'back'): Promise<void> {
  await client.until(`the folder ${event}`, (messages) => messages.some((m) => m.type === 'folder' && m.event === event));
}

/** `added`/`removed` capture events the client got from its `after`-th message on, as "EVENT NAME". */
function listChanges(client: TestClient, after: number): string[] {
  return client.messages.slice(after).flatMap((m) => (m.type === 'capture' && (m.event === 'added' || m.event === 'removed') ? [`${m.event} ${m.capture.name}`] : []));
}

/** How many times each dialog was published final: on stdout, or to the client (its snapshots and dialog events). */
function finalCounts(dialogs: readonly LiveDialog[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const dialog of dialogs) if (dialog.status === 'final') counts.set(dialog.id, (counts.get(dialog.id) ?? 0) + 1);
  return counts;
}

function clientDialogs(messages: readonly ServerMessage[]): LiveDialog[] {
  return messages.flatMap((m) => (m.type === 'snapshot' ? m.dialogs : m.type === 'dialog' ? [m.dialog] : []));
}

function once(ids: Iterable<string>): Map<string, number> {
  return new Map([...ids].map((id) => [id, 1]));
}

/** Time for anything a folder's return would wrongly bring (a capture added again, its dialogs published again) to show. */
const SETTLE_MS = 3000;

describe('a watched folder moved away and back', () => {
  it('keeps its captures, journals and dialogs: nothing removed or added, every dialog published once', async () => {
    const { folder, away, state, agent, client } = await watchedAndRead();
    const expected = expectedDialogs(join(folder, 'call.pcapng'), 'call.pcapng');
    const kept = journals(state);
    expect(kept.size).toBe(1);

    const seen = client.messages.length;
    renameSync(folder, away);
    await folderEvent(client, 'missing');
    renameSync(away, folder);
    await folderEvent(client, 'back');
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

    expect(client.of('folder').map((m) => m.event)).toEqual(['missing', 'back']);
    expect(listChanges(client, seen)).toEqual([]);
    expect(agent.stderr()).not.toContain('call.pcapng: removed');
    expect(finalCounts(agent.published())).toEqual(once(expected.keys()));
    expect(finalCounts(clientDialogs(client.messages))).toEqual(once(expected.keys()));
    expect(journals(state)).toEqual(kept);
    expect((await captures(agent)).map((capture) => [capture.name, capture.state])).toEqual([['call.pcapng', 'idle']]);
    expect(new Map((await servedLabels(agent, 'call.pcapng')).map((dialog) => [dialog.id, dialog]))).toEqual(expected);
    expect(existsSync(join(folder, 'call.pcapng.cumma.tsv'))).toBe(true);
    expect(await health(agent)).toMatchObject({ status: 'ok', foldersMissing: 0 });
  }, 90_000);

  it('while it is away, still lists its captures and serves their dialogs, the folder reported missing', async () => {
    const { folder, away, state, agent, client } = await watchedAndRead();
    const expected = expectedDialogs(join(folder, 'call.pcapng'), 'call.pcapng');
    const kept = journals(state);

    const seen = client.messages.length;
    renameSync(folder, away);
    await folderEvent(client, 'missing');
    // chokidar's unlink events come a little after the folder is gone; the removal they made
    // was at once, so a while later is when it would show.
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    expect(client.of('folder')[0]).toEqual({
      v: 1,
      type: 'folder',
      event: 'missing',
      folder: { path: folder, state: 'missing' },
      message: `${folder}: the watched folder is gone (deleted, moved or unmounted); watching for it to come back`,
    });
    expect(await health(agent)).toMatchObject({ status: 'degraded', folders: 1, foldersMissing: 1 });
    expect((await captures(agent)).map((capture) => capture.name)).toEqual(['call.pcapng']);
    expect(new Map((await servedLabels(agent, 'call.pcapng')).map((dialog) => [dialog.id, dialog]))).toEqual(expected);
    expect(listChanges(client, seen)).toEqual([]);
    expect(journals(state)).toEqual(kept);
    const late = await connectClient(agent.httpUrl, { token: agent.token });
    clients.push(late);
    const hello = late.of('hello')[0]!;
    expect(hello.folders).toEqual([{ path: folder, state: 'missing' }]);
    expect(hello.captures.map((capture) => capture.name)).toEqual(['call.pcapng']);
  }, 90_000);

  it('a capture put in it while it is away is read once it is back; the old one goes on', async () => {
    const { folder, away, agent, client } = await watchedAndRead();
    const expected = expectedDialogs(join(folder, 'call.pcapng'), 'call.pcapng');

    const seen = client.messages.length;
    renameSync(folder, away);
    await folderEvent(client, 'missing');
    copyFileSync(CHAT, join(away, 'new.pcapng'));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    renameSync(away, folder);
    await folderEvent(client, 'back');
    await waitForFinalDialogs(agent, join(folder, 'new.pcapng'), 'new.pcapng');
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

    expect(listChanges(client, seen)).toEqual(['added new.pcapng']);
    const added = expectedDialogs(join(folder, 'new.pcapng'), 'new.pcapng');
    expect(finalCounts(agent.published())).toEqual(once([...expected.keys(), ...added.keys()]));
    expect(finalCounts(clientDialogs(client.messages))).toEqual(once([...expected.keys(), ...added.keys()]));
    expect((await captures(agent)).map((capture) => capture.name).sort()).toEqual(['call.pcapng', 'new.pcapng']);
    expect(new Map((await servedLabels(agent, 'new.pcapng')).map((dialog) => [dialog.id, dialog]))).toEqual(added);
  }, 90_000);
});

describe('a watched folder moved away and back within a moment (between two of the agent’s looks)', () => {
  it('keeps its captures, and is watched anew: a capture put in it later is read', async () => {
    const { folder, away, agent, client } = await watchedAndRead();
    const expected = expectedDialogs(join(folder, 'call.pcapng'), 'call.pcapng');
    const seen = client.messages.length;
    // chokidar sees the folder gone, reports its files unlinked (a little later, when it is
    // back already) and stops watching it for good: captures put in it afterwards went unread.
    renameSync(folder, away);
    await new Promise((resolve) => setTimeout(resolve, 200));
    renameSync(away, folder);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    copyFileSync(CHAT, join(folder, 'later.pcapng'));
    await waitForFinalDialogs(agent, join(folder, 'later.pcapng'), 'later.pcapng');

    expect(listChanges(client, seen)).toEqual(['added later.pcapng']);
    const later = expectedDialogs(join(folder, 'later.pcapng'), 'later.pcapng');
    expect(finalCounts(agent.published())).toEqual(once([...expected.keys(), ...later.keys()]));
    expect((await captures(agent)).map((capture) => capture.name).sort()).toEqual(['call.pcapng', 'later.pcapng']);
    expect(await health(agent)).toMatchObject({ status: 'ok', foldersMissing: 0 });
  }, 90_000);
});

describe('a watched folder moved away for good', () => {
  it('stays missing, its captures served; deleted where it was moved to, they are removed then', async () => {
    const { folder, away, state, agent, client } = await watchedAndRead();
    const seen = client.messages.length;
    renameSync(folder, away);
    await folderEvent(client, 'missing');
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    expect((await captures(agent)).map((capture) => capture.name)).toEqual(['call.pcapng']);
    expect(listChanges(client, seen)).toEqual([]);
    expect(journals(state).size).toBe(1);

    rmSync(away, { recursive: true });
    await client.until('call.pcapng removed', (messages) => messages.some((m) => m.type === 'capture' && m.event === 'removed' && m.capture.name === 'call.pcapng'));
    expect(await captures(agent)).toEqual([]);
    expect(listChanges(client, seen)).toEqual(['removed call.pcapng']);
    expect(journals(state).size).toBe(0);
    expect(await health(agent)).toMatchObject({ status: 'degraded', foldersMissing: 1 });
  }, 90_000);
});

describe('a watched folder deleted (rm -r) and never back', () => {
  it('has its captures removed at once, with their journals; the folder stays missing', async () => {
    const { folder, state, agent, client } = await watchedAndRead();
    rmSync(folder, { recursive: true });
    await folderEvent(client, 'missing');
    await client.until('call.pcapng removed', (messages) => messages.some((m) => m.type === 'capture' && m.event === 'removed' && m.capture.name === 'call.pcapng'));
    await waitFor(() => agent.stderr().includes('cumma watch: call.pcapng: removed'), 10_000, 'the removal on stderr');
    expect(await captures(agent)).toEqual([]);
    expect((await fetch(`${agent.httpUrl}labels?capture=call.pcapng`, { headers: { Authorization: `Bearer ${agent.token}` } })).status).toBe(404);
    expect(journals(state).size).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    expect(client.of('folder').map((m) => m.event)).toEqual(['missing']);
    expect(await health(agent)).toMatchObject({ status: 'degraded', folders: 1, foldersMissing: 1 });
  }, 90_000);
});
