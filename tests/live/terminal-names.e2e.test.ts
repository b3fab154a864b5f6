// Capture names come from whoever can write into the watched folder. The agent prints them on
// the terminal (capture events on stderr, the table's CAPTURE column): escape sequences in a
// name must be shown escaped, never sent raw to the terminal, and a line end in a name must not
// start a line of its own.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { printable, printableName } from '../../agent/src/cli/watch-output';
import { AgentProcess, startAgent, waitFor } from '../support/agent-process';

const SAMPLE = join(__dirname, '..', '..', 'samples', 'whatsapp-chat.pcapng');
const HOSTILE = 'x\n\u001b[2J\u001b[31mFAKE: all clear\u0007.pcapng';

let dir: string;
let agent: AgentProcess | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cumma-terminal-names-'));
  mkdirSync(join(dir, 'caps'));
  copyFileSync(SAMPLE, join(dir, 'caps', HOSTILE));
});
afterAll(async () => {
  await agent?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('escapes control characters in names, and line ends too where a name is printed', () => {
  expect(printableName(HOSTILE)).toBe('x\\x0a\\x1b[2J\\x1b[31mFAKE: all clear\\x07.pcapng');
  // Whole lines keep their own line ends (a multi-line banner) but lose escapes.
  expect(printable('a\n\tb\u001b[0m\u009b')).toBe('a\n\tb\\x1b[0m\\x9b');
});

it('the agent prints a hostile capture name escaped, on stderr and in the table', async () => {
  agent = await startAgent(join(dir, 'caps'), join(dir, 'config'), ['--format', 'table', '--no-sidecar', '--state-dir', join(dir, 'state')]);
  // From the agent's start: the capture is read, and rows printed, while the agent is still
  // starting (before the start-up message startAgent waits for).
  const stdout = agent.stdout;
  await waitFor(() => stdout().split('\n').filter((line) => line.includes('final')).length >= 30, 20_000, 'table rows of the capture');
  await waitFor(() => agent!.stderr().includes(': added'), 5_000, 'the capture event');
  const output = stdout() + agent.stderr();
  expect(output).not.toContain('\u001b');
  expect(output).not.toContain('\u0007');
  expect(output).not.toMatch(/^\u001b|^.?\[2J/m);
  expect(agent.stderr()).toContain(`cumma watch: ${printableName(HOSTILE)}: added`);
  // The table keeps the name's end, escaped, in its 24-character column.
  expect(stdout()).toContain('…mFAKE: all clear\\x07.pcapng'.slice(-23));
  for (const line of stdout().split('\n').filter((l) => l.includes('final'))) expect(line.startsWith('FAKE')).toBe(false);
}, 40_000);
