import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USAGE_CLASSES } from '../../agent/src/labels';
import { parseScenario } from '../../agent/src/simulate/simulate-command';
import { SAMPLES } from '../../scripts/sample-list';
import { requireTools } from '../support/tools';

const CLI = join(__dirname, '..', '..', 'dist', 'cumma.js');

function cumma(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function tshark(...args: string[]): { stdout: string; stderr: string } {
  const result = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  // tshark warns about running as root on stderr; anything else there is a real complaint.
  return { stdout: result.stdout, stderr: result.stderr.split('\n').filter((line) => line && !line.includes('Running as user')).join('\n') };
}

let dir: string;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: run 'npm run build' first`);
  dir = mkdtempSync(join(tmpdir(), 'cumma-simulate-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cumma simulate: command line', () => {
  it('refuses an unknown usage, listing the valid ones', () => {
    const result = cumma('simulate', '--usage', 'selfie', '-o', join(dir, 'x.pcapng'));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`unknown usage 'selfie'; valid usages: ${USAGE_CLASSES.join(', ')}`);
  });

  it('refuses an unknown app, listing the valid ones', () => {
    const result = cumma('simulate', '--usage', 'text', '--app', 'icq', '-o', join(dir, 'x.pcapng'));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--app must be one of whatsapp, telegram, signal; got 'icq'");
  });

  it.each([
    [['--duration', '0'], '--duration expects a positive number'],
    [['--duration', '7200'], '--duration must be at most 3600 seconds'],
    [['--seed', '-1'], "--seed needs a value, and the word after it starts with '-'"],
    [['--seed', '1.5'], '--seed expects an integer 0…4294967295'],
  ])('refuses bad values %j with the reason', (extra, message) => {
    const result = cumma('simulate', '--usage', 'text', ...extra, '-o', join(dir, 'x.pcapng'));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('refuses both or neither of --usage and --scenario, and a missing -o', () => {
    expect(cumma('simulate', '-o', join(dir, 'x.pcapng')).stderr).toContain('give exactly one of --usage and --scenario');
    expect(cumma('simulate', '--usage', 'text', '--scenario', '-o', join(dir, 'x.pcapng')).stderr).toContain('give exactly one');
    expect(cumma('simulate', '--usage', 'text').stderr).toContain('-o OUT.pcapng is required');
  });

  it('refuses a .pcap or .cap output name: it writes pcapng, whose comments carry the truth', () => {
    for (const name of ['x.pcap', 'x.CAP']) {
      const result = cumma('simulate', '--usage', 'text', '-o', join(dir, name));
      expect(result.status).toBe(2);
      expect(result.stderr).toContain(`-o ${join(dir, name)}: the simulator writes pcapng`);
      expect(existsSync(join(dir, name))).toBe(false);
    }
  });

  it('refuses a bad scenario step with the reason', () => {
    expect(cumma('simulate', '--scenario', 'text,selfie', '-o', join(dir, 'x.pcapng')).stderr).toContain("--scenario: unknown usage 'selfie'");
    expect(cumma('simulate', '--scenario', 'voice_call:abc', '-o', join(dir, 'x.pcapng')).stderr).toContain("'voice_call:abc': seconds must be a number");
  });

  it('reports an unwritable output as an error, not a crash', () => {
    const result = cumma('simulate', '--usage', 'text', '-o', join(dir, 'missing', 'x.pcapng'));
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^cumma simulate: error: .*ENOENT/);
    expect(result.stderr).toContain(`cannot write ${join(dir, 'missing', 'x.pcapng')}: its folder ${join(dir, 'missing')} does not exist`);
    expect(result.stderr).not.toContain('.tmp');
    expect(result.stderr).not.toContain('    at ');
  });

  it.each([
    ['notes.txt', 'my notes\n'],
    ['model.json', '{"format":"cumma-model","version":1}\n'],
    ['old-capture.pcapng', Buffer.from([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0])],
  ])('refuses to replace an existing %s that is not a pcapng capture', (name, content) => {
    const path = join(dir, `existing-${name}`);
    writeFileSync(path, content);
    const result = cumma('simulate', '--usage', 'text', '--duration', '5', '-o', path);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`cumma simulate: -o ${path} exists and is not a pcapng capture`);
    expect(readFileSync(path)).toEqual(Buffer.from(content));
    expect(existsSync(`${path}.truth.jsonl`)).toBe(false);
  });

  it('replaces an existing pcapng capture, and an empty file', () => {
    const capture = join(dir, 'again.pcapng');
    const empty = join(dir, 'empty.pcapng');
    writeFileSync(empty, '');
    for (const path of [capture, capture, empty]) expect(cumma('simulate', '--usage', 'text', '--duration', '5', '-o', path).status).toBe(0);
    expect(readFileSync(empty).readUInt32BE(0)).toBe(0x0a0d0d0a);
  });

  it('says an output that is a folder is one, naming it, not a temporary file', () => {
    const result = cumma('simulate', '--usage', 'text', '-o', dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`cannot write ${dir}: it is a folder (EISDIR)`);
    expect(result.stderr).not.toContain('.tmp');
  });

  // These used to pass every check, render the whole capture, and fail in the final rename with
  // a bare "ENOENT: no such file or directory, rename '….tmp' -> ''".
  it("refuses an empty -o and one ending in '/', naming the path, before rendering", () => {
    const empty = cumma('simulate', '--usage', 'text', '-o', '');
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain("cumma simulate: -o '' is an empty name: give the capture a file name");
    const missing = `${join(dir, 'sub')}/`;
    const folder = cumma('simulate', '--usage', 'text', '-o', missing);
    expect(folder.status).toBe(2);
    expect(folder.stderr).toContain(`cumma simulate: -o ${missing} ends with '/', so it names a folder: give the capture a file name, e.g. -o ${join(dir, 'sub', 'capture.pcapng')}`);
    expect(folder.stderr).not.toContain('ENOENT');
    expect(existsSync(join(dir, 'sub'))).toBe(false);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses an -o that is a FIFO, and a truth sidecar that is a folder, keeping them', () => {
    const fifo = join(dir, 'fifo.pcapng');
    const made = spawnSync('mkfifo', [fifo]);
    if (made.status !== 0) throw new Error(`mkfifo failed: ${String(made.stderr)}`);
    const result = cumma('simulate', '--usage', 'text', '--duration', '5', '-o', fifo);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`cumma simulate: -o ${fifo} exists and is not a regular file (a FIFO)`);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    const capture = join(dir, 'truth-folder.pcapng');
    mkdirSync(`${capture}.truth.jsonl`);
    const truth = cumma('simulate', '--usage', 'text', '--duration', '5', '-o', capture);
    expect(truth.status).toBe(2);
    expect(truth.stderr).toContain(`-o ${capture}: its truth sidecar ${capture}.truth.jsonl exists and is not a regular file (a folder)`);
    expect(existsSync(capture)).toBe(false);
  });

  // A scenario list was unbounded: 40 hour-long video calls ran out of memory, 20 wrote 24 GB.
  it('refuses a scenario list that plans more than 3600 s in all, with the reason', () => {
    const result = cumma('simulate', '--scenario', Array.from({ length: 91 }, () => 'text').join(','), '-o', join(dir, 'long.pcapng'));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('cumma simulate: --scenario plans 3640 s in all, more than the 3600 s a capture may plan (as --duration)');
    expect(existsSync(join(dir, 'long.pcapng'))).toBe(false);
    expect(() => parseScenario(Array.from({ length: 40 }, () => 'video_call:3600').join(','))).toThrow('--scenario plans 144000 s in all');
    expect(() => parseScenario('voice_call:1800,video_call:1800,text')).toThrow('--scenario plans 3640 s in all');
    expect(parseScenario('voice_call:1800,video_call:1800')).toHaveLength(2);
  });

  it('takes every scenario the sample captures are made with', () => {
    for (const sample of SAMPLES) {
      const scenario = sample.args[sample.args.indexOf('--scenario') + 1]!;
      expect(() => parseScenario(scenario), sample.file).not.toThrow();
    }
  });

  it('writes byte-identical files for one seed and different ones for another', () => {
    const paths = ['a', 'b', 'c'].map((name) => join(dir, `${name}.pcapng`));
    expect(cumma('simulate', '--usage', 'voice_note', '--seed', '8', '-o', paths[0]!).status).toBe(0);
    expect(cumma('simulate', '--usage', 'voice_note', '--seed', '8', '-o', paths[1]!).status).toBe(0);
    expect(cumma('simulate', '--usage', 'voice_note', '--seed', '9', '-o', paths[2]!).status).toBe(0);
    expect(readFileSync(paths[1]!).equals(readFileSync(paths[0]!))).toBe(true);
    // The sidecars differ only in the capture's file name.
    expect(readFileSync(`${paths[1]!}.truth.jsonl`, 'utf8').replaceAll('"b.pcapng"', '"a.pcapng"')).toBe(readFileSync(`${paths[0]!}.truth.jsonl`, 'utf8'));
    expect(readFileSync(paths[2]!).equals(readFileSync(paths[0]!))).toBe(false);
  });
});

const tools = requireTools('tshark');

describe.skipIf(tools.skip)('cumma simulate: captures as Wireshark reads them', () => {
  beforeAll(() => tools.assertAvailable());

  it.each(USAGE_CLASSES)('%s opens in tshark without warnings, with the label on every packet', (usage) => {
    const path = join(dir, `${usage}.pcapng`);
    // Seed 4 draws a lossy network (loss 1.3 %), so datagram loss is exercised too.
    expect(cumma('simulate', '--usage', usage, '--seed', '4', '--duration', '30', '--app', 'telegram', '-o', path).status).toBe(0);
    const expert = tshark('-r', path, '-q', '-z', 'expert');
    expect(expert.stderr).toBe('');
    expect(expert.stdout).not.toMatch(/^(Errors|Warns) \(/m);
    const comments = tshark('-r', path, '-T', 'fields', '-e', 'frame.comment').stdout.trim().split('\n');
    expect(comments.length).toBeGreaterThan(5);
    const pattern = /^cumma:usage=([a-z_]+) session=\d+ dialog=\d+$/;
    expect(comments.every((comment) => pattern.test(comment))).toBe(true);
    expect(comments.some((comment) => comment.startsWith(`cumma:usage=${usage} `))).toBe(true);
    expect(tshark('-r', path, '-Y', '_ws.malformed').stdout).toBe('');
  });

  it('shows the labels through a frame.comment display filter', () => {
    const path = join(dir, 'scenario.pcapng');
    expect(cumma('simulate', '--scenario', 'text,photo,voice_call:8', '--background', '-o', path).status).toBe(0);
    const labels = new Set(tshark('-r', path, '-Y', 'frame.comment contains "usage=photo"', '-T', 'fields', '-e', 'frame.comment').stdout.trim().split('\n'));
    expect([...labels].every((label) => label.startsWith('cumma:usage=photo session=1 dialog='))).toBe(true);
    expect(labels.size).toBe(1);
  });
});
