// What an end-to-end test of the agent starts and makes, undone after each test: clients closed
// first (an agent stopping under an open client logs its closing), then agents stopped, then
// scratch folders removed.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { TestClient } from '../serve/support/clients';
import { AgentProcess, startAgent } from './agent-process';

export interface Leftovers {
  readonly running: AgentProcess[];
  readonly clients: TestClient[];
  readonly roots: string[];
}

/** Lists to push onto; emptied, and their contents closed, stopped or removed, after each test. */
export function cleanUpAfterEach(): Leftovers {
  const leftovers: Leftovers = { running: [], clients: [], roots: [] };
  afterEach(async () => {
    for (const client of leftovers.clients.splice(0)) client.close();
    for (const agent of leftovers.running.splice(0)) if (agent.child.exitCode === null) await agent.kill();
    for (const root of leftovers.roots.splice(0)) rmSync(root, { recursive: true, force: true });
  });
  return leftovers;
}

/** A scratch root (ROOT/FOLDER watched, ROOT/state its journals, ROOT/config its config) and the agent watching it. */
export interface ScratchAgent {
  readonly root: string;
  readonly folder: string;
  readonly state: string;
  readonly agent: AgentProcess;
}

/**
 * Starts `cumma watch ROOT/FOLDER --state-dir ROOT/state` in a new scratch root named after
 * `prefix`, with `captures` (path → name) copied into the folder first; both are undone after
 * the test.
 */
export async function agentInScratch(leftovers: Leftovers, prefix: string, options: { readonly folderName?: string; readonly captures?: ReadonlyMap<string, string> } = {}): Promise<ScratchAgent> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  leftovers.roots.push(root);
  const folder = join(root, options.folderName ?? 'captures');
  mkdirSync(folder);
  for (const [path, name] of options.captures ?? []) copyFileSync(path, join(folder, name));
  const state = join(root, 'state');
  const agent = await startAgent(folder, join(root, 'config'), ['--state-dir', state]);
  leftovers.running.push(agent);
  return { root, folder, state, agent };
}
