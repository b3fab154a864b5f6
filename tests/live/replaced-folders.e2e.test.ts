// A watched folder replaced under its path — here a symbolic link re-pointed (`ln -sfn t2 L`), as
// a file system mounted over it or another share mounted back look the same to the agent. The
// old folder's captures used to stay listed for good (ghosts: idle, their dialogs served, each
// holding its file open), a watch request for the old target was ignored (the folder was still
// deduplicated by the real path it had when first watched) and a link re-pointed at a folder
// watched already listed its captures twice.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureInfo } from '../../agent/src/live/label-feed';
import { connectClient } from '../serve/support/clients';
import { AgentProcess, openFilesOf, startAgent, waitFor, waitForFinalDialogs } from '../support/agent-process';
import { cleanUpAfterEach } from '../support/cleanup';

const SAMPLES = join(__dirname, '..', '..', 'samples');
const { running, clients, roots } = cleanUpAfterEach();

/** root/t1/x.pcapng, root/t2/y.pcapng, and the link root/L -> t1. */
function layout(): { root: string; t1: string; t2: string; link: string } {
  const root = mkdtempSync(join(tmpdir(), 'cumma-replaced-folders-'));
  roots.push(root);
  const t1 = join(root, 't1');
  const t2 = join(root, 't2');
  mkdirSync(t1);
  mkdirSync(t2);
  copyFileSync(join(SAMPLES, 'signal-media.pcapng'), join(t1, 'x.pcapng'));
  copyFileSync(join(SAMPLES, 'telegram-calls.pcapng'), join(t2, 'y.pcapng'));
  const link = join(root, 'L');
  symlinkSync(t1, link);
  return { root, t1, t2, link };
}

async function captureNames(agent: AgentProcess): Promise<string[]> {
  const list = (await (await fetch(`${agent.httpUrl}captures`, { headers: { Authorization: `Bearer ${agent.token}` } })).json()) as CaptureInfo[];
  return list.map((capture) => capture.name).sort();
}



describe('a watched folder replaced (a symbolic link re-pointed)', () => {
  it('drops the old folder’s captures (removed, file closed, sidecar left) and reads the new one’s', async () => {
    const { root, t1, t2, link } = layout();
    const agent = await startAgent(link, join(root, 'config'));
    running.push(agent);
    const client = await connectClient(agent.httpUrl, { token: agent.token });
    clients.push(client);
    await waitForFinalDialogs(agent, join(SAMPLES, 'signal-media.pcapng'), 'x.pcapng');
    await waitFor(() => existsSync(join(t1, 'x.pcapng.cumma.tsv')), 10_000, 'the sidecar of x');
    expect(openFilesOf(agent)).toContain(join(t1, 'x.pcapng'));

    execFileSync('ln', ['-sfn', t2, link]);
    await waitForFinalDialogs(agent, join(SAMPLES, 'telegram-calls.pcapng'), 'y.pcapng');
    await client.until('x removed', (messages) => messages.some((m) => m.type === 'capture' && m.event === 'removed' && m.capture.name === 'x.pcapng'));
    expect(client.of('folder').map((m) => m.event)).toEqual(['missing', 'back']);
    expect(client.of('folder')[0]!.message).toBe(
      `${link}: the watched folder was replaced by another of that name (deleted and made again, another file system mounted there, or a symbolic link on its path re-pointed)`,
    );
    expect(await captureNames(agent)).toEqual(['y.pcapng']);
    const late = await connectClient(agent.httpUrl, { token: agent.token });
    clients.push(late);
    expect(late.of('hello')[0]!.captures.map((capture) => capture.name)).toEqual(['y.pcapng']);
    expect(openFilesOf(agent)).not.toContain(join(t1, 'x.pcapng'));
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

    client.send({ v: 1, type: 'watch', path: t1 });
    await client.until('t1 added', (messages) => messages.some((m) => m.type === 'folder' && m.event === 'added' && m.folder.path === t1));
    await waitFor(() => agent.published().some((dialog) => dialog.capture === 'x.pcapng' && dialog.status === 'final'), 30_000, 'x read again from t1');
    client.send({ v: 1, type: 'watch', path: t2 });
    await client.sync();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(client.of('error')).toEqual([]);
    expect(client.of('folder').filter((m) => m.event === 'added').map((m) => m.folder.path)).toEqual([t1]);
    expect(await captureNames(agent)).toEqual(['x.pcapng', 'y.pcapng']);
  }, 90_000);

  it('re-pointed at a folder watched already: watched once, and said so', async () => {
    const { root, t2, link } = layout();
    const agent = await startAgent(link, join(root, 'config'), [t2]);
    running.push(agent);
    const client = await connectClient(agent.httpUrl, { token: agent.token });
    clients.push(client);
    await waitForFinalDialogs(agent, join(SAMPLES, 'signal-media.pcapng'), 'x.pcapng');
    await waitForFinalDialogs(agent, join(SAMPLES, 'telegram-calls.pcapng'), 'y.pcapng');

    execFileSync('ln', ['-sfn', t2, link]);
    await client.until('the link back', (messages) => messages.some((m) => m.type === 'folder' && m.event === 'back'));
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(client.of('folder').find((m) => m.event === 'back')!.message).toBe(`${link}: the folder now there is ${t2}, watched already: watched once, as ${t2}`);
    expect(await captureNames(agent)).toEqual(['y.pcapng']);

    // Pointed back: watched on its own again.
    execFileSync('ln', ['-sfn', join(root, 't1'), link]);
    await waitFor(() => agent.stderr().includes(`${link}: watching the folder now there and reading its captures`), 10_000, 'the link watched again');
    await waitFor(() => agent.published().filter((dialog) => dialog.capture === 'x.pcapng').length > 0, 30_000, 'x read again');
    expect(await captureNames(agent)).toEqual(['x.pcapng', 'y.pcapng']);
  }, 90_000);
});
