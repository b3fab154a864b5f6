// The Wireshark plugin in the GUI trying the agent again by itself, against a real `cumma watch`:
// the agent started only after the capture was opened (a failed first attempt, quiet failed
// retries, then its labels from the tap's draw callback and a redissection), and stopped and
// started again (the lost connection's labels kept through failed retries, then replaced by the
// new agent's snapshot). Wireshark's GUI is stood in for (fixtures/gui-retry.lua, on each Lua
// version with LuaSocket); the retry's clock is the fixture's own. The backoff and the choice of
// labels in every case are unit-tested in fixtures/units.lua.

import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentProcess, startAgent } from '../support/agent-process';
import { findOnPath } from '../support/tools';
import { CLI, PLUGIN } from './support';

const FIXTURES = join(__dirname, 'fixtures');
const SAMPLES = join(__dirname, '..', '..', 'samples');
const withSocket = ['lua5.2', 'lua5.3', 'lua5.4'].filter((lua) => findOnPath(lua) !== undefined && spawnSync(lua, ['-e', 'require("socket")']).status === 0);
if (withSocket.length === 0) console.warn('SKIPPED: no stand-alone Lua with LuaSocket (apt-get install lua5.2 lua-socket)');

/** A TCP port nothing listens on (just closed): a connect to it is refused. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits until the agent has read every watched capture and has dialogs of each. */
async function agentRead(agent: AgentProcess): Promise<void> {
  let ready = false;
  const poll = async (): Promise<void> => {
    const response = await fetch(`${agent.httpUrl}captures`, { headers: { Authorization: `Bearer ${agent.token}` } });
    const captures = (await response.json()) as { state: string; dialogs: number }[];
    ready = captures.length > 0 && captures.every((c) => c.state === 'idle' && c.dialogs > 0);
  };
  const deadline = Date.now() + 30_000;
  while (!ready) {
    if (Date.now() > deadline) throw new Error(`the agent did not read its captures in 30 s; stderr:\n${agent.stderr()}`);
    await poll().catch(() => undefined);
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(withSocket.length === 0)('Wireshark plugin in the GUI: the agent tried again by itself', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cumma-lua-retry-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const lua of withSocket) {
    it(`takes the labels of an agent started later, and of one started again after a loss (${lua})`, async () => {
      if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: run 'npm run build' first`);
      const base = join(dir, lua);
      const folder = join(base, 'live');
      const config = join(base, 'config');
      mkdirSync(folder, { recursive: true });
      const capture = join(folder, 'cap.pcapng');
      copyFileSync(join(SAMPLES, 'whatsapp-chat.pcapng'), capture);
      const port = await freePort();
      const agents: AgentProcess[] = [];
      const start = async (stateDir: string): Promise<void> => {
        const agent = await startAgent(folder, config, ['--port', String(port), '--no-sidecar', '--state-dir', join(base, stateDir)]);
        agents.push(agent);
        await agentRead(agent);
      };
      const child = spawn(lua, [join(FIXTURES, 'gui-retry.lua'), join(FIXTURES, 'wireshark-stubs.lua'), PLUGIN, String(port), capture], {
        env: { ...process.env, CUMMA_CONFIG_DIR: config },
      });
      let output = '';
      let acting = Promise.resolve();
      const act = async (line: string): Promise<void> => {
        if (line === 'START') await start('state1');
        if (line === 'STOP') {
          await agents[0]!.stop();
          // Rewritten in place while no agent runs (same file, as Wireshark holds it open): the
          // next agent's snapshot differs from the labels kept.
          copyFileSync(join(SAMPLES, 'telegram-calls.pcapng'), capture);
        }
        if (line === 'START2') await start('state2');
        child.stdin.write('GO\n');
      };
      let pending = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        pending += chunk;
        let newline: number;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          if (line === 'START' || line === 'STOP' || line === 'START2') {
            acting = acting.then(() => act(line)).catch((error: unknown) => {
              output += `\ntest side failed: ${String(error)}\n`;
              child.kill('SIGKILL');
            });
          }
        }
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      try {
        const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
        await acting;
        expect(output).toContain(`ok - gui retry`);
        expect(status, output).toBe(0);
        const b = /^B (.*)$/m.exec(output)![1]!;
        const c = /^C (.*)$/m.exec(output)![1]!;
        // The first agent labelled the WhatsApp chat; the second, the calls the file holds now.
        expect(b).toMatch(/\|text +chat /);
        expect(b).not.toMatch(/voice_call/);
        expect(c).toMatch(/\|voice_call +call /);
        expect(c).not.toMatch(/\|text +chat /);
      } finally {
        for (const agent of agents) if (agent.child.exitCode === null && agent.child.signalCode === null) await agent.kill();
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    }, 120_000);
  }
});
