// The agent held every capture's file open for good, so a watched share could not be unmounted
// (`umount: target is busy`) while it ran. A capture idle for a while (FILE_RELEASE_AFTER_MS,
// 10 s) has its file closed, opened again on its next change, and a file replaced meanwhile is
// still recognised (another inode: read again from the start).
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, TestClient } from '../serve/support/clients';
import { AgentProcess, expectedDialogs, startAgent, waitFor } from '../support/agent-process';

const SAMPLES = join(__dirname, '..', '..', 'samples');
const running: AgentProcess[] = [];
const clients: TestClient[] = [];
const roots: string[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const agent of running.splice(0)) if (agent.child.exitCode === null) await agent.kill();
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function openFiles(agent: AgentProcess): string[] {
  const dir = `/proc/${agent.child.pid}/fd`;
  return readdirSync(dir).flatMap((fd) => {
    try {
      return [readlinkSync(join(dir, fd))];
    } catch {
      return [];
    }
  });
}

async function labelled(agent: AgentProcess, sample: string, name: string, after = 0): Promise<void> {
  const expected = expectedDialogs(join(SAMPLES, sample), name);
  const finals = (): Set<string> => new Set(agent.published().slice(after).filter((dialog) => dialog.capture === name && dialog.status === 'final').map((dialog) => dialog.id));
  await waitFor(() => [...expected.keys()].every((id) => finals().has(id)), 30_000, `the dialogs of ${name}`);
}

describe('a capture that stopped growing', () => {
  it('has its file closed after a while, and a file replaced meanwhile is read again', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cumma-idle-release-'));
    roots.push(root);
    const folder = join(root, 'caps');
    mkdirSync(folder);
    const capture = join(folder, 'x.pcapng');
    copyFileSync(join(SAMPLES, 'signal-media.pcapng'), capture);
    const agent = await startAgent(folder, join(root, 'config'));
    running.push(agent);
    const client = await connectClient(agent.httpUrl, { token: agent.token });
    clients.push(client);
    await labelled(agent, 'signal-media.pcapng', 'x.pcapng');
    expect(openFiles(agent)).toContain(capture);
    await waitFor(() => !openFiles(agent).includes(capture), 20_000, 'the idle capture closed');

    // Replaced under the same name while closed: another inode, read again from the start.
    const before = agent.published().length;
    copyFileSync(join(SAMPLES, 'telegram-calls.pcapng'), join(folder, '.x.tmp'));
    renameSync(join(folder, '.x.tmp'), capture);
    await client.until('x restarted', (messages) => messages.some((m) => m.type === 'capture' && m.event === 'restarted' && m.capture.name === 'x.pcapng'));
    await labelled(agent, 'telegram-calls.pcapng', 'x.pcapng', before);
  }, 90_000);
});
