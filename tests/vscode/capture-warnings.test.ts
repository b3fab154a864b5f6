// What the extension's log says of captures' warnings (CaptureWarnings, AgentService's rule). A
// lasting warning — a state journal the agent cannot write — is carried by every progress update
// of its capture, and the log repeated it with each, once a second while the file grew. Against a
// real `cumma watch` and the extension's own AgentClient on loopback: said once, said again only
// for a capture removed and added back, not again after a reconnection.
import { appendFileSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../agent/src/serve/protocol';
import { AgentClient } from '../../vscode-extension/src/host/agent-client';
import { CaptureWarnings, WarningLine } from '../../vscode-extension/src/host/capture-warnings';
import { AgentProcess, waitFor, waitForFinalDialogs } from '../support/agent-process';
import { agentInScratch, cleanUpAfterEach } from '../support/cleanup';
import { capture, hello } from './fixtures';

const SAMPLE = join(__dirname, '..', '..', 'samples', 'whatsapp-chat.pcapng');
const leftovers = cleanUpAfterEach();
const connections: AgentClient[] = [];
afterEach(() => {
  for (const client of connections.splice(0)) client.dispose();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The extension's client on `agent`, every message it receives fed to `warnings` as AgentService does. */
async function connect(agent: AgentProcess, warnings: CaptureWarnings, lines: WarningLine[], messages: ServerMessage[] = []): Promise<AgentClient> {
  const client = new AgentClient(
    { url: agent.url, tokens: async () => [agent.token], resume: () => [{ v: 1, type: 'subscribe', captures: '*' }] },
    {
      status: () => undefined,
      message: (message) => {
        messages.push(message);
        lines.push(...warnings.linesFor(message));
      },
      problem: () => undefined,
    },
  );
  connections.push(client);
  client.connect();
  await waitFor(() => messages.some((message) => message.type === 'hello'), 10_000, 'the hello');
  return client;
}

describe('capture warnings in the extension log, from a real agent', () => {
  it("logs a journal's lasting failure once, though every progress update carries it", async () => {
    const { folder, state, agent } = await agentInScratch(leftovers, 'cumma-capture-warnings-');
    // Every journal fails from now on (the state folder replaced by a file): a warning that lasts.
    rmSync(state, { recursive: true });
    writeFileSync(state, 'in the way');

    const warnings = new CaptureWarnings();
    const lines: WarningLine[] = [];
    const messages: ServerMessage[] = [];
    const first = await connect(agent, warnings, lines, messages);

    // The capture grows for a few seconds, as dumpcap writes one: a progress update a second.
    const whole = readFileSync(SAMPLE);
    const path = join(folder, 'chat.pcapng');
    const pieces = 6;
    for (let piece = 0; piece < pieces; piece++) {
      appendFileSync(path, whole.subarray(Math.floor((whole.length * piece) / pieces), Math.floor((whole.length * (piece + 1)) / pieces)));
      await sleep(700);
    }
    await waitForFinalDialogs(agent, path, 'chat.pcapng');
    const carrying = (): Extract<ServerMessage, { type: 'capture' }>[] =>
      messages.flatMap((m) => (m.type === 'capture' && m.event === 'updated' && m.capture.name === 'chat.pcapng' && m.capture.warning !== undefined ? [m] : []));
    await waitFor(() => carrying().length >= 3, 10_000, 'progress updates carrying the warning');
    const warning = carrying()[0]!.capture.warning!;
    expect(warning).toContain('state journal');
    // The old rule logged a line for each of these; one is said.
    expect(carrying().every((m) => m.capture.warning === warning)).toBe(true);
    expect(lines).toEqual([{ level: 'warn', text: `capture chat.pcapng: ${warning}` }]);

    // A reconnection (AgentService keeps its CaptureWarnings): the hello repeats it; nothing new.
    first.dispose();
    const again: ServerMessage[] = [];
    await connect(agent, warnings, lines, again);
    expect(again[0]!.type === 'hello' && again[0].captures.find((c) => c.name === 'chat.pcapng')?.warning).toBe(warning);
    expect(lines).toHaveLength(1);

    // Removed, then a file of the same name added: another capture, whose warning is news again.
    rmSync(path);
    await waitFor(() => again.some((m) => m.type === 'capture' && m.event === 'removed'), 10_000, 'the removal');
    copyFileSync(SAMPLE, path);
    await waitFor(() => lines.length === 2, 15_000, "the new capture's warning");
    expect(lines[1]).toEqual({ level: 'warn', text: `capture chat.pcapng: ${warning}` });

    // A window opened now learns it from its hello, once.
    const late: WarningLine[] = [];
    await connect(agent, new CaptureWarnings(), late);
    await sleep(1500);
    expect(late).toEqual([{ level: 'warn', text: `capture chat.pcapng: ${warning}` }]);
  }, 90_000);
});

describe('CaptureWarnings', () => {
  const event = (kind: 'added' | 'updated' | 'removed', warning?: string, message?: string): ServerMessage => ({
    v: 1,
    type: 'capture',
    event: kind,
    capture: capture('a.pcapng', warning !== undefined ? { warning } : {}),
    ...(message !== undefined ? { message } : {}),
  });

  it('says a warning when it appears or changes, and once when it clears', () => {
    const warnings = new CaptureWarnings();
    expect(warnings.linesFor(hello([capture('a.pcapng')]))).toEqual([]);
    expect(warnings.linesFor(event('updated', 'ends inside a block'))).toEqual([{ level: 'warn', text: 'capture a.pcapng: ends inside a block' }]);
    expect(warnings.linesFor(event('updated', 'ends inside a block'))).toEqual([]);
    expect(warnings.linesFor(event('updated', 'journal failed'))).toEqual([{ level: 'warn', text: 'capture a.pcapng: journal failed' }]);
    expect(warnings.linesFor(event('updated', undefined, '/c/a.pcapng: grew again; reading on'))).toEqual([
      { level: 'info', text: 'capture a.pcapng: its warning has cleared (/c/a.pcapng: grew again; reading on)' },
    ]);
    expect(warnings.linesFor(event('updated'))).toEqual([]);
  });

  it('forgets a capture when it is removed, or when a hello no longer lists it', () => {
    const warnings = new CaptureWarnings();
    warnings.linesFor(event('added', 'journal failed'));
    expect(warnings.linesFor(event('removed', 'journal failed'))).toEqual([]);
    expect(warnings.linesFor(event('added', 'journal failed'))).toEqual([{ level: 'warn', text: 'capture a.pcapng: journal failed' }]);
    expect(warnings.linesFor(hello([]))).toEqual([]);
    expect(warnings.linesFor(hello([capture('a.pcapng', { warning: 'journal failed' })]))).toEqual([{ level: 'warn', text: 'capture a.pcapng: journal failed' }]);
  });
});
