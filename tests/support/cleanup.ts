// What an end-to-end test of the agent starts and makes, undone after each test: clients closed
// first (an agent stopping under an open client logs its closing), then agents stopped, then
// scratch folders removed.
import { rmSync } from 'node:fs';
import { afterEach } from 'vitest';
import { TestClient } from '../serve/support/clients';
import { AgentProcess } from './agent-process';

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
