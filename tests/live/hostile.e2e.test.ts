// Hostile and careless clients against a real `cumma watch` process: refused handshakes,
// a flood of malformed messages, 50 concurrent subscribers and a client that never reads,
// while the agent keeps serving the well-behaved client and its memory stays bounded.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentProcess, RecordingClient, classifyFile, startAgent, waitFor } from '../support/agent-process';
import { RawSocketClient, TestClient, connectClient, refusedStatus } from '../serve/support/clients';

const SAMPLES = join(__dirname, '..', '..', 'samples');
const root = mkdtempSync(join(tmpdir(), 'cumma-hostile-'));
let agent: AgentProcess | undefined;

afterAll(async () => {
  if (agent && agent.child.exitCode === null) await agent.kill();
  rmSync(root, { recursive: true, force: true });
});

function residentMegabytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

describe('the agent under hostile clients', () => {
  it('refuses intruders, survives floods and idle readers, and keeps serving the others', async () => {
    const folder = join(root, 'captures');
    mkdirSync(folder);
    copyFileSync(join(SAMPLES, 'signal-streaming.pcapng'), join(folder, 'streaming.pcapng'));
    agent = await startAgent(folder, join(root, 'config'));
    const base = agent.httpUrl;
    const good = await RecordingClient.connect(agent);
    const streamingDialogs = classifyFile(join(SAMPLES, 'signal-streaming.pcapng')).length;
    await waitFor(() => [...good.latest().values()].filter((d) => d.status === 'final').length >= streamingDialogs, 20_000, 'the first capture');

    expect((await refusedStatus(base, {})).status).toBe(401);
    expect((await refusedStatus(base, { token: 'f'.repeat(64) })).status).toBe(401);
    expect((await refusedStatus(base, { token: agent.token, origin: 'https://attacker.example' })).status).toBe(403);

    // A client that completes the handshake and then never reads a byte.
    const idle = await RawSocketClient.open(base, agent.token);
    idle.socket.write(Buffer.from([0x81, 0x80 | 0, 1, 2, 3, 4])); // an empty masked text frame
    // 50 concurrent subscribers.
    const crowd: TestClient[] = await Promise.all(Array.from({ length: 50 }, () => connectClient(base, { token: agent!.token })));
    for (const client of crowd) client.socket.send(JSON.stringify({ v: 1, type: 'subscribe', captures: '*' }));
    // 1000 malformed messages from one of them.
    const flooder = crowd[0]!;
    const junk = ['{', 'null', '[]', '42', '{"v":1}', '{"v":1,"type":"nope"}', '{"v":1,"type":"subscribe","captures":7}', '{"v":9,"type":"ping"}', 'x'.repeat(1000), '{"v":1,"type":"watch","path":12}'];
    for (let i = 0; i < 1000; i++) flooder.socket.send(junk[i % junk.length]!);
    const rssBefore = residentMegabytes(agent.child.pid!);

    // Meanwhile a second capture arrives: everyone still listening must get all of it.
    const source = readFileSync(join(SAMPLES, 'telegram-calls.pcapng'));
    writeFileSync(join(folder, 'calls.pcapng'), source);
    const callDialogs = classifyFile(join(folder, 'calls.pcapng')).length;
    const finalsOfCalls = (): number => [...good.latest().values()].filter((d) => d.capture === 'calls.pcapng' && d.status === 'final').length;
    await waitFor(() => finalsOfCalls() >= callDialogs, 30_000, 'the second capture at the good client');
    expect(finalsOfCalls()).toBe(callDialogs);

    const errors = flooder.messages.filter((m) => m.type === 'error');
    expect(errors.length).toBeGreaterThanOrEqual(50);
    expect(new Set(errors.map((m) => (m.type === 'error' ? m.code : '')))).toContain('BAD_JSON');
    for (const client of crowd.slice(1)) {
      await waitFor(() => client.messages.some((m) => m.type === 'dialog' && m.dialog.capture === 'calls.pcapng'), 10_000, 'a dialog at every subscriber');
    }
    expect(residentMegabytes(agent.child.pid!)).toBeLessThan(Math.max(rssBefore * 1.5, rssBefore + 64));
    expect(agent.child.exitCode).toBeNull();
    for (const client of crowd) client.socket.close();
    idle.destroy();
    good.close();
  }, 90_000);
});
