// The agent held every capture's file open for good, so a watched share could not be unmounted
// (`umount: target is busy`) while it ran. A capture idle for a while (FILE_RELEASE_AFTER_MS,
// 10 s) has its file closed, opened again on its next change, and a file replaced meanwhile is
// still recognised (another inode: read again from the start).
import { copyFileSync, mkdirSync, mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectClient } from '../serve/support/clients';
import { openFilesOf, startAgent, waitFor, waitForFinalDialogs } from '../support/agent-process';
import { cleanUpAfterEach } from '../support/cleanup';

const SAMPLES = join(__dirname, '..', '..', 'samples');
const { running, clients, roots } = cleanUpAfterEach();



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
    // Seen open as soon as it is read (a dialog of it published), not once its dialogs are final:
    // that takes the dialog gap (5 s) and more on a busy machine, too close to the 10 s after
    // which the file is closed.
    await waitFor(() => agent.published().some((dialog) => dialog.capture === 'x.pcapng'), 10_000, 'x read');
    expect(openFilesOf(agent)).toContain(capture);
    await waitForFinalDialogs(agent, join(SAMPLES, 'signal-media.pcapng'), 'x.pcapng');
    await waitFor(() => !openFilesOf(agent).includes(capture), 20_000, 'the idle capture closed');

    // Replaced under the same name while closed: another inode, read again from the start.
    const before = agent.published().length;
    copyFileSync(join(SAMPLES, 'telegram-calls.pcapng'), join(folder, '.x.tmp'));
    renameSync(join(folder, '.x.tmp'), capture);
    await client.until('x restarted', (messages) => messages.some((m) => m.type === 'capture' && m.event === 'restarted' && m.capture.name === 'x.pcapng'));
    await waitForFinalDialogs(agent, join(SAMPLES, 'telegram-calls.pcapng'), 'x.pcapng', before);
  }, 90_000);
});
