import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTools } from '../support/tools';

const CLI = join(__dirname, '..', '..', 'dist', 'cumma.js');
const tools = requireTools('dumpcap', 'tshark');

function run(command: string, args: readonly string[], timeoutMs?: number): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }) });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let dir: string;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: run 'npm run build' first`);
  dir = mkdtempSync(join(tmpdir(), 'cumma-record-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cumma record: command line', () => {
  it('refuses an unknown usage, listing the valid ones, before starting any capture', () => {
    const result = run(process.execPath, [CLI, 'record', '--usage', 'selfie', '-o', join(dir, 'x.pcapng')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('text, photo, voice_note, video_clip, file, location, voice_call, video_call, streaming, other');
  });

  // It used to refuse only a folder: the recording was renamed over anything else at the end
  // (a device node, run as root). Refused as simulate refuses them, before dumpcap starts.
  it.each([
    ['notes.txt', 'my notes\n', 'is not a pcapng capture: record replaces only captures'],
    ['model.json', '{"format":"cumma-model","version":1}\n', 'is not a pcapng capture: record replaces only captures'],
  ])('refuses to replace an existing %s that is not a pcapng capture, keeping it', (name, content, message) => {
    const path = join(dir, `existing-${name}`);
    writeFileSync(path, content);
    // Short and fast: a command that took -o records a few seconds, then renames over it.
    const result = run(process.execPath, [CLI, 'record', '--usage', 'text', '--duration', '5', '--speed', '10', '-o', path], 60_000);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`cumma record: -o ${path} exists and ${message}`);
    expect(result.stderr).toContain('usage: cumma record');
    expect(readFileSync(path, 'utf8')).toBe(content);
    expect(existsSync(`${path}.truth.jsonl`)).toBe(false);
  });

  it('refuses an -o that is not a regular file (a FIFO here; a device alike), keeping it', () => {
    const fifo = join(dir, 'fifo.pcapng');
    const made = spawnSync('mkfifo', [fifo]);
    if (made.status !== 0) throw new Error(`mkfifo failed: ${String(made.stderr)}`);
    const result = run(process.execPath, [CLI, 'record', '--usage', 'text', '--duration', '5', '--speed', '10', '-o', fifo], 60_000);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`cumma record: -o ${fifo} exists and is not a regular file (a FIFO)`);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('refuses a name ending in / and a truth sidecar that is a folder', () => {
    const slash = run(process.execPath, [CLI, 'record', '--usage', 'text', '--duration', '5', '--speed', '10', '-o', `${join(dir, 'nowhere')}/`], 60_000);
    expect(slash.status).toBe(2);
    expect(slash.stderr).toContain(`cumma record: -o ${join(dir, 'nowhere')}/ ends with '/', so it names a folder`);
    const capture = join(dir, 'truth-folder.pcapng');
    mkdirSync(`${capture}.truth.jsonl`);
    const truth = run(process.execPath, [CLI, 'record', '--usage', 'text', '--duration', '5', '--speed', '10', '-o', capture], 60_000);
    expect(truth.status).toBe(2);
    expect(truth.stderr).toContain(`cumma record: -o ${capture}: its truth sidecar ${capture}.truth.jsonl exists and is not a regular file (a folder)`);
  });

  it('refuses a --duration past its maximum before building the script', () => {
    // A refusal is immediate; a command that took the value would build and start recording.
    const result = run(process.execPath, [CLI, 'record', '--usage', 'text', '--duration', '3601', '-o', join(dir, 'long.pcapng')], 20_000);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("cumma record: --duration must be at most 3600 seconds, got '3601'");
  });
});

describe.skipIf(tools.skip)('cumma record: a bulk transfer as Wireshark reads it', () => {
  beforeAll(() => tools.assertAvailable());

  it('records a photo transfer that opens in tshark without warnings, labelled on every packet', () => {
    const path = join(dir, 'photo.pcapng');
    const result = run(process.execPath, [CLI, 'record', '--usage', 'photo', '--duration', '15', '--speed', '10', '-o', path]);
    expect(result.status, result.stderr).toBe(0);
    const expert = run('tshark', ['-r', path, '-q', '-z', 'expert']);
    // Paced writes keep the receiving socket ahead: no full or zero windows, no other warnings.
    expect(expert.stdout).not.toMatch(/^(Errors|Warns) \(/m);
    const comments = run('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.comment']).stdout.trim().split('\n');
    expect(comments.length).toBeGreaterThan(10);
    expect(comments.every((comment) => /^cumma:usage=(photo|other) session=1 dialog=\d+$/.test(comment))).toBe(true);
    expect(comments.filter((comment) => comment.startsWith('cumma:usage=photo')).length).toBeGreaterThan(5);
  });

  it('warns when replaying faster merged two labelled activities into one dialog', () => {
    const path = join(dir, 'fast-text.pcapng');
    // The chat connection's set-up (other) and the texts 11 s later (text): 1.1 s apart at speed 10.
    const result = run(process.execPath, [CLI, 'record', '--usage', 'text', '--duration', '5', '--speed', '10', '-o', path]);
    expect(result.status, result.stderr).toBe(0);
    const evaluate = run(process.execPath, [CLI, 'evaluate', path]);
    expect(evaluate.stderr).toContain('[TRUTH_LABEL_CONFLICT]');
    const warnings = result.stderr.split('\n').filter((line) => line.startsWith('cumma record: warning:'));
    // Each merged dialog as evaluate reports it, then why.
    const merged = warnings.filter((line) => line.includes('carries conflicting labels'));
    expect(merged.length, result.stderr).toBeGreaterThan(0);
    const evaluateConflicts = evaluate.stderr.split('\n').filter((line) => line.includes('carries conflicting labels'));
    expect(merged.length).toBe(evaluateConflicts.length);
    expect(warnings.at(-1)).toContain('at --speed 10 the script');
    expect(warnings.at(-1)).toContain('record training data at --speed 1');
  });
});
