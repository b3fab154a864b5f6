// Standard output that fails or goes away: a full disk is one line in the commands' words
// (no stack trace), a closed pipe stops the work quietly, even with input that never ends,
// and records read from a live pipe go out as they complete, not when 64 KiB piled up.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cumma.js');
const SAMPLE = join(ROOT, 'samples', 'whatsapp-chat.pcapng');
let dir: string;
/** Ten thousand packets over five minutes: flows and dialogs end all along it. */
let long: Buffer;

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: run 'npm run build' first`);
  dir = mkdtempSync(join(tmpdir(), 'cumma-stdout-'));
  const path = join(dir, 'long.pcapng');
  const made = spawnSync(process.execPath, [CLI, 'simulate', '--scenario', '--duration', '300', '--seed', '7', '-o', path], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(made.stderr);
  long = readFileSync(path);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!existsSync('/dev/full'))('a full disk on standard output', () => {
  it.each([
    [['classify', SAMPLE, '--format', 'jsonl'], 'cumma classify'],
    [['flows', SAMPLE, '--format', 'jsonl'], 'cumma flows'],
    [['evaluate', SAMPLE], 'cumma evaluate'],
    [['--help'], 'cumma'],
    [['classify', '--help'], 'cumma classify'],
  ])('%j: one line, exit 1', (args, prefix) => {
    const full = openSync('/dev/full', 'w');
    try {
      const result = spawnSync(process.execPath, [CLI, ...args], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8', timeout: 30_000 });
      expect(result.stderr).toBe(`${prefix}: error: cannot write standard output: no space left on device\n`);
      expect(result.status).toBe(1);
    } finally {
      closeSync(full);
    }
  });
});

/**
 * Runs cumma on a pipe that is never closed (as tail -f gives): the first half of the capture,
 * then, once the first record is out, the reader of stdout goes away (… | head -1) and the rest
 * follows. Resolves with the exit status; `firstBeforeEnd` says the first record came while the
 * input was still open.
 */
function endlessInput(args: readonly string[]): Promise<{ status: number | null; stderr: string; firstBeforeEnd: boolean; exitedInTime: boolean }> {
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let firstBeforeEnd = false;
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.stdin!.on('error', () => undefined);
    const half = Math.floor(long.length * 0.8);
    child.stdin!.write(long.subarray(0, half));
    // The old code printed nothing until the input ended: give up after a while, and fail.
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ status: null, stderr, firstBeforeEnd, exitedInTime: false });
    }, 15_000);
    child.stdout!.once('data', () => {
      firstBeforeEnd = true;
      child.stdout!.destroy();
      child.stdin!.write(long.subarray(half)); // more to read, and still no end of input
    });
    child.on('exit', (status) => {
      clearTimeout(deadline);
      resolve({ status, stderr, firstBeforeEnd, exitedInTime: true });
    });
  });
}

describe('reading a pipe that never ends', () => {
  it.each([
    [['flows', '-', '--format', 'jsonl', '--idle-timeout', '1']],
    [['classify', '-', '--format', 'jsonl']],
  ])('%j: records come as they complete, and a closed output ends it quietly', async (args) => {
    const result = await endlessInput(args);
    expect(result.firstBeforeEnd).toBe(true);
    expect(result.exitedInTime).toBe(true);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  }, 30_000);
});

it('a closed pipe on a command printing with process.stdout stays quiet', () => {
  const result = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" evaluate "${SAMPLE}" | head -c 1 >/dev/null`], { encoding: 'utf8', timeout: 30_000 });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
});
