// `cumma train -o` checks what -o is before training and writes it minutes later. What happens
// in between must not undo the check: a capture saved under -o's name while training is kept (the
// model was renamed over it), a symbolic link planted at the temporary file's name is not written
// through (the name was predictable and opened without O_EXCL), and a FIFO swapped in for the
// file whose first bytes are read cannot hang the check in open(2).
// runTrain runs here, in this process, on real captures and files: its stderr is the hook that
// acts at a known point of the run, the warning training prints, after the check and before save.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runTrain } from '../../agent/src/cli/train-command';
import { NotRegularFileError, readFileHead } from '../../agent/src/common/file-kind';
import { cleanUpAfterEach } from '../support/cleanup';

const ROOT = join(__dirname, '..', '..');
const SAMPLES = ['whatsapp-chat.pcapng', 'telegram-calls.pcapng'].map((name) => join(ROOT, 'samples', name));
const CAPTURE = join(ROOT, 'samples', 'signal-streaming.pcapng');
const { roots } = cleanUpAfterEach();

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cumma-train-race-'));
  roots.push(dir);
  return dir;
}

/** A stream that collects what is written, calling `onWarning` at the first `warning:` line. */
function sink(onWarning: () => void = () => undefined): { stream: Writable; text: () => string } {
  let text = '';
  let warned = false;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      // Synchronous: runTrain waits for nothing, so this runs in the middle of the command.
      if (!warned && text.includes('warning:')) {
        warned = true;
        onWarning();
      }
      done();
    },
  });
  return { stream, text: () => text };
}

describe('cumma train -o, between the check and the write', () => {
  it.each([
    ['nothing', (_output: string) => undefined],
    ['a model', (output: string) => copyFileSync(join(ROOT, 'models', 'default.json'), output)],
  ])('was %s when checked, and a capture saved there while training is kept', async (_label, before) => {
    const dir = scratch();
    const output = join(dir, 'm.json');
    before(output);
    const stderr = sink(() => copyFileSync(CAPTURE, output));
    const stdout = sink();
    const run = runTrain([...SAMPLES, '-o', output, '--trees', '5'], { stdout: stdout.stream, stderr: stderr.stream });
    await expect(run).rejects.toThrow(
      `cannot write model ${output}: it became a file that is not a Cumma model but a pcapng capture while training, and train replaces only model files: ` +
        'the model was not written; remove it or give another name [MODEL_OUTPUT]',
    );
    // The hook ran mid-command (the calibration warning), and the capture is intact.
    expect(stderr.text()).toContain('cumma train: warning:');
    expect(readFileSync(output).equals(readFileSync(CAPTURE))).toBe(true);
    expect(readdirSync(dir)).toEqual(['m.json']);
  });

  it('does not write through a symbolic link planted at the temporary file name', async () => {
    const dir = scratch();
    const output = join(dir, 'm.json');
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    // The name the old save wrote through: OUT.PID.tmp, PID this process (runTrain runs here).
    const planted = `${output}.${process.pid}.tmp`;
    symlinkSync(victim, planted);
    expect(await runTrain([...SAMPLES, '-o', output, '--trees', '5'], { stdout: sink().stream, stderr: sink().stream })).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(output).isFile()).toBe(true);
    expect(JSON.parse(readFileSync(output, 'utf8'))).toMatchObject({ format: 'cumma-model', name: 'm' });
    // The planted link is not the command's to remove; no temporary of its own is left.
    expect(readdirSync(dir).sort()).toEqual(['m.json', 'm.json.' + process.pid + '.tmp', 'victim.txt'].sort());
  });
});

describe('readFileHead', () => {
  it('refuses a FIFO at once instead of waiting in open(2) for a writer', () => {
    const dir = scratch();
    const fifo = join(dir, 'm.json');
    const made = spawnSync('mkfifo', [fifo]);
    if (made.status !== 0) throw new Error(`mkfifo failed: ${String(made.stderr)}`);
    // A writer that opens the FIFO after 3 s: a reader blocked in open(2) gets end of file then,
    // so that code waiting on it fails this test instead of hanging it.
    const writer = spawn('sh', ['-c', `sleep 3; : > '${fifo}'`], { stdio: 'ignore' });
    try {
      const started = Date.now();
      let thrown: unknown;
      try {
        readFileHead(fifo, 4);
      } catch (error) {
        thrown = error;
      }
      expect(Date.now() - started).toBeLessThan(2000);
      expect(thrown).toBeInstanceOf(NotRegularFileError);
      expect((thrown as Error).message).toBe('it is a FIFO, not a regular file');
      expect(existsSync(fifo)).toBe(true);
    } finally {
      writer.kill('SIGKILL');
    }
  });
});
