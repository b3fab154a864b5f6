// `classify --sidecar` writes the sidecar only from a capture it could read, only beside a
// regular file, and says up front when the folder cannot take it.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSidecar } from '../../agent/src/live/sidecar-file';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cumma.js');
const SAMPLE = join(ROOT, 'samples', 'whatsapp-chat.pcapng');
let dir: string;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: run 'npm run build' first`);
  dir = mkdtempSync(join(tmpdir(), 'cumma-sidecar-guard-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cumma(args: readonly string[], options: { input?: string | Buffer; uid?: number; gid?: number } = {}): { status: number | null; stdout: string; stderr: string } {
  // The timeout turns a hang (the old code opened the FIFO and waited for a writer) into a failure.
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir, timeout: 20_000, ...options });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const GOOD = 'l4\tip_a\n# an earlier, good sidecar\n';

describe('a capture that cannot be read at all', () => {
  it.each([
    ['a missing file', (_path: string) => undefined],
    ['a file of zeros', (path: string) => writeFileSync(path, Buffer.alloc(4096))],
    ['a text file', (path: string) => writeFileSync(path, 'not a capture\n')],
  ])('%s leaves an existing sidecar alone', (_name, make) => {
    const capture = join(dir, `unreadable-${_name.replace(/ /g, '-')}.pcapng`);
    make(capture);
    writeFileSync(`${capture}.cumma.tsv`, GOOD);
    const result = cumma(['classify', capture, '--sidecar', '--format', 'jsonl']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/cumma classify: error: .*\[CAPTURE_(IO|UNKNOWN_FORMAT)\]/);
    expect(readFileSync(`${capture}.cumma.tsv`, 'utf8')).toBe(GOOD);
  });

  it('writes no sidecar where there was none', () => {
    const capture = join(dir, 'zeros.pcapng');
    writeFileSync(capture, Buffer.alloc(64));
    expect(cumma(['classify', capture, '--sidecar', '--format', 'jsonl']).status).toBe(1);
    expect(existsSync(`${capture}.cumma.tsv`)).toBe(false);
  });

  it('a capture cut short still gets the sidecar of what was read, as stdout does', () => {
    const capture = join(dir, 'truncated.pcapng');
    const whole = readFileSync(SAMPLE);
    writeFileSync(capture, whole.subarray(0, Math.floor(whole.length * 0.9)));
    const result = cumma(['classify', capture, '--sidecar', '--format', 'jsonl']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('CAPTURE_TRUNCATED');
    const printed = result.stdout.trim().split('\n').filter((line) => line !== '').length;
    const sidecarLines = readFileSync(`${capture}.cumma.tsv`, 'utf8').trim().split('\n').length - 1;
    expect(printed).toBeGreaterThan(0);
    expect(sidecarLines).toBe(printed);
  });
});

describe('--sidecar temporaries', () => {
  it('are removed when left by a writer that was killed, and kept while their writer runs', () => {
    const capture = join(dir, 'swept.pcapng');
    copyFileSync(SAMPLE, capture);
    const gone = spawnSync('true').pid!;
    const stale = `${capture}.cumma.tsv.${gone}.0123456789abcdef.tmp`;
    const live = `${capture}.cumma.tsv.${process.pid}.fedcba9876543210.tmp`;
    writeFileSync(stale, 'half a sidecar');
    writeFileSync(live, 'being written');
    const result = cumma(['classify', capture, '--sidecar', '--format', 'jsonl']);
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(readdirSync(dir).filter((name) => name.startsWith('swept.pcapng.cumma.tsv.'))).toEqual([live.slice(dir.length + 1)]);
    rmSync(live);
  });
});

describe('--sidecar needs a regular file', () => {
  it('refuses /dev/stdin, even when standard input is a regular file', () => {
    const result = cumma(['classify', '/dev/stdin', '--sidecar'], { input: readFileSync(SAMPLE) });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('cumma classify: --sidecar writes beside the capture file; /dev/stdin is a system path, not a capture file');
    expect(result.stderr).toContain('usage: cumma classify');
  });

  it('takes a capture in /dev/shm (a tmpfs, where RAM ring buffers live)', () => {
    const shm = mkdtempSync('/dev/shm/cumma-sidecar-');
    try {
      const capture = join(shm, 'ring.pcapng');
      copyFileSync(SAMPLE, capture);
      const result = cumma(['classify', capture, '--sidecar', '--format', 'jsonl']);
      expect(result.status, result.stderr).toBe(0);
      const sidecarLines = readFileSync(`${capture}.cumma.tsv`, 'utf8').trim().split('\n').length - 1;
      expect(sidecarLines).toBe(result.stdout.trim().split('\n').length);
    } finally {
      rmSync(shm, { recursive: true, force: true });
    }
  });

  it('refuses a FIFO, before reading it', () => {
    const fifo = join(dir, 'live.pcapng');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const result = cumma(['classify', fifo, '--sidecar']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`--sidecar writes beside the capture file; ${fifo} is a pipe (FIFO)`);
    expect(existsSync(`${fifo}.cumma.tsv`)).toBe(false);
  });

  it('refuses a folder', () => {
    const folder = join(dir, 'captures.pcapng');
    mkdirSync(folder);
    const result = cumma(['classify', folder, '--sidecar']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${folder} is a folder`);
    expect(existsSync(`${folder}.cumma.tsv`)).toBe(false);
  });
});

it('a folder that cannot take the sidecar is reported before classifying, naming the sidecar', (context) => {
  // As root every folder is writable: run as nobody then.
  const nobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const shared = mkdtempSync(join(tmpdir(), 'cumma-sidecar-locked-'));
  try {
    chmodSync(shared, 0o755);
    mkdirSync(join(shared, 'locked'), { mode: 0o755 });
    copyFileSync(SAMPLE, join(shared, 'locked', 'cap.pcapng'));
    chmodSync(join(shared, 'locked', 'cap.pcapng'), 0o644);
    chmodSync(join(shared, 'locked'), 0o555);
    if (spawnSync(process.execPath, [CLI, '--version'], { cwd: shared, ...nobody }).status !== 0) context.skip();
    const result = spawnSync(process.execPath, [CLI, 'classify', 'locked/cap.pcapng', '--sidecar', '--format', 'jsonl'], { cwd: shared, encoding: 'utf8', ...nobody });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('cumma classify: error: cannot write the sidecar locked/cap.pcapng.cumma.tsv: folder locked is not writable (EACCES)');
    expect(result.stderr).not.toContain('.tmp');
    // Refused up front: no dialog was classified and printed.
    expect(result.stdout).toBe('');
    expect(readdirSync(join(shared, 'locked'))).toEqual(['cap.pcapng']);
  } finally {
    chmodSync(join(shared, 'locked'), 0o755);
    rmSync(shared, { recursive: true, force: true });
  }
});

it('a failed sidecar write names the sidecar, not the temporary it is written through', () => {
  const path = join(dir, 'taken.pcapng.cumma.tsv');
  mkdirSync(path); // the rename onto a folder fails
  let message = '';
  try {
    writeSidecar(path, []);
  } catch (error) {
    message = (error as Error).message;
  }
  expect(message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
  expect(message).not.toContain('.tmp');
  expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
});
