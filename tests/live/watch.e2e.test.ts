// End to end: a real `cumma watch` process, a real WebSocket client, captures written into the
// watched folder the way dumpcap writes them (appended in pieces while the agent reads).
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveDialog } from '../../agent/src/live/label-feed';
import { AgentProcess, RecordingClient, appendInPieces, classifyFile, expectedDialogs, startAgent, waitFor } from '../support/agent-process';

const SAMPLES = join(__dirname, '..', '..', 'samples');
const running: AgentProcess[] = [];
const folders: string[] = [];

function scratch(): { folder: string; config: string } {
  const root = mkdtempSync(join(tmpdir(), 'cumma-watch-'));
  folders.push(root);
  return { folder: join(root, 'captures'), config: join(root, 'config') };
}

async function agentOn(folder: string, config: string): Promise<AgentProcess> {
  const { mkdirSync } = await import('node:fs');
  mkdirSync(folder, { recursive: true });
  const agent = await startAgent(folder, config);
  running.push(agent);
  return agent;
}



function finals(dialogs: Iterable<LiveDialog>): Map<string, LiveDialog> {
  return new Map([...dialogs].filter((dialog) => dialog.status === 'final').map((dialog) => [dialog.id, dialog]));
}

afterEach(async () => {
  for (const agent of running.splice(0)) if (agent.child.exitCode === null) await agent.kill();
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe('cumma watch, end to end', () => {
  it('publishes over WebSocket exactly the dialogs cumma classify finds in the finished file', async () => {
    const { folder, config } = scratch();
    const agent = await agentOn(folder, config);
    const client = await RecordingClient.connect(agent);
    const source = readFileSync(join(SAMPLES, 'telegram-calls.pcapng'));
    const target = join(folder, 'calls.pcapng');
    await appendInPieces(target, source, 0, source.length, 1);
    const expected = expectedDialogs(target, 'calls.pcapng');
    expect(expected.size).toBeGreaterThan(5);
    // Dialogs still open when the file stops growing close on the wall clock after the gap.
    await waitFor(() => finals(client.latest().values()).size >= expected.size, 30_000, `${expected.size} final dialogs`);
    const received = finals(client.latest().values());
    expect([...received.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [id, dialog] of expected) expect(received.get(id)).toEqual(dialog);
    // No final dialog was announced twice.
    const finalEvents = client.dialogEvents().filter((dialog) => dialog.status === 'final').map((dialog) => dialog.id);
    expect(new Set(finalEvents).size).toBe(finalEvents.length);
    // And the sidecar next to the capture lists them all.
    await waitFor(() => existsSync(`${target}.cumma.tsv`) && readFileSync(`${target}.cumma.tsv`, 'utf8').split('\n').filter((l) => l.endsWith('\tfinal')).length === expected.size, 5_000, 'the sidecar');
    client.close();
    expect(await agent.stop()).toBe(0);
  }, 60_000);

  it('loses nothing and repeats nothing when killed with SIGKILL mid-capture and restarted', async () => {
    const { folder, config } = scratch();
    const source = readFileSync(join(SAMPLES, 'whatsapp-chat.pcapng'));
    const target = join(folder, 'chat.pcapng');
    const first = await agentOn(folder, config);
    const before = await RecordingClient.connect(first);
    const half = Math.floor(source.length / 2);
    await appendInPieces(target, source, 0, half, 2);
    await waitFor(() => finals(before.dialogEvents()).size >= 5, 20_000, 'final dialogs before the crash');
    await first.kill();

    const second = await agentOn(folder, config);
    const after = await RecordingClient.connect(second);
    await appendInPieces(target, source, half, source.length, 3);
    const expected = expectedDialogs(target, 'chat.pcapng');
    await waitFor(() => finals(after.latest().values()).size >= expected.size, 30_000, `${expected.size} final dialogs after the restart`);

    // Everything either process published (its log of dialog events): no final dialog twice.
    const announced = [...first.published(), ...second.published()].filter((dialog) => dialog.status === 'final').map((dialog) => dialog.id);
    expect(new Set(announced).size).toBe(announced.length);
    // (A dialog journalled in the instant before the kill but not yet written out is not
    // announced again; the restarted agent's snapshot, checked below, still holds it.)
    for (const id of announced) expect(expected.has(id)).toBe(true);
    const seen = finals([...before.dialogEvents(), ...after.latest().values()]);
    expect([...seen.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [id, dialog] of expected) expect(seen.get(id)).toEqual(dialog);
    expect(finals(before.dialogEvents()).size).toBeLessThan(expected.size);
  }, 90_000);

  it('reports a file that is not a capture, and writes no labels file beside it', async () => {
    const { folder, config } = scratch();
    const agent = await agentOn(folder, config);
    const client = await RecordingClient.connect(agent);
    writeFileSync(join(folder, 'notes.pcap'), 'hello, not a capture\n');
    writeFileSync(join(folder, 'x.pcapng'), readFileSync(join(SAMPLES, 'whatsapp-chat.pcapng')));
    await waitFor(() => client.messages.some((m) => m.type === 'capture' && m.event === 'error'), 20_000, 'the error about notes.pcap');
    const error = client.messages.find((m) => m.type === 'capture' && m.event === 'error');
    expect(error?.type === 'capture' ? error.message : '').toMatch(/notes\.pcap: byte offset 0: not a pcap or pcapng capture .*\[CAPTURE_UNKNOWN_FORMAT\]/);
    // The real capture next to it gets its sidecar; the text file none, even after the agent stops.
    await waitFor(() => existsSync(join(folder, 'x.pcapng.cumma.tsv')), 20_000, "x.pcapng's sidecar");
    expect(await agent.stop()).toBe(0);
    expect(existsSync(join(folder, 'notes.pcap.cumma.tsv'))).toBe(false);
  }, 60_000);

  it('reports a replaced, a corrupt and a deleted capture, keeping what was read before the fault', async () => {
    const { folder, config } = scratch();
    const agent = await agentOn(folder, config);
    const client = await RecordingClient.connect(agent);
    const captureEvents = (): string[] => client.messages.flatMap((m) => (m.type === 'capture' ? [`${m.event}:${m.capture.name}`] : []));
    const target = join(folder, 'x.pcapng');

    writeFileSync(target, readFileSync(join(SAMPLES, 'whatsapp-chat.pcapng')));
    await waitFor(() => client.dialogEvents().some((d) => d.capture === 'x.pcapng'), 20_000, 'dialogs of x.pcapng');

    // Replaced under the same name by a different capture: read again from the start.
    const other = join(folder, 'staging.tmp');
    writeFileSync(other, readFileSync(join(SAMPLES, 'signal-media.pcapng')));
    renameSync(other, target);
    // Sent as restarted: clients drop the dialogs they hold for it.
    await waitFor(() => captureEvents().includes('restarted:x.pcapng'), 20_000, 'the replacement to be reported');
    const restart = client.messages.find((m) => m.type === 'capture' && m.event === 'restarted');
    expect(restart?.type === 'capture' ? restart.message : '').toMatch(/x\.pcapng: replaced by a new file; reading it again from the start/);
    const media = expectedDialogs(target, 'x.pcapng');
    await waitFor(() => [...media.keys()].every((id) => client.latest().get(id)?.status === 'final'), 30_000, 'the new capture\'s dialogs');

    // Corrupt bytes appended: an error naming the file and offset; earlier dialogs stay served.
    const size = readFileSync(target).length;
    appendFileSync(target, Buffer.from([0x06, 0, 0, 0, 0x07, 0, 0, 0, 1, 2, 3, 4]));
    await waitFor(() => client.messages.some((m) => m.type === 'capture' && m.event === 'error'), 20_000, 'the corruption to be reported');
    const error = client.messages.find((m) => m.type === 'capture' && m.event === 'error');
    expect(error?.type === 'capture' ? error.message : '').toMatch(new RegExp(`x\\.pcapng: byte offset ${size}: .*\\[CAPTURE_`));
    const labels = await fetch(`${agent.httpUrl}labels?capture=x.pcapng&format=jsonl&token=${agent.token}`);
    expect(labels.status).toBe(200);
    expect((await labels.text()).trim().split('\n').length).toBe(media.size);

    const removals = (): number => captureEvents().filter((event) => event === 'removed:x.pcapng').length;
    rmSync(target);
    await waitFor(() => removals() === 1, 20_000, 'the removal to be reported');
    expect(agent.child.exitCode).toBeNull();
  }, 90_000);

  it('a --host it cannot serve on gets its error alone, without the warning about serving beyond loopback', () => {
    const { folder, config } = scratch();
    mkdirSync(folder, { recursive: true });
    const result = spawnSync(process.execPath, [join(__dirname, '..', '..', 'dist', 'cumma.js'), 'watch', folder, '--host', '256.1.1.1', '--port', '0', '--state-dir', join(config, 'state')], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, CUMMA_CONFIG_DIR: config },
    });
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/^cumma watch: cannot serve on 256\.1\.1\.1:0: /m);
    expect(result.stderr).not.toContain('warning: serving on');
  }, 40_000);

  it('beyond loopback, warns and anonymises every address it serves, but not the local sidecar', async () => {
    const { folder, config } = scratch();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(folder, { recursive: true });
    const target = join(folder, 'chat.pcapng');
    writeFileSync(target, readFileSync(join(SAMPLES, 'whatsapp-chat.pcapng')));
    const agent = await startAgent(folder, config, ['--host', '0.0.0.0']);
    running.push(agent);
    expect(agent.stderr()).toMatch(/warning: serving on 0\.0\.0\.0.*anonymised/);
    const originals = new Set(classifyFile(target).flatMap((d) => [d.client.ip, d.server.ip]));
    expect(originals.size).toBeGreaterThan(3);
    await waitFor(() => existsSync(`${target}.cumma.tsv`), 15_000, 'the sidecar');
    const served = await (await fetch(`${agent.httpUrl}labels?capture=chat.pcapng&format=jsonl&token=${agent.token}`)).text();
    expect(served.split('\n').filter((line) => line !== '').length).toBeGreaterThan(3);
    for (const ip of originals) expect(served).not.toContain(`"${ip}"`);
    // The sidecar stays on this machine, for Wireshark to match the real addresses.
    const sidecar = readFileSync(`${target}.cumma.tsv`, 'utf8');
    expect([...originals].every((ip) => sidecar.includes(`\t${ip}\t`))).toBe(true);
    // And a client cannot make it read arbitrary folders.
    const client = await RecordingClient.connect(agent);
    client.socket.send(JSON.stringify({ v: 1, type: 'watch', path: tmpdir() }));
    await waitFor(() => client.messages.some((m) => m.type === 'error' && m.code === 'WATCH_FAILED'), 5_000, 'the watch request to be refused');
    client.close();
  }, 60_000);
});
