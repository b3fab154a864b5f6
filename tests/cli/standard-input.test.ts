// `cumma flows -` and `cumma classify -` read a capture from a pipe (dumpcap -w - | cumma …), and
// pipes or FIFOs given by name work too: they cannot be read at an offset, so they are read in
// sequence. The output must be what the same bytes give from a file.
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cumma.js');
const SAMPLE = join(ROOT, 'samples', 'whatsapp-chat.pcapng');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cumma(args: readonly string[], input?: Buffer): Run {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Starts cumma and collects its output; `feed` gets its standard input, if piped. */
function cummaAsync(args: readonly string[], feed?: (stdin: NodeJS.WritableStream) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: [feed === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    if (feed !== undefined && child.stdin !== null) {
      // A cumma that stops reading early (a failing test) must fail the test, not crash it.
      child.stdin.on('error', () => undefined);
      feed(child.stdin);
    }
  });
}

/** Runs cumma with its standard input a real pipe fed in small pieces (as dumpcap writes). */
function cummaFromPipe(args: readonly string[], path: string): Promise<Run> {
  return cummaAsync(args, (stdin) => createReadStream(path, { highWaterMark: 1500 }).pipe(stdin));
}

let dir: string;
let bytes: Buffer;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: run 'npm run build' first`);
  dir = mkdtempSync(join(tmpdir(), 'cumma-stdin-'));
  bytes = readFileSync(SAMPLE);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a capture on standard input', () => {
  it('gives the flows the file gives', async () => {
    const fromFile = cumma(['flows', SAMPLE, '--format', 'jsonl']);
    expect(fromFile.status).toBe(0);
    expect(fromFile.stdout.split('\n').length).toBeGreaterThan(10);
    const fromPipe = await cummaFromPipe(['flows', '-', '--format', 'jsonl'], SAMPLE);
    expect(fromPipe.stderr).toBe('');
    expect(fromPipe.status).toBe(0);
    expect(fromPipe.stdout).toBe(fromFile.stdout);
  });

  it('gives the dialogs the file gives, under the capture name "stdin"', async () => {
    const fromFile = cumma(['classify', SAMPLE, '--format', 'jsonl']);
    expect(fromFile.status).toBe(0);
    const fromPipe = await cummaFromPipe(['classify', '-', '--format', 'jsonl'], SAMPLE);
    expect(fromPipe.status, fromPipe.stderr).toBe(0);
    expect(fromPipe.stdout).toBe(fromFile.stdout.replaceAll('"capture":"whatsapp-chat.pcapng"', '"capture":"stdin"'));
  });

  it('read through /dev/stdin, a name that cannot be read at an offset, works as well', async () => {
    const fromFile = cumma(['flows', SAMPLE, '--format', 'csv']);
    const fromPipe = await cummaFromPipe(['flows', '/dev/stdin', '--format', 'csv'], SAMPLE);
    expect(fromPipe.status, fromPipe.stderr).toBe(0);
    expect(fromPipe.stdout).toBe(fromFile.stdout);
  });

  it('given as a FIFO by name is read in sequence', async () => {
    const fifo = join(dir, 'capture.fifo');
    const made = spawnSync('mkfifo', [fifo]);
    expect(made.status, String(made.stderr)).toBe(0);
    const reading = cummaAsync(['flows', fifo, '--format', 'jsonl']);
    createReadStream(SAMPLE, { highWaterMark: 4096 }).pipe(createWriteStream(fifo));
    const fromFifo = await reading;
    expect(fromFifo.status, fromFifo.stderr).toBe(0);
    expect(fromFifo.stdout).toBe(cumma(['flows', SAMPLE, '--format', 'jsonl']).stdout);
  });

  it('cut short is reported as standard input at the byte offset where it stops, after the flows read', () => {
    const cut = bytes.subarray(0, 300_000);
    const result = cumma(['flows', '-', '--format', 'jsonl'], cut);
    expect(result.status).toBe(1);
    expect(result.stdout.trim().split('\n').length).toBeGreaterThan(5);
    expect(result.stderr).toMatch(/^cumma flows: error: standard input: byte offset \d+: .*\[CAPTURE_TRUNCATED\]/m);
  });

  it('empty is an error naming standard input', () => {
    const result = cumma(['classify', '-'], Buffer.alloc(0));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('standard input: byte offset 0');
  });

  it('with --sidecar is refused: there is no file to write beside', () => {
    const result = cumma(['classify', '-', '--sidecar'], bytes);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--sidecar writes beside the capture file; standard input (-) has none');
  });
});

it('a directory given as the capture is named as one', () => {
  const result = cumma(['flows', dir]);
  expect(result.status).toBe(1);
  expect(result.stderr).toContain(`${dir}: byte offset 0: cannot read: it is a directory, not a capture file [CAPTURE_IO]`);
});
