// The agent on captures Wireshark's dumpcap writes: a ring buffer rotating files under the
// agent's eyes, and a recording made by `cumma record`. Needs dumpcap with the right to
// capture on lo (root, or the capabilities); skipped loudly otherwise unless CI requires it.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dialogId } from '../../agent/src/live/dialog-identity';
import { LiveDialog } from '../../agent/src/live/label-feed';
import { AgentProcess, CLI, RecordingClient, classifyFile, startAgent, waitFor } from '../support/agent-process';
import { requireTools, toolsRequiredByEnv } from '../support/tools';

const tools = requireTools('dumpcap');
const privileged = process.getuid?.() === 0;
const skip = tools.skip || (!privileged && !toolsRequiredByEnv());
if (!tools.skip && !privileged && skip) console.warn('SKIPPED dumpcap end-to-end tests: not root (capture rights on lo are needed)');

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function scratch(): { folder: string; config: string } {
  const root = mkdtempSync(join(tmpdir(), 'cumma-dumpcap-'));
  cleanup.push(() => rmSync(root, { recursive: true, force: true }));
  const folder = join(root, 'captures');
  mkdirSync(folder);
  return { folder, config: join(root, 'config') };
}

async function agentOn(folder: string, config: string): Promise<AgentProcess> {
  const agent = await startAgent(folder, config);
  cleanup.push(async () => {
    if (agent.child.exitCode === null) await agent.kill();
  });
  return agent;
}

function finalsOf(client: RecordingClient, capture: string): Map<string, LiveDialog> {
  return new Map([...client.latest().values()].filter((d) => d.capture === capture && d.status === 'final').map((d) => [d.id, d]));
}

function expectSameAsClassify(client: RecordingClient, path: string, capture: string): void {
  const expected = classifyFile(path).map((record) => ({ ...record, capture, id: dialogId(capture, record) }));
  const received = finalsOf(client, capture);
  expect([...received.keys()].sort()).toEqual(expected.map((d) => d.id).sort());
  for (const dialog of expected) expect(received.get(dialog.id)).toEqual(dialog);
}

describe.skipIf(skip)('cumma watch on captures written by dumpcap', () => {
  beforeAll(() => tools.assertAvailable());

  it('follows a dumpcap ring buffer: new files picked up, rotated-out files reported removed', async () => {
    const { folder, config } = scratch();
    const agent = await agentOn(folder, config);
    const client = await RecordingClient.connect(agent);
    const port = 20000 + Math.floor(Math.random() * 20000);
    // 48 kB per file, 3 files kept: about 180 kB of traffic rotates through 4+ files.
    const dumpcap: ChildProcess = spawn('dumpcap', ['-q', '-i', 'lo', '-f', `udp port ${port}`, '-b', 'filesize:48', '-b', 'files:3', '-w', join(folder, 'ring.pcapng')], { stdio: 'ignore' });
    cleanup.push(() => {
      if (dumpcap.exitCode === null) dumpcap.kill('SIGKILL');
    });
    await new Promise((resolve) => setTimeout(resolve, 1500)); // dumpcap opens the interface
    const socket = createSocket('udp4');
    const payload = Buffer.alloc(400, 7);
    for (let i = 0; i < 500; i++) {
      socket.send(payload, port, '127.0.0.1');
      if (i % 25 === 24) await new Promise((resolve) => setTimeout(resolve, 60));
    }
    socket.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    dumpcap.kill('SIGINT');
    await new Promise((resolve) => dumpcap.once('exit', resolve));

    const events = (kind: string): string[] => client.messages.flatMap((m) => (m.type === 'capture' && m.event === kind ? [m.capture.name] : []));
    const remaining = readdirSync(folder).filter((name) => name.endsWith('.pcapng'));
    expect(remaining.length).toBe(3);
    await waitFor(() => events('removed').length >= 1, 15_000, 'a rotated-out file to be reported removed');
    // Every remaining ring file's dialogs, once final, are those classify finds in it.
    for (const name of remaining) {
      await waitFor(() => finalsOf(client, name).size >= classifyFile(join(folder, name)).length, 20_000, `final dialogs of ${name}`);
      expectSameAsClassify(client, join(folder, name), name);
    }
    const added = events('added');
    expect(added.length).toBeGreaterThanOrEqual(4);
    for (const name of events('removed')) {
      expect(added).toContain(name);
      expect(existsSync(join(folder, name))).toBe(false);
    }
  }, 90_000);

  it('labels a capture recorded by cumma record in the watched folder as cumma classify does', async () => {
    const { folder, config } = scratch();
    const agent = await agentOn(folder, config);
    const client = await RecordingClient.connect(agent);
    const output = join(folder, 'recorded.pcapng');
    execFileSync(process.execPath, [CLI, 'record', '--usage', 'text', '--duration', '10', '--speed', '10', '--seed', '3', '-o', output], { stdio: 'ignore' });
    const expected = classifyFile(output);
    expect(expected.length).toBeGreaterThan(0);
    await waitFor(() => finalsOf(client, 'recorded.pcapng').size >= expected.length, 30_000, 'the recorded capture\'s final dialogs');
    expectSameAsClassify(client, output, 'recorded.pcapng');
  }, 90_000);
});
