// The latency benchmark interrupted, as a person or a pipe interrupts it: Ctrl-C (SIGINT), and
// `npm run bench | head` (its stdout closed). It used to leave its agent running and ≈ 130 MB of
// captures in /tmp, since Node.js ends a process on SIGINT, and on an unhandled EPIPE, without
// running `finally` blocks.
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/agent-process';

const BENCH = join(__dirname, '..', '..', 'dist', 'bench-latency.js');
const WHOLE_BENCH = join(__dirname, '..', '..', 'dist', 'bench.js');

let temp: string;
let bench: ChildProcess | undefined;

beforeAll(() => {
  for (const script of [BENCH, WHOLE_BENCH]) if (!existsSync(script)) throw new Error(`${script} does not exist: run 'npm run build' first`);
});

afterEach(() => {
  if (bench !== undefined && bench.exitCode === null && bench.signalCode === null) process.kill(-bench.pid!, 'SIGKILL');
  for (const pid of processesNaming(temp)) process.kill(pid, 'SIGKILL');
  rmSync(temp, { recursive: true, force: true });
});

/** Pids of the processes whose command line names `text` (Linux /proc). */
function processesNaming(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(join('/proc', entry, 'cmdline'), 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // Ended meanwhile.
    }
  }
  return pids;
}

/** Starts the benchmark with its own temporary folder and waits until its agent runs. */
async function startBench(): Promise<{ child: ChildProcess; scratch: string; exited: Promise<number | null> }> {
  temp = mkdtempSync(join(tmpdir(), 'cumma-interrupted-bench-'));
  // A process group of its own, as a terminal's job is: Ctrl-C signals the whole group.
  const child = spawn(process.execPath, [BENCH, '--duration', '20'], { env: { ...process.env, TMPDIR: temp }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  bench = child;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitFor(() => readdirSync(temp).some((name) => name.startsWith('cumma-latency-')), 20_000, 'the scratch folder');
  const scratch = join(temp, readdirSync(temp).find((name) => name.startsWith('cumma-latency-'))!);
  await waitFor(() => processesNaming(`${scratch}/captures`).length > 0, 30_000, 'the agent');
  return { child, scratch, exited };
}

describe.runIf(process.platform === 'linux')('the latency benchmark, interrupted', () => {
  it('by Ctrl-C (SIGINT): stops its agent, removes its scratch folder and exits 130', async () => {
    const { child, scratch, exited } = await startBench();
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(existsSync(scratch)).toBe(false);
    await waitFor(() => processesNaming(scratch).length === 0, 5000, 'the agent gone');
  }, 90_000);

  it('by a reader that went away (stdout closed): the same, at its next line', async () => {
    const { child, scratch, exited } = await startBench();
    // Its first line ("Live label latency: …") is out once the capture is being written.
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await waitFor(() => stdout.includes('Live label latency'), 30_000, 'the first line');
    child.stdout!.destroy();
    expect(await exited).toBe(0);
    expect(existsSync(scratch)).toBe(false);
    await waitFor(() => processesNaming(scratch).length === 0, 5000, 'the agent gone');
  }, 90_000);

  it('within npm run bench, by Ctrl-C: the whole run stops there, with 130, and leaves nothing behind', async () => {
    temp = mkdtempSync(join(tmpdir(), 'cumma-interrupted-bench-'));
    const child = spawn(process.execPath, [WHOLE_BENCH, '--packets', '20000', '--flows', '200', '--runs', '1'], {
      env: { ...process.env, TMPDIR: temp },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    bench = child;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await waitFor(() => processesNaming(`${temp}/cumma-latency-`).length > 0 && readdirSync(temp).some((name) => name.startsWith('cumma-latency-')), 60_000, 'the latency benchmark');
    const scratch = join(temp, readdirSync(temp).find((name) => name.startsWith('cumma-latency-'))!);
    await waitFor(() => processesNaming(`${scratch}/captures`).length > 0, 60_000, 'its agent');
    // Ctrl-C: the terminal signals the foreground job's whole process group.
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toBe(130);
    expect(stdout).not.toContain('Cumma Wireshark plugin benchmark');
    expect(readdirSync(temp)).toEqual([]);
    await waitFor(() => processesNaming(temp).length === 0, 5000, 'every process of the run gone');
  }, 120_000);
});
