// A watched capture that ends inside a block. While its writer is mid-block that is normal, so
// nothing is said at once; but a file cut short used to show as `idle` for good, without a word,
// while `cumma flows` named the offset. Once the file has not grown for the dialog gap, a real
// `cumma watch` now tells clients (the capture's `warning`, an `updated` event) and its terminal
// where the file stops, keeps the dialogs read, and reads on when the rest arrives.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CaptureInfo } from '../../agent/src/live/label-feed';
import { ServerMessage } from '../../agent/src/serve/protocol';
import { connectClient } from '../serve/support/clients';
import { AgentProcess, CLI, servedLabels, startAgent, waitFor } from '../support/agent-process';
import { cleanUpAfterEach } from '../support/cleanup';

const SAMPLES = join(__dirname, '..', '..', 'samples');
const { running, clients, roots } = cleanUpAfterEach();

/** What `cumma flows` says of the file: "byte offset N: … [CAPTURE_TRUNCATED]". */
function flowsError(path: string): string {
  try {
    execFileSync(process.execPath, [CLI, 'flows', path, '--format', 'jsonl'], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const match = /byte offset \d+: .*\[CAPTURE_TRUNCATED\]/.exec(String((error as { stderr?: string }).stderr));
    if (match) return match[0];
  }
  throw new Error(`cumma flows did not report ${path} as truncated`);
}

async function captures(agent: AgentProcess): Promise<Map<string, CaptureInfo>> {
  const list = (await (await fetch(`${agent.httpUrl}captures`, { headers: { Authorization: `Bearer ${agent.token}` } })).json()) as CaptureInfo[];
  return new Map(list.map((capture) => [capture.name, capture]));
}

it('reports a capture that stopped growing inside a block as waiting, keeps its dialogs, and reads on when it grows', async () => {
  const root = mkdtempSync(join(tmpdir(), 'cumma-incomplete-tail-'));
  roots.push(root);
  const folder = join(root, 'w1');
  mkdirSync(folder);
  const agent = await startAgent(folder, join(root, 'config'), ['--format', 'none']);
  running.push(agent);
  const client = await connectClient(agent.httpUrl, { token: agent.token });
  clients.push(client);

  // When each warning arrives, taken as it arrives: `until` only says it has arrived by now.
  const warnedAt = new Map<string, number>();
  client.socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as ServerMessage;
    if (message.type === 'capture' && message.capture.warning !== undefined && !warnedAt.has(message.capture.name)) warnedAt.set(message.capture.name, Date.now());
  });

  const whole = readFileSync(join(SAMPLES, 'telegram-calls.pcapng'));
  const trunc = join(folder, 'trunc.pcapng');
  const tiny = join(folder, 'tiny.pcapng');
  const writtenAt = Date.now();
  writeFileSync(trunc, whole.subarray(0, 100_000));
  writeFileSync(tiny, whole.subarray(0, 10));
  const truncCut = flowsError(trunc);
  const tinyCut = flowsError(tiny);
  expect(truncCut).toMatch(/^byte offset 99980: input ends inside a block/);

  // Read as far as it goes, and idle: a file that ends inside a block is not an error.
  const bothRead = (messages: readonly ServerMessage[]): boolean =>
    messages.some((m) => m.type === 'stats' && m.captures.length === 2 && m.packets > 0 && m.captures.every((c) => c.lagBytes === 0));
  await client.until('both captures read', bothRead, 20_000);
  let known = await captures(agent);
  // Parsed up to the block the file ends inside, where the warning will say it waits.
  expect(known.get('trunc.pcapng')).toMatchObject({ state: 'idle', sizeBytes: 100_000, bytesRead: 99_980 });

  // After the dialog gap (5 s) without growth: said, with the offset, as a warning and not an error.
  // Not at once (a writer may be mid-block): timed from the write, which is before the agent first
  // looked at the file, rather than by asserting no warning at some point, which a slow start
  // could overtake.
  const waiting = (cut: string, path: string): RegExp =>
    new RegExp(`^${path}: ${cut.replace(/[[\]()]/g, '\\$&')}; the file has not grown since (\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z): waiting for the rest \\(a writer still busy, or a file cut short there\\)$`);
  await client.until('the warnings', (messages) => messages.filter((m) => m.type === 'capture' && m.capture.warning !== undefined).length >= 2, 20_000);
  expect(warnedAt.get('trunc.pcapng')! - writtenAt).toBeGreaterThanOrEqual(4500);
  expect(warnedAt.get('tiny.pcapng')! - writtenAt).toBeGreaterThanOrEqual(4500);
  const events = client.of('capture').filter((m) => m.capture.warning !== undefined);
  const truncEvent = events.find((m) => m.capture.name === 'trunc.pcapng')!;
  // "since" is when the agent saw the file last grow: after the write, 5 s before the warning.
  const since = Date.parse(waiting(truncCut, trunc).exec(truncEvent.message ?? '')?.[1] ?? '');
  expect(since).toBeGreaterThanOrEqual(writtenAt - 1);
  expect(warnedAt.get('trunc.pcapng')! - since).toBeGreaterThanOrEqual(4900);
  expect(truncEvent.event).toBe('updated');
  expect(truncEvent.message).toMatch(waiting(truncCut, trunc));
  expect(truncEvent.capture.warning).toBe(truncEvent.message);
  expect(truncEvent.capture.state).toBe('idle');
  expect(events.find((m) => m.capture.name === 'tiny.pcapng')!.message).toMatch(waiting(tinyCut, tiny));
  await waitFor(() => agent.stderr().includes(`cumma watch: trunc.pcapng: updated: ${truncEvent.message}`), 5000, 'the warning on stderr');
  // Waited for as well: the agent's stderr pipe can reach this process after its WebSocket does.
  await waitFor(() => agent.stderr().includes(`cumma watch: tiny.pcapng: updated: ${tiny}: ${tinyCut}`), 5000, 'the tiny warning on stderr');
  known = await captures(agent);
  expect(known.get('trunc.pcapng')).toMatchObject({ state: 'idle', warning: truncEvent.message });
  expect(known.get('trunc.pcapng')!.error).toBeUndefined();
  const before = await servedLabels(agent, 'trunc.pcapng');
  expect(before.length).toBeGreaterThan(0);

  // The rest comes: read on, the warning goes, and the dialogs published before stay.
  appendFileSync(trunc, whole.subarray(100_000));
  await client.until('read on', (messages) => messages.some((m) => m.type === 'capture' && m.message === `${trunc}: grew again after waiting at byte offset 99980; reading on`), 20_000);
  const wholeRead = (messages: readonly ServerMessage[]): boolean =>
    messages.some((m) => m.type === 'stats' && m.packets > 1000 && m.captures.some((c) => c.name === 'trunc.pcapng' && c.lagBytes === 0));
  await client.until('the whole file read', wholeRead, 20_000);
  known = await captures(agent);
  expect(known.get('trunc.pcapng')).toMatchObject({ sizeBytes: whole.length, bytesRead: whole.length });
  expect(known.get('trunc.pcapng')!.warning).toBeUndefined();
  expect(known.get('tiny.pcapng')!.warning).toBeDefined();
  const after = new Map((await servedLabels(agent, 'trunc.pcapng')).map((dialog) => [dialog.id, dialog]));
  for (const dialog of before.filter((d) => d.status === 'final')) expect(after.get(dialog.id)).toEqual(dialog);
  expect(agent.stderr()).not.toMatch(/trunc\.pcapng: error/);
}, 90_000);
