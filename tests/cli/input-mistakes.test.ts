// What the analysis commands say about input they cannot use as it is: packets of a link type
// Cumma does not decode, a malformed truth comment, an output path that is a directory, and
// option values that are not the numbers they look like. Each must be named, never skipped.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTools } from '../support/tools';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cumma.js');
const SAMPLE = join(ROOT, 'samples', 'whatsapp-chat.pcapng');
const tools = requireTools('editcap', 'mergecap', 'tshark');

function cumma(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function run(command: string, args: readonly string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
}

let dir: string;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: run 'npm run build' first`);
  dir = mkdtempSync(join(tmpdir(), 'cumma-input-mistakes-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(tools.skip)('packets of a link type Cumma does not decode', () => {
  let wifi: string;
  let frames: number;
  beforeAll(() => {
    tools.assertAvailable();
    // The sample's Ethernet frames relabelled as 802.11 by Wireshark's own editcap: none decodes.
    wifi = join(dir, 'wifi.pcapng');
    run('editcap', ['-T', 'ieee-802-11', SAMPLE, wifi]);
    frames = Number(spawnSync('tshark', ['-r', wifi, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' }).stdout.trim().split('\n').length);
  });

  const warning = (): RegExp => new RegExp(`^cumma: ${wifi.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${frames} packets with IEEE 802\\.11 framing were not decoded \\(unsupported link type 105\\)$`, 'm');

  it('classify says so once, on stderr, and prints no dialog', () => {
    const result = cumma('classify', wifi, '--format', 'jsonl');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(warning());
    expect(result.stderr.match(/not decoded/g)).toHaveLength(1);
  });

  it('train says so and trains on the captures it can read', () => {
    const model = join(dir, 'wifi-and-sample.json');
    const result = cumma('train', SAMPLE, wifi, '-o', model, '--trees', '5');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(warning());
    // Counted as what the model learnt from: the undecoded capture gave it nothing, and says so.
    expect(result.stdout).toContain('of 1 capture (0 unlabelled left out; 1 capture given had no labelled dialog)');
    expect(result.stderr).toContain(`cumma train: warning: ${wifi}: no dialogs in it: it adds nothing to the model`);
  });

  it('evaluate says so, then that nothing is labelled: an error about the data, not the command line', () => {
    const result = cumma('evaluate', wifi);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(warning());
    expect(result.stderr).toContain(`cumma evaluate: warning: ${wifi}: no dialogs in it: it is not scored`);
    expect(result.stderr).toContain('cumma evaluate: error: no labelled dialogs in these captures');
    expect(result.stderr).not.toContain('usage: cumma evaluate');
  });
});

describe.skipIf(tools.skip)('a malformed truth comment', () => {
  it('is named with its file, frame, byte offset and code by train and evaluate', () => {
    tools.assertAvailable();
    const bad = join(dir, 'bad-comment.pcapng');
    run('editcap', ['-a', '3:cumma:usage=selfie', SAMPLE, bad]);
    for (const command of ['train', 'evaluate']) {
      const args = command === 'train' ? ['train', bad, '-o', join(dir, 'never.json')] : ['evaluate', bad];
      const result = cumma(...args);
      expect(result.status).toBe(1);
      const match = new RegExp(`^cumma ${command}: error: .*bad-comment\\.pcapng: frame 3 \\(byte offset (\\d+)\\): comment 'cumma:usage=selfie': unknown usage 'selfie'.*\\[TRUTH_BAD_COMMENT\\]$`, 'm').exec(result.stderr);
      expect(match, result.stderr).not.toBeNull();
      // The offset is where the packet's block starts: an enhanced packet block (type 6) whose
      // comment option holds the text.
      const bytes = readFileSync(bad);
      const at = Number(match![1]);
      expect(bytes.readUInt32LE(at)).toBe(6);
      expect(bytes.subarray(at, at + bytes.readUInt32LE(at + 4)).toString('latin1')).toContain('cumma:usage=selfie');
    }
    expect(existsSync(join(dir, 'never.json'))).toBe(false);
  });
});

describe('command-line values', () => {
  it('train -o DIRECTORY is refused before training, leaving nothing behind', () => {
    const target = join(dir, 'models-dir');
    mkdirSync(target);
    const result = cumma('train', SAMPLE, '-o', target);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`-o ${target} is a directory: give the model file's name, e.g. ${join(target, 'model.json')}`);
    expect(readdirSync(dir).filter((name) => name.startsWith('models-dir'))).toEqual(['models-dir']);
    expect(readdirSync(target)).toEqual([]);
  });

  it.each([
    ['flows', '--max-flows', '1.5', 'a positive whole number'],
    ['flows', '--max-flows', '0', 'a positive whole number'],
    ['flows', '--idle-timeout', '0x10', 'a positive number'],
    ['flows', '--idle-timeout', '1e3', 'a positive number'],
    ['train', '--trees', '2.5', 'a positive whole number'],
    ['evaluate', '--folds', '3.0', 'a positive whole number'],
  ])('%s %s %s is refused as a usage mistake', (command, option, value, expected) => {
    const extra = command === 'train' ? ['-o', join(dir, 'x.json')] : [];
    const result = cumma(command, SAMPLE, option, value, ...extra);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`cumma ${command}: ${option} expects ${expected}, got '${value}'`);
  });

  // These had no upper bound: --trees 100000000 trained in silence until V8 aborted, out of memory.
  it.each([
    ['train', '--trees', '100000000', "--trees must be from 1 to 1000, got '100000000'"],
    ['train', '--trees', '99999999999999999999999', "--trees must be from 1 to 1000, got '99999999999999999999999'"],
    ['evaluate', '--trees', '1001', "--trees must be from 1 to 1000, got '1001'"],
    ['evaluate', '--folds', '100000000', "--folds must be from 2 to 100, got '100000000'"],
    ['evaluate', '--folds', '1', "--folds must be from 2 to 100, got '1'"],
    ['train', '--trees', '0', "--trees must be from 1 to 1000, got '0'"],
    ['evaluate', '--folds', '0', "--folds must be from 2 to 100, got '0'"],
  ])('%s %s %s is refused at once, with the allowed range', (command, option, value, expected) => {
    const extra = command === 'train' ? ['-o', join(dir, 'x.json')] : option === '--folds' ? [] : ['--folds', '2'];
    // A refusal is immediate: a command that took the value would train until it ran out of memory.
    const result = spawnSync(process.execPath, [CLI, command, SAMPLE, option, value, ...extra], { encoding: 'utf8', timeout: 20_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`cumma ${command}: ${expected}`);
    expect(result.stderr).toContain(`usage: cumma ${command}`);
    expect(existsSync(join(dir, 'x.json'))).toBe(false);
  });

  it('the usage texts give the ranges', () => {
    expect(cumma('train', '--help').stdout).toContain('trees of the random forest, 1…1000');
    expect(cumma('evaluate', '--help').stdout).toContain('K from 2 to 100');
    expect(cumma('record', '--help').stdout).toContain('at most 3600');
  });

  it('simulate -o - is refused: the truth sidecar needs a file beside the capture', () => {
    const result = cumma('simulate', '--usage', 'text', '-o', '-');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('-o - (standard output) is not supported');
    expect(result.stdout).toBe('');
  });

  it('watch --anonymize KEY --no-anonymize is refused as contradictory', () => {
    const result = cumma('watch', dir, '--anonymize', 'a passphrase here', '--no-anonymize');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('cumma watch: give --anonymize KEY or --no-anonymize, not both');
  });

  it('plain decimals are still taken', () => {
    const result = cumma('flows', SAMPLE, '--idle-timeout', '30.5', '--max-flows', '1000', '--format', 'csv');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^l4,client_ip/);
  });
});

describe.skipIf(tools.skip)('a packet stamped a year ahead of its neighbours', () => {
  it('classify counts it at its neighbours\' time, cuts no other dialog, and says so on stderr', () => {
    tools.assertAvailable();
    // Wireshark's own tools make the fault: packet 400 moved a year on (editcap -t), the three
    // parts joined again in file order (mergecap -a).
    const part = (name: string): string => join(dir, name);
    const frames = spawnSync('tshark', ['-r', SAMPLE, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' }).stdout.trim().split('\n').length;
    run('editcap', ['-r', SAMPLE, part('a.pcapng'), '1-399']);
    run('editcap', ['-r', SAMPLE, part('s.pcapng'), '400']);
    run('editcap', ['-t', String(365 * 24 * 3600), part('s.pcapng'), part('s2.pcapng')]);
    run('editcap', ['-r', SAMPLE, part('b.pcapng'), `401-${frames}`]);
    const stray = part('stray.pcapng');
    run('mergecap', ['-a', '-w', stray, part('a.pcapng'), part('s2.pcapng'), part('b.pcapng')]);
    const plain = cumma('classify', SAMPLE, '--format', 'jsonl');
    const result = cumma('classify', stray, '--format', 'jsonl');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^cumma: .*stray\.pcapng: 1 packet was stamped more than 60 s after both neighbouring packets \(the first at byte offset \d+, 315360\d\d\.\d s ahead\): counted at the later neighbour's time/m);
    type Row = { l4: string; client: { ip: string; port: number }; server: { ip: string; port: number }; startUs: number; endUs: number; packets: { up: number; down: number } };
    const rows = (text: string): Row[] => text.trim().split('\n').map((line) => JSON.parse(line) as Row);
    const bounds = (r: Row): string => `${r.l4} ${r.client.ip}:${r.client.port} ${r.server.ip}:${r.server.port} ${r.startUs} ${r.endUs} ${r.packets.up}/${r.packets.down}`;
    const before = new Set(rows(plain.stdout).map(bounds));
    const after = rows(result.stdout);
    // Only the stray's own flow is cut anew (its own gap exceeds the flow table's idle timeout).
    const changed = new Set(after.filter((r) => !before.has(bounds(r))).map((r) => [r.l4, `${r.client.ip}:${r.client.port}`, `${r.server.ip}:${r.server.port}`].sort().join(' ')));
    expect(changed.size).toBe(1);
    expect(after.filter((r) => before.has(bounds(r))).length).toBeGreaterThan(before.size / 2);
  });
});
