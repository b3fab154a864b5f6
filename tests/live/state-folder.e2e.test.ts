// A real `cumma watch` given a state folder (--state-dir, or the config folder's state/) it cannot
// use, or whose state journals fail while it runs. At start: refused at once, naming the folder and
// why — not a stack trace when the first capture is added, nor a recursive mkdir spinning for ever
// under /proc. While running: a journal that cannot be written costs that capture its journal,
// said once with the journal's path, never the agent nor the capture's labels.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureInfo, LiveDialog } from '../../agent/src/live/label-feed';
import { connectClient, TestClient } from '../serve/support/clients';
import { AgentProcess, CLI, expectedDialogs, servedLabels, startAgent, waitFor, waitForFinalDialogs } from '../support/agent-process';
import { agentInScratch, cleanUpAfterEach } from '../support/cleanup';

const SAMPLES = join(__dirname, '..', '..', 'samples');
const leftovers = cleanUpAfterEach();
const { running, clients, roots } = leftovers;
const HAS_PROC = existsSync('/proc/self/status');

/** A scratch folder holding `captures/` with one sample capture in it (added at start). */
function scratch(): { root: string; folder: string } {
  const root = mkdtempSync(join(tmpdir(), 'cumma-state-folder-'));
  roots.push(root);
  const folder = join(root, 'captures');
  mkdirSync(folder);
  copyFileSync(join(SAMPLES, 'whatsapp-chat.pcapng'), join(folder, 'chat.pcapng'));
  return { root, folder };
}

/** Where the agent keeps the journal of `capture` in `stateFolder` (sha-256 of the path, as state-journal.ts names it). */
function journalOf(stateFolder: string, capture: string): string {
  return join(stateFolder, `${createHash('sha256').update(capture).digest('hex').slice(0, 24)}.journal`);
}

interface Ended {
  /** null when it did not end within the time given (and was killed). */
  readonly status: number | null;
  readonly stderr: string;
}

/**
 * `cumma watch` expected to refuse to start: its exit status and stderr, or status null if it is
 * still running after `withinMs` (then killed: an agent that started, or one spinning).
 */
function watchExpectingExit(args: readonly string[], env: NodeJS.ProcessEnv, withinMs = 15_000): Promise<Ended> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'watch', ...args, '--port', '0', '--format', 'none'], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), withinMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ status: signal === null ? code : null, stderr });
    });
  });
}

async function captureInfo(agent: AgentProcess, name: string): Promise<CaptureInfo | undefined> {
  const list = (await (await fetch(`${agent.httpUrl}captures`, { headers: { Authorization: `Bearer ${agent.token}` } })).json()) as CaptureInfo[];
  return list.find((capture) => capture.name === name);
}

const STACK_TRACE = /^\s+at /m;

describe('cumma watch --state-dir it cannot use', () => {
  it('refuses a state folder that is a file, with the usage, before watching anything', async () => {
    const { root, folder } = scratch();
    const file = join(root, 'state-file');
    writeFileSync(file, 'not a folder');
    const run = await watchExpectingExit([folder, '--state-dir', file], { CUMMA_CONFIG_DIR: join(root, 'config') });
    expect(run.stderr).not.toMatch(STACK_TRACE);
    expect(run.stderr).toContain(`cumma watch: --state-dir ${file}: it is a file, not a folder`);
    expect(run.stderr).toContain('usage: cumma watch');
    expect(run.status).toBe(2);
    expect(readFileSync(file, 'utf8')).toBe('not a folder');
  }, 30_000);

  it('refuses a state folder under a file, naming the file', async () => {
    const { root, folder } = scratch();
    const file = join(root, 'state-file');
    writeFileSync(file, 'not a folder');
    const run = await watchExpectingExit([folder, '--state-dir', join(file, 'state')], { CUMMA_CONFIG_DIR: join(root, 'config') });
    expect(run.stderr).not.toMatch(STACK_TRACE);
    expect(run.stderr).toContain(`cumma watch: --state-dir ${join(file, 'state')}: ${file} is a file, not a folder`);
    expect(run.status).toBe(2);
  }, 30_000);

  // Node's recursive mkdir loops for ever on /proc (mkdir there says ENOENT, its parent there):
  // the agent sat at full CPU, never serving. It must end, at once, saying why.
  it.skipIf(!HAS_PROC)('refuses a state folder under /proc at once, without spinning', async () => {
    const { root, folder } = scratch();
    const startedAt = Date.now();
    const run = await watchExpectingExit([folder, '--state-dir', '/proc/cumma-nope/state'], { CUMMA_CONFIG_DIR: join(root, 'config') });
    expect(run.status, `still running after 15 s; stderr:\n${run.stderr}`).toBe(1);
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(run.stderr).toBe(
      'cumma watch: error: --state-dir /proc/cumma-nope/state: cannot make folder /proc/cumma-nope: its file system takes no new folders there (ENOENT)\n',
    );
  }, 30_000);

  it.skipIf(!HAS_PROC)('refuses a state folder that takes no files (/proc itself)', async () => {
    const { root, folder } = scratch();
    const run = await watchExpectingExit([folder, '--state-dir', '/proc'], { CUMMA_CONFIG_DIR: join(root, 'config') });
    expect(run.status, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/^cumma watch: error: --state-dir \/proc: cannot write in it: .* \((ENOENT|EACCES)\)\n$/);
  }, 30_000);

  it.skipIf(!HAS_PROC)('refuses a config folder under /proc (the default state folder) at once, without spinning', async () => {
    const { folder } = scratch();
    const run = await watchExpectingExit([folder], { CUMMA_CONFIG_DIR: '/proc/cumma-nope' });
    expect(run.status, `still running after 15 s; stderr:\n${run.stderr}`).toBe(1);
    expect(run.stderr).toBe(
      'cumma watch: error: the state folder /proc/cumma-nope/state: cannot make folder /proc/cumma-nope: its file system takes no new folders there (ENOENT)\n',
    );
  }, 30_000);

  it('makes a missing state folder, parents included, and keeps journals there', async () => {
    const { root, folder } = scratch();
    const state = join(root, 'deep', 'er', 'state');
    const agent = await startAgent(folder, join(root, 'config'), ['--state-dir', state]);
    running.push(agent);
    await waitForFinalDialogs(agent, join(folder, 'chat.pcapng'), 'chat.pcapng');
    expect(existsSync(journalOf(state, join(folder, 'chat.pcapng')))).toBe(true);
  }, 60_000);
});

/** An agent on an empty folder with its own --state-dir, and a client connected to it. */
async function agentOnEmptyFolder(): Promise<{ folder: string; state: string; agent: AgentProcess; client: TestClient }> {
  const { folder, state, agent } = await agentInScratch(leftovers, 'cumma-state-folder-');
  const client = await connectClient(agent.httpUrl, { token: agent.token });
  clients.push(client);
  return { folder, state, agent, client };
}

describe('state journals failing while cumma watch runs', () => {
  it('a state folder replaced by a file costs the journals, not the agent nor the labels', async () => {
    const { root, folder } = scratch();
    const state = join(root, 'state');
    const agent = await startAgent(folder, join(root, 'config'), ['--state-dir', state]);
    running.push(agent);
    await waitForFinalDialogs(agent, join(folder, 'chat.pcapng'), 'chat.pcapng');
    rmSync(state, { recursive: true });
    writeFileSync(state, 'in the way');

    const added = join(folder, 'calls.pcapng');
    copyFileSync(join(SAMPLES, 'telegram-calls.pcapng'), added);
    await waitForFinalDialogs(agent, added, 'calls.pcapng');
    expect(agent.child.exitCode).toBeNull();
    const journal = journalOf(state, added);
    const said = agent.stderr().split('\n').filter((line) => line.includes('state journal'));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(
      new RegExp(`^cumma watch: calls\\.pcapng: updated: ${added}: cannot (read|write) its state journal ${journal}: .* \\((ENOTDIR|EEXIST)\\); the capture is labelled and served on`),
    );
    expect(agent.stderr()).not.toMatch(STACK_TRACE);
    expect(readFileSync(state, 'utf8')).toBe('in the way');
    expect(await agent.stop()).toBe(0);
  }, 90_000);

  it('a journal write that fails is said once, naming the journal; every dialog is still published', async () => {
    const { folder, state, agent, client } = await agentOnEmptyFolder();

    // The first part of a capture, read and journalled (some dialogs final already)... It ends
    // inside a block (398440–400012), so the wall clock closes nothing while the journal is swapped.
    const whole = readFileSync(join(SAMPLES, 'whatsapp-chat.pcapng'));
    const path = join(folder, 'chat.pcapng');
    const journal = journalOf(state, path);
    writeFileSync(path, whole.subarray(0, 400_000));
    // Lines after the header that are dialog records (not identity lines, not a line cut short).
    const journalled = (): number =>
      existsSync(journal) ? readFileSync(journal, 'utf8').split('\n').slice(1).filter((line) => line.startsWith('{') && !line.startsWith('{"identity"') && line.endsWith('}')).length : 0;
    // Each dialog is journalled before it is printed: a journal line can be read here before the
    // agent's output saying the same has reached this process, so both are waited for.
    const finals = (): LiveDialog[] => agent.published().filter((dialog) => dialog.status === 'final');
    await waitFor(() => journalled() > 0 && finals().length > 0, 20_000, 'dialogs in the journal and on the terminal');
    const before = finals();

    // ...then its journal can no longer be written (a folder in its place: EISDIR, for root too,
    // as ENOSPC on a full disk would be), and the rest of the capture comes.
    rmSync(journal);
    mkdirSync(journal);
    appendFileSync(path, whole.subarray(400_000));

    // Every dialog of the whole file published as final, on the terminal and to clients.
    await waitForFinalDialogs(agent, path, 'chat.pcapng');
    const expected = expectedDialogs(path, 'chat.pcapng');
    const printed = new Set(agent.published().filter((dialog) => dialog.status === 'final').map((dialog) => dialog.id));
    expect([...expected.keys()].filter((id) => !printed.has(id))).toEqual([]);
    const served = await servedLabels(agent, 'chat.pcapng');
    expect(served.filter((dialog) => dialog.status === 'final').map((dialog) => dialog.id).sort()).toEqual([...expected.keys()].sort());
    for (const dialog of before) expect(served.find((d) => d.id === dialog.id)).toEqual(dialog);

    // Said once, as the journal's failure, naming the journal; the capture is not in error.
    const message = `${path}: cannot write its state journal ${journal}: illegal operation on a directory (EISDIR); the capture is labelled and served on, its journal kept in memory only: an agent restarted on it publishes again the dialogs the journal misses`;
    expect(agent.stderr().split('\n').filter((line) => line.includes('state journal'))).toEqual([`cumma watch: chat.pcapng: updated: ${message}`]);
    await client.until('the journal failure', (messages) => messages.some((m) => m.type === 'capture' && m.message === message), 5000);
    expect(client.of('capture').filter((m) => (m.message ?? '').includes('state journal'))).toHaveLength(1);
    expect(client.of('capture').filter((m) => m.event === 'error')).toEqual([]);
    expect(agent.stderr()).not.toContain('CAPTURE_IO');
    const info = await captureInfo(agent, 'chat.pcapng');
    expect(info?.state).toBe('idle');
    expect(info?.error).toBeUndefined();
    expect(info?.bytesRead).toBe(whole.length);
    expect(agent.child.exitCode).toBeNull();
  }, 90_000);

  // Said once, the failure used to reach only the clients connected at that moment: one
  // connecting later (a VS Code window opened afterwards, Wireshark's plugin) saw a capture with
  // nothing to note. It stays the capture's warning, served in hello, capture events and /captures.
  it("a journal's failure stays the capture's warning: a client connecting later learns it", async () => {
    const { folder, state, agent, client: early } = await agentOnEmptyFolder();
    rmSync(state, { recursive: true });
    writeFileSync(state, 'in the way');

    const path = join(folder, 'chat.pcapng');
    copyFileSync(join(SAMPLES, 'whatsapp-chat.pcapng'), path);
    await waitForFinalDialogs(agent, path, 'chat.pcapng');
    await early.until('the journal failure', (messages) => messages.some((m) => m.type === 'capture' && (m.message ?? '').includes('state journal')), 10_000);
    const said = early.of('capture').find((m) => (m.message ?? '').includes('state journal'))!;
    const message = said.message!;
    expect(message).toMatch(new RegExp(`^${path}: cannot (read|write) its state journal ${journalOf(state, path)}: .* \\((ENOTDIR|EEXIST)\\); the capture is labelled and served on`));
    // The event that says it carries it as the capture's warning...
    expect(said.event).toBe('updated');
    expect(said.capture.warning).toBe(message);
    expect(said.capture.state).not.toBe('error');

    // ...and so does everything a client connecting now is given.
    const late = await connectClient(agent.httpUrl, { token: agent.token });
    clients.push(late);
    const hello = late.of('hello')[0]!;
    expect(hello.captures.find((capture) => capture.name === 'chat.pcapng')?.warning).toBe(message);
    expect((await captureInfo(agent, 'chat.pcapng'))?.warning).toBe(message);
    // Said once all the same.
    expect(agent.stderr().split('\n').filter((line) => line.includes('state journal'))).toHaveLength(1);
    expect(agent.child.exitCode).toBeNull();
  }, 90_000);
});

// A sidecar that cannot be written (a read-only capture folder, a folder at its path) was said
// once, in an `updated` event, and then forgotten: a client connecting later saw nothing wrong
// although Wireshark's labels file was no longer kept. It is kept as the journal's failure is,
// and beside it when both fail: one does not hide the other.
describe('a sidecar that cannot be written while cumma watch runs', () => {
  /** What the agent says of a capture whose sidecar path is taken by a folder. */
  const sidecarMessage = (path: string): string =>
    `${path}: cannot write its sidecar ${path}.cumma.tsv: illegal operation on a directory (EISDIR); the capture is labelled and served on, ` +
    "but its sidecar is not written again while the agent runs: Wireshark's plugin gets its labels from the agent only";
  const said = (agent: AgentProcess, what: string): string[] => agent.stderr().split('\n').filter((line) => line.includes(what));

  it("stays the capture's warning: a client connecting later learns it", async () => {
    const { folder, agent, client: early } = await agentOnEmptyFolder();
    const path = join(folder, 'chat.pcapng');
    // A folder at the sidecar's path: the rename into place fails (EISDIR), for root too.
    mkdirSync(`${path}.cumma.tsv`);
    copyFileSync(join(SAMPLES, 'whatsapp-chat.pcapng'), path);
    await waitForFinalDialogs(agent, path, 'chat.pcapng');
    await early.until('the sidecar failure', (messages) => messages.some((m) => m.type === 'capture' && (m.message ?? '').includes('sidecar')), 10_000);
    const event = early.of('capture').find((m) => (m.message ?? '').includes('sidecar'))!;
    const message = event.message!;
    expect(event.event).toBe('updated');
    expect(event.capture.warning).toBe(message);
    expect(event.capture.state).not.toBe('error');

    const late = await connectClient(agent.httpUrl, { token: agent.token });
    clients.push(late);
    expect(late.of('hello')[0]!.captures.find((capture) => capture.name === 'chat.pcapng')?.warning).toBe(message);
    expect((await captureInfo(agent, 'chat.pcapng'))?.warning).toBe(message);
    // Naming the capture, the sidecar and why; said once all the same, and the labels are served.
    expect(message).toBe(sidecarMessage(path));
    expect(said(agent, 'cannot write its sidecar')).toEqual([`cumma watch: chat.pcapng: updated: ${message}`]);
    expect((await servedLabels(agent, 'chat.pcapng')).length).toBe(expectedDialogs(path, 'chat.pcapng').size);
  }, 90_000);

  it("and the journal's failure are both in the warning, the journal's first", async () => {
    const { folder, state, agent, client: early } = await agentOnEmptyFolder();
    rmSync(state, { recursive: true });
    writeFileSync(state, 'in the way');
    const path = join(folder, 'chat.pcapng');
    mkdirSync(`${path}.cumma.tsv`);
    copyFileSync(join(SAMPLES, 'whatsapp-chat.pcapng'), path);
    await waitForFinalDialogs(agent, path, 'chat.pcapng');
    const isJournal = (text: string | undefined): boolean => (text ?? '').includes('state journal');
    const isSidecar = (text: string | undefined): boolean => (text ?? '').includes('sidecar');
    await early.until('both failures', (messages) => messages.some((m) => m.type === 'capture' && isJournal(m.message)) && messages.some((m) => m.type === 'capture' && isSidecar(m.message)), 10_000);
    const journal = early.of('capture').find((m) => isJournal(m.message))!.message!;
    const sidecar = early.of('capture').find((m) => isSidecar(m.message))!.message!;
    expect(journal).toMatch(new RegExp(`^${path}: cannot (read|write) its state journal ${journalOf(state, path)}: `));
    const both = `${journal}; ${sidecar}`;

    // Whichever came second was told with both; a client connecting later gets both.
    expect(early.of('capture').filter((m) => m.capture.name === 'chat.pcapng').at(-1)?.capture.warning).toBe(both);
    const late = await connectClient(agent.httpUrl, { token: agent.token });
    clients.push(late);
    expect(late.of('hello')[0]!.captures.find((capture) => capture.name === 'chat.pcapng')?.warning).toBe(both);
    expect((await captureInfo(agent, 'chat.pcapng'))?.warning).toBe(both);
    // Each said once, on its own.
    expect(said(agent, 'state journal')).toHaveLength(1);
    expect(sidecar).toBe(sidecarMessage(path));
    expect(said(agent, 'cannot write its sidecar')).toEqual([`cumma watch: chat.pcapng: updated: ${sidecar}`]);
    expect(agent.child.exitCode).toBeNull();
  }, 90_000);
});
