// Long dialogs (a call) get a provisional label within 2 s of their start and updates at most
// every 2 s, then a final one; measured on the wall clock against a real `cumma watch`.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packetBlocks, replayCapture } from '../../scripts/lib/capture-replay';
import { AgentProcess, RecordingClient, startAgent, waitFor } from '../support/agent-process';

const SAMPLE = join(__dirname, '..', '..', 'samples', 'telegram-calls.pcapng');
let agent: AgentProcess | undefined;
const root = mkdtempSync(join(tmpdir(), 'cumma-provisional-'));

afterAll(async () => {
  if (agent && agent.child.exitCode === null) await agent.kill();
  rmSync(root, { recursive: true, force: true });
});

describe('provisional labels', () => {
  it('labels a long dialog within 2 s of its start, refreshes it at most every 2 s, then finalises it', async () => {
    const folder = join(root, 'captures');
    mkdirSync(folder);
    agent = await startAgent(folder, join(root, 'config'));
    const client = await RecordingClient.connect(agent);
    const arrivals: { id: string; status: string; atMs: number }[] = [];
    client.socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; dialog?: { id: string; status: string } };
      if (message.type === 'dialog') arrivals.push({ id: message.dialog!.id, status: message.dialog!.status, atMs: Date.now() });
    });
    // Capture time runs 4× faster than the wall clock: 16 s of a call in 4 s.
    const blocks = packetBlocks(SAMPLE);
    const firstWriteMs = new Map<number, number>();
    const target = join(folder, 'calls.pcapng');
    const replay = replayCapture(blocks.slice(0, 1200), target, { speed: 4, onBlock: (index) => firstWriteMs.set(index, Date.now()) });
    await replay;
    await waitFor(() => arrivals.some((a) => a.status === 'final'), 20_000, 'a final label');
    await waitFor(() => client.dialogEvents().filter((d) => d.status === 'final').length >= new Set(client.dialogEvents().map((d) => d.id)).size, 20_000, 'every dialog final');

    // The longest dialog by packets: the call.
    const dialogs = client.dialogEvents();
    const longest = dialogs.filter((d) => d.status === 'final').sort((a, b) => b.packets.up + b.packets.down - (a.packets.up + a.packets.down))[0]!;
    expect(longest.packets.up + longest.packets.down).toBeGreaterThan(300);
    const mine = arrivals.filter((a) => a.id === longest.id);
    const provisional = mine.filter((a) => a.status === 'provisional');
    expect(provisional.length).toBeGreaterThanOrEqual(2);
    // Its first packet's write → its first provisional label: within 2 s (plus scheduling slack).
    const startIndex = blocks.findIndex((block) => block.timeUs >= longest.startUs);
    expect(provisional[0]!.atMs - firstWriteMs.get(startIndex)!).toBeLessThanOrEqual(2_250);
    for (let i = 1; i < provisional.length; i++) expect(provisional[i]!.atMs - provisional[i - 1]!.atMs).toBeGreaterThanOrEqual(1_900);
    expect(mine.at(-1)!.status).toBe('final');
    expect(mine.filter((a) => a.status === 'final')).toHaveLength(1);
  }, 60_000);
});
