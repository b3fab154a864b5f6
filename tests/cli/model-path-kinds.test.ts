// A --model that is no file to read (a FIFO, a device, a folder): classify, evaluate and watch
// refuse it at once, naming it and what it is, with MODEL_MISSING. A FIFO used to hang the command
// in open(2) until something wrote to it (classify's labelling thread too, and the read-ahead of
// the model's gaps on its reading thread); a folder surfaced as a bare "EISDIR: illegal operation
// on a directory, read", and /dev/null as "not valid JSON".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = join(__dirname, '..', '..', 'dist', 'cumma.js');
const SAMPLE = join(__dirname, '..', '..', 'samples', 'whatsapp-chat.pcapng');

let dir: string;
let fifo: string;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: run 'npm run build' first`);
  dir = mkdtempSync(join(tmpdir(), 'cumma-model-kinds-'));
  fifo = join(dir, 'model.fifo');
  const made = spawnSync('mkfifo', [fifo]);
  if (made.status !== 0) throw new Error(`mkfifo failed: ${String(made.stderr)}`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cumma(args: readonly string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string; ms: number } {
  const started = Date.now();
  // A command waiting on the FIFO would never end: the timeout turns that into a failure.
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, CUMMA_CONFIG_DIR: join(dir, 'config'), ...env } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, ms: Date.now() - started };
}

/** Each command with the model it is given, as the command line reads. */
const COMMANDS: readonly (readonly [string, (model: string) => string[], NodeJS.ProcessEnv])[] = [
  ['classify', (model) => ['classify', SAMPLE, '--model', model, '--format', 'jsonl'], {}],
  // The labelling thread (large captures) loads the model there, and reads its gaps ahead here.
  ['classify (labelling thread)', (model) => ['classify', SAMPLE, '--model', model, '--format', 'jsonl'], { CUMMA_LABEL_THREAD: '1' }],
  ['evaluate', (model) => ['evaluate', SAMPLE, '--model', model], {}],
  ['watch', (model) => ['watch', join(dir, 'watched'), '--model', model, '--port', '0', '--format', 'none'], {}],
];

describe('a --model that is not a regular file', () => {
  beforeAll(() => mkdirSync(join(dir, 'watched'), { recursive: true }));

  it.each(COMMANDS)('%s refuses a FIFO at once, without waiting on it', (label, args, env) => {
    const command = label.split(' ')[0]!;
    const run = cumma(args(fifo), env);
    expect(run.status, `still running after 20 s? ${run.stderr}`).toBe(1);
    expect(run.stderr).toBe(`cumma ${command}: error: cannot read model ${fifo}: it is a FIFO, not a regular file [MODEL_MISSING]\n`);
    expect(run.stdout).toBe('');
    expect(run.ms).toBeLessThan(10_000);
  });

  it('classify names a folder and a device as what they are', () => {
    const folder = join(dir, 'model-folder');
    mkdirSync(folder);
    const fromFolder = cumma(['classify', SAMPLE, '--model', folder]);
    expect(fromFolder.status).toBe(1);
    expect(fromFolder.stderr).toBe(`cumma classify: error: cannot read model ${folder}: it is a folder, not a regular file [MODEL_MISSING]\n`);
    const fromDevice = cumma(['classify', SAMPLE, '--model', '/dev/null']);
    expect(fromDevice.status).toBe(1);
    expect(fromDevice.stderr).toBe('cumma classify: error: cannot read model /dev/null: it is a device, not a regular file [MODEL_MISSING]\n');
  });
});
