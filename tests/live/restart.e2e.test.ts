// A restarted `cumma watch` (stopped, started again on the same folder and config): what it had
// published as final stays final on every channel — terminal, WebSocket snapshot and updates,
// HTTP /labels, sidecar — and what it had published is not published again. The dialogs most at
// risk are the last of each capture: open again when the file is re-read, until the wall clock
// closes them.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packetBlocks } from '../../scripts/lib/capture-replay';
import { LiveDialog } from '../../agent/src/live/label-feed';
import { ServerMessage } from '../../agent/src/serve/protocol';
import { AgentProcess, RecordingClient, appendInPieces, expectedDialogs, startAgent, waitFor } from '../support/agent-process';
import { cleanUpAfterEach } from '../support/cleanup';

const SAMPLES = join(__dirname, '..', '..', 'samples');
/** Past the dialog gap (5 s) and the quiet time (1 s) after which the wall clock closes dialogs. */
const OBSERVE_MS = 8_000;
const { running, roots } = cleanUpAfterEach();

function scratch(): { folder: string; config: string } {
  const root = mkdtempSync(join(tmpdir(), 'cumma-restart-'));
  roots.push(root);
  mkdirSync(join(root, 'captures'));
  return { folder: join(root, 'captures'), config: join(root, 'config') };
}

async function agentOn(folder: string, config: string): Promise<AgentProcess> {
  const agent = await startAgent(folder, config);
  running.push(agent);
  return agent;
}


function sidecarLines(capturePath: string): string[] {
  const path = `${capturePath}.cumma.tsv`;
  return existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n').slice(1).sort() : [];
}

async function labels(agent: AgentProcess, capture: string): Promise<LiveDialog[] | undefined> {
  const response = await fetch(`${agent.httpUrl}labels?capture=${capture}&format=jsonl&token=${agent.token}`);
  if (response.status === 404) return undefined; // Not watched yet, just after the start.
  expect(response.status).toBe(200);
  return (await response.text())
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LiveDialog);
}


function allFinal(dialogs: Iterable<LiveDialog>, expected: Map<string, LiveDialog>): boolean {
  const final = [...dialogs].filter((dialog) => dialog.status === 'final').map((dialog) => dialog.id);
  return final.length === expected.size && final.every((id) => expected.has(id));
}

describe('cumma watch restarted', () => {
  it('on unchanged captures publishes nothing new and never takes a final label back', async () => {
    const { folder, config } = scratch();
    const names = ['calls.pcapng', 'chat.pcapng'];
    copyFileSync(join(SAMPLES, 'telegram-calls.pcapng'), join(folder, names[0]!));
    copyFileSync(join(SAMPLES, 'whatsapp-chat.pcapng'), join(folder, names[1]!));
    const expected = new Map(names.flatMap((name) => [...expectedDialogs(join(folder, name), name)]));

    const first = await agentOn(folder, config);
    const before = await RecordingClient.connect(first);
    await waitFor(() => allFinal(before.latest().values(), expected), 30_000, `${expected.size} final dialogs`);
    // The last ones were provisional first: the dialogs this is about.
    expect(first.published().filter((dialog) => dialog.status === 'provisional').length).toBeGreaterThan(0);
    await waitFor(() => names.every((name) => sidecarLines(join(folder, name)).every((line) => line.endsWith('\tfinal'))), 5_000, 'final sidecars');
    before.close();
    expect(await first.stop()).toBe(0);
    const sidecars = new Map(names.map((name) => [name, sidecarLines(join(folder, name))]));
    expect([...sidecars.values()].flat().length).toBe(expected.size);

    const second = await agentOn(folder, config);
    const after = await RecordingClient.connect(second);
    // Through the time the dialogs open again at the end of each file would take to close,
    // every channel holds every dialog as final, and the sidecars do not change.
    const deadline = Date.now() + OBSERVE_MS;
    while (Date.now() < deadline) {
      for (const name of names) {
        const served = await labels(second, name);
        if (served !== undefined) expect(served.filter((dialog) => dialog.status !== 'final').map((d) => `${d.capture} ${d.session}/${d.dialog} ${d.status}`)).toEqual([]);
        expect(sidecarLines(join(folder, name))).toEqual(sidecars.get(name));
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    for (const name of names) expect(new Set((await labels(second, name))!.map((dialog) => dialog.id))).toEqual(new Set([...expected.values()].filter((d) => d.capture === name).map((d) => d.id)));
    // The client subscribed at the start got every dialog, final, and never a provisional label.
    expect(after.dialogEvents().filter((dialog) => dialog.status !== 'final')).toEqual([]);
    const latest = after.latest();
    expect([...latest.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [id, dialog] of expected) expect(latest.get(id)).toEqual(dialog);
    // And the terminal printed nothing: it had all been printed before.
    expect(second.published()).toEqual([]);
    after.close();
    expect(await second.stop()).toBe(0);
  }, 90_000);

  it('on a capture that grew publishes each new dialog once and ends with every dialog final everywhere', async () => {
    const { folder, config } = scratch();
    const source = readFileSync(join(SAMPLES, 'whatsapp-chat.pcapng'));
    const target = join(folder, 'chat.pcapng');
    // Cut after the packet block that ends nearest the middle, so that the first half is a
    // capture of its own that `cumma classify` reads.
    let half = 0;
    for (const block of packetBlocks(join(SAMPLES, 'whatsapp-chat.pcapng'))) {
      if (half >= source.length / 2) break;
      half += block.bytes.length;
    }
    await appendInPieces(target, source, 0, half, 4);
    const halfExpected = expectedDialogs(target, 'chat.pcapng');

    const first = await agentOn(folder, config);
    const before = await RecordingClient.connect(first);
    await waitFor(() => allFinal(before.latest().values(), halfExpected), 30_000, `${halfExpected.size} final dialogs of the first half`);
    before.close();
    expect(await first.stop()).toBe(0);
    const finalBefore = new Set(first.published().filter((dialog) => dialog.status === 'final').map((dialog) => dialog.id));
    expect(finalBefore.size).toBe(halfExpected.size);

    const second = await agentOn(folder, config);
    const after = await RecordingClient.connect(second);
    // The restarted agent has read the first half again before dumpcap writes more: as its hello
    // or a progress event (once a second) says.
    const readUpTo = (message: ServerMessage): number | undefined =>
      message.type === 'hello' ? message.captures.find((c) => c.name === 'chat.pcapng')?.bytesRead : message.type === 'capture' && message.capture.name === 'chat.pcapng' ? message.capture.bytesRead : undefined;
    await waitFor(() => after.messages.some((message) => readUpTo(message) === half), 10_000, 'the first half read again');
    await appendInPieces(target, source, half, source.length, 5);
    const expected = expectedDialogs(target, 'chat.pcapng');
    expect(expected.size).toBeGreaterThan(halfExpected.size);
    await waitFor(() => allFinal(after.latest().values(), expected), 30_000, `${expected.size} final dialogs after the restart`);

    // No dialog final before the restart was labelled provisional after it, anywhere.
    const provisionalAfter = [...second.published(), ...after.dialogEvents()].filter((dialog) => dialog.status === 'provisional').map((dialog) => dialog.id);
    expect(provisionalAfter.filter((id) => finalBefore.has(id))).toEqual([]);
    // Each dialog was printed final once by the two runs together, and a second time only as a
    // correction: a dialog the first run closed on the wall clock when the half file went quiet
    // (its writer paused past the dialog gap) that the rest of the file extended, printed again
    // with the finished file's record.
    const printed = new Map<string, LiveDialog[]>();
    for (const dialog of [...first.published(), ...second.published()].filter((d) => d.status === 'final')) printed.set(dialog.id, [...(printed.get(dialog.id) ?? []), dialog]);
    expect(new Set(printed.keys())).toEqual(new Set(expected.keys()));
    for (const [id, records] of printed) {
      expect(records.length).toBeLessThanOrEqual(2);
      if (records.length === 2) {
        expect(records[1]).not.toEqual(records[0]);
        expect(records[1]).toEqual(expected.get(id));
      }
    }
    // And the client, /labels and the sidecar end with every dialog final, as classify labels it.
    const latest = after.latest();
    for (const [id, dialog] of expected) expect(latest.get(id)).toEqual(dialog);
    await waitFor(() => sidecarLines(target).length === expected.size && sidecarLines(target).every((line) => line.endsWith('\tfinal')), 5_000, 'the sidecar');
    const served = (await labels(second, 'chat.pcapng'))!;
    expect(new Map(served.map((dialog) => [dialog.id, dialog]))).toEqual(expected);
    after.close();
    expect(await second.stop()).toBe(0);
  }, 90_000);
});
