// A truth sidecar (CAPTURE.truth.jsonl) that is no file to read: train and evaluate name it,
// with TRUTH_BAD_SIDECAR, and never wait on it. A folder used to surface as a bare
// "error: EISDIR: illegal operation on a directory, read" naming no file, and a FIFO hung the
// command until something wrote to it.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLabelledCapture } from './labelled-capture';

const CLI = join(__dirname, '..', '..', 'dist', 'cumma.js');

function cumma(args: readonly string[], as?: { uid: number; gid: number }): { status: number | null; stdout: string; stderr: string } {
  // A command that waits on a FIFO would never end: the timeout turns that into a failure.
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000, ...(as ?? {}) });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let dir: string;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: run 'npm run build' first`);
  dir = mkdtempSync(join(tmpdir(), 'cumma-truth-sidecar-files-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A capture with no truth comments (its truth could only come from the sidecar), in its own folder. */
function unlabelledCapture(name: string): string {
  const folder = join(dir, name);
  mkdirSync(folder);
  const capture = join(folder, 'cap.pcapng');
  writeLabelledCapture(capture, [null, null, null]);
  return capture;
}

describe('a truth sidecar that cannot be read', () => {
  it.each(['train', 'evaluate'])('%s names a sidecar that is a folder', (command) => {
    const capture = unlabelledCapture(`folder-${command}`);
    mkdirSync(`${capture}.truth.jsonl`);
    const result = cumma([command, capture, ...(command === 'train' ? ['-o', join(dir, `${command}.json`)] : [])]);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`cumma ${command}: error: ${capture}.truth.jsonl: cannot read it: it is a folder, not a regular file [TRUTH_BAD_SIDECAR]\n`);
    expect(result.stdout).toBe('');
  });

  it.each(['train', 'evaluate'])('%s names a sidecar that is a FIFO, without waiting on it', (command) => {
    const capture = unlabelledCapture(`fifo-${command}`);
    const made = spawnSync('mkfifo', [`${capture}.truth.jsonl`]);
    if (made.status !== 0) throw new Error(`mkfifo failed: ${String(made.stderr)}`);
    const result = cumma([command, capture, ...(command === 'train' ? ['-o', join(dir, `${command}.json`)] : [])]);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`cumma ${command}: error: ${capture}.truth.jsonl: cannot read it: it is a FIFO, not a regular file [TRUTH_BAD_SIDECAR]\n`);
  });

  it('evaluate names a sidecar it may not read', (context) => {
    // As root every file is readable: run as nobody then.
    const nobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
    // Where nobody cannot run node and the CLI (a private install), there is nothing to test.
    if (nobody !== undefined && cumma(['--version'], nobody).status !== 0) context.skip();
    const shared = mkdtempSync(join(tmpdir(), 'cumma-unreadable-sidecar-'));
    try {
      chmodSync(shared, 0o755);
      const capture = join(shared, 'cap.pcapng');
      writeLabelledCapture(capture, [null, null]);
      chmodSync(capture, 0o644);
      writeFileSync(`${capture}.truth.jsonl`, '{}\n', { mode: 0o600 });
      chmodSync(`${capture}.truth.jsonl`, 0o000);
      const result = cumma(['evaluate', capture], nobody);
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(`cumma evaluate: error: ${capture}.truth.jsonl: cannot read it: permission denied (EACCES) [TRUTH_BAD_SIDECAR]\n`);
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });
});
