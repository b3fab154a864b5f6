import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTools } from '../support/tools';

const CLI = join(__dirname, '..', '..', 'dist', 'cumma.js');
const tools = requireTools('dumpcap', 'tshark');

function run(command: string, args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
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
