// Ground truth as train and evaluate read it: a dialog whose packets carry different labels is
// reported with its frames (it used to be settled by majority without a word), and a truth
// sidecar is checked line by line (a bad line used to surface as a bare JSON or TypeError, a
// misspelt usage was dropped silently, and a sidecar matching nothing looked like no sidecar);
// its lines that match no dialog, and lines giving one dialog different usages, are reported
// (both used to pass silently, the first conflicting line winning).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTruthSidecar, TruthSidecarError } from '../../agent/src/truth/truth-sidecar-reader';
import { requireTools } from '../support/tools';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cumma.js');
const SAMPLE = join(ROOT, 'samples', 'whatsapp-chat.pcapng');
const tools = requireTools('editcap', 'tshark');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cumma(...args: string[]): Run {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function run(command: string, args: readonly string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

interface Scores {
  total: number;
  macroF1: number;
  perClass: { class: string; support: number }[];
}

function scores(result: Run): Scores {
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Scores;
}

let dir: string;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: run 'npm run build' first`);
  dir = mkdtempSync(join(tmpdir(), 'cumma-truth-inputs-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(tools.skip)('a dialog whose packets carry different labels', () => {
  it('is reported with the frames of each label, and counted under the majority label', () => {
    tools.assertAvailable();
    // The sample's frames as tshark numbers them, with their truth comments.
    const frames = run('tshark', ['-r', SAMPLE, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.comment'])
      .trim()
      .split('\n')
      .map((line) => line.split('\t'))
      .map(([frame, comment]) => ({ frame: Number(frame), comment: comment ?? '' }));
    const photo = frames.filter((f) => f.comment.startsWith('cumma:usage=photo'));
    expect(photo.length).toBeGreaterThan(10);
    // One packet of a photo dialog relabelled by Wireshark's editcap, as an analyst's slip would.
    const slip = photo[Math.floor(photo.length / 2)]!.frame;
    const session = /session=(\d+) dialog=(\d+)/.exec(photo.find((f) => f.frame === slip)!.comment)!;
    const sameDialog = photo.filter((f) => f.comment.endsWith(`session=${session[1]} dialog=${session[2]}`)).map((f) => f.frame);
    const mixed = join(dir, 'mixed.pcapng');
    run('editcap', ['-a', `${slip}:cumma:usage=file`, SAMPLE, mixed]);

    const before = scores(cumma('evaluate', SAMPLE, '--format', 'json'));
    const result = cumma('evaluate', mixed, '--format', 'json');
    const after = scores(result);
    const warnings = result.stderr.split('\n').filter((line) => line.includes('[TRUTH_LABEL_CONFLICT]'));
    expect(warnings, result.stderr).toHaveLength(1);
    expect(warnings[0]).toContain(`${mixed}: dialog `);
    expect(warnings[0]).toContain(`file (frames ${slip})`);
    expect(warnings[0]).toContain(`photo (frames ${sameDialog.filter((f) => f !== slip).slice(0, 5).join(', ')}`);
    expect(warnings[0]).toContain('counted as photo');
    // Same dialogs, same truth: the majority label wins, as before.
    expect(after.total).toBe(before.total);
    expect(after.perClass).toEqual(before.perClass);
  });

  it('is not mentioned when the labels agree', () => {
    const result = cumma('evaluate', SAMPLE, '--format', 'json');
    expect(result.status).toBe(0);
    expect(result.stderr).not.toContain('TRUTH_LABEL_CONFLICT');
  });
});

describe.skipIf(tools.skip)('a truth sidecar', () => {
  let plain: string;
  let sidecar: string;
  let good: string;
  let fromComments: Scores;
  beforeAll(() => {
    tools.assertAvailable();
    // pcap has no packet comments: the sidecar is the only truth.
    plain = join(dir, 'plain.pcap');
    run('editcap', ['-F', 'pcap', SAMPLE, plain]);
    sidecar = `${plain}.truth.jsonl`;
    good = readFileSync(`${SAMPLE}.truth.jsonl`, 'utf8');
    fromComments = scores(cumma('evaluate', SAMPLE, '--format', 'json'));
  });

  const records = (): Record<string, unknown>[] =>
    good
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const write = (lines: readonly string[]): void => writeFileSync(sidecar, `${lines.join('\n')}\n`);

  it('labels the dialogs the comments label, the same way', () => {
    writeFileSync(sidecar, good);
    const result = cumma('evaluate', plain, '--format', 'json');
    const fromSidecar = scores(result);
    expect(result.stderr).toBe('');
    expect(fromSidecar.total).toBe(fromComments.total);
    expect(fromSidecar.perClass).toEqual(fromComments.perClass);
  });

  it.each([
    ['a line cut short', (lines: string[]) => [lines[0]!, lines[1]!.slice(0, 20)], /line 2: not JSON/],
    ['a line that is null', (lines: string[]) => ['null', ...lines.slice(1)], /line 1: expected a JSON object, got null/],
    ['a misspelt usage', (lines: string[]) => [lines[0]!, lines[1]!.replace(/"usage":"\w+"/, '"usage":"foto"'), ...lines.slice(2)], /line 2: usage: expected one of "text", .*got "foto"/],
    ['a missing member', (lines: string[]) => [lines[0]!.replace(/"l4":"\w+",/, ''), ...lines.slice(1)], /line 1: l4: missing; expected one of "tcp", "udp"/],
    ['a bad address', (lines: string[]) => [lines[0]!.replace(/"ip":"[^"]+"/, '"ip":"10.0.0.300"'), ...lines.slice(1)], /line 1: client\.ip: expected an IPv4 or IPv6 address, got "10\.0\.0\.300"/],
  ])('with %s is an error naming the file and the line', (_, edit, message) => {
    write(edit(good.trim().split('\n')));
    const result = cumma('evaluate', plain, '--format', 'json');
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^cumma evaluate: error: /);
    expect(result.stderr).toContain(`${sidecar}: `);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('[TRUTH_BAD_SIDECAR]');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('with times in seconds says so', () => {
    write(records().map((r) => JSON.stringify({ ...r, startUs: Math.floor(Number(r.startUs) / 1e6), endUs: Math.floor(Number(r.endUs) / 1e6) })));
    const result = cumma('evaluate', plain);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/line 1: startUs: \d+ is before 1990 in microseconds since the Unix epoch: seconds or milliseconds\?/);
  });

  it('that matches no dialog is reported before the "no labelled dialogs" error', () => {
    write(records().map((r) => JSON.stringify({ ...r, client: { ...(r.client as object), port: 1 } })));
    const result = cumma('evaluate', plain);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${sidecar}: none of its ${records().length} records matches a dialog of ${plain}`);
    expect(result.stderr).toContain('no labelled dialogs');
  });

  it('matches IPv6 addresses however they are written', () => {
    const path = join(dir, 'v6.truth.jsonl');
    const line = { l4: 'udp', client: { ip: '2001:0DB8:0:0:0:0:0:1', port: 5000 }, server: { ip: '::FFFF:c000:0280', port: 53 }, usage: 'text', startUs: 1_700_000_000_000_000, endUs: 1_700_000_001_000_000 };
    writeFileSync(path, `\uFEFF${JSON.stringify(line)}\n\n`);
    const [record] = readTruthSidecar(path);
    expect(record).toMatchObject({ client: { ip: '2001:db8::1', port: 5000 }, line: 1 });
    expect(record!.server.ip).toBe('::ffff:192.0.2.128');
    for (const [written, printed] of [
      ['::0102:0304', '::1.2.3.4'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['FE80:0:0:0:1C2B:3CFF:FE4D:5E6F', 'fe80::1c2b:3cff:fe4d:5e6f'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
    ] as const) {
      writeFileSync(path, `${JSON.stringify({ ...line, client: { ip: written, port: 1 } })}\n`);
      expect(readTruthSidecar(path)[0]!.client.ip, written).toBe(printed);
    }
  });

  it('refuses an end before its start, naming the member', () => {
    const path = join(dir, 'order.truth.jsonl');
    const line = { l4: 'tcp', client: { ip: '10.0.0.1', port: 1 }, server: { ip: '10.0.0.2', port: 2 }, usage: 'text', startUs: 1_700_000_001_000_000, endUs: 1_700_000_000_000_000 };
    writeFileSync(path, `${JSON.stringify(line)}\n`);
    expect(() => readTruthSidecar(path)).toThrow(TruthSidecarError);
    expect(() => readTruthSidecar(path)).toThrow(/line 1: endUs: expected .*not before startUs/);
  });

  it('with lines that match no dialog names them, and scores what the others label', () => {
    const lines = good.trim().split('\n');
    // Two lines of flows the capture does not hold (a port no dialog has), among the good ones.
    const stray = (line: string): string => line.replace(/"port":\d+/, '"port":1');
    write([lines[0]!, stray(lines[1]!), ...lines.slice(1, 4), stray(lines[4]!), ...lines.slice(4)]);
    const result = cumma('evaluate', plain, '--format', 'json');
    expect(scores(result).perClass).toEqual(fromComments.perClass);
    expect(result.stderr).toContain(`${sidecar}: 2 of its ${lines.length + 2} lines match no dialog of ${plain} and label nothing: lines 2, 6 (a line labels the dialogs of its flow`);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('with many unmatched lines names the first five and counts the rest', () => {
    const lines = good.trim().split('\n');
    const stray = lines.slice(0, 8).map((line) => line.replace(/"startUs":\d+,"endUs":\d+/, '"startUs":1000000000000000,"endUs":1000000000000001'));
    write([...lines, ...stray]);
    const result = cumma('evaluate', plain, '--format', 'json');
    expect(scores(result).total).toBe(fromComments.total);
    const n = lines.length;
    expect(result.stderr).toContain(`8 of its ${n + 8} lines match no dialog of ${plain} and label nothing: lines ${[1, 2, 3, 4, 5].map((k) => n + k).join(', ')} and 3 more (`);
  });

  it('with two lines giving one dialog different usages reports the conflict, as comments do, and counts the first', () => {
    const lines = good.trim().split('\n');
    const photo = lines.findIndex((line) => line.includes('"usage":"photo"'));
    expect(photo).toBeGreaterThanOrEqual(0);
    // The same dialog again, as a file: a slip, or two people labelling one capture.
    write([...lines, lines[photo]!.replace('"usage":"photo"', '"usage":"file"')]);
    const result = cumma('evaluate', plain, '--format', 'json');
    const conflicts = result.stderr.split('\n').filter((line) => line.includes('[TRUTH_LABEL_CONFLICT]'));
    // One line may label several dialogs (the simulator's dialog, cut where it pauses): each is reported.
    expect(conflicts.length, result.stderr).toBeGreaterThanOrEqual(1);
    for (const conflict of conflicts) {
      expect(conflict.startsWith(`cumma: ${sidecar}: dialog `)).toBe(true);
      expect(conflict).toContain(`carries conflicting labels: photo (line ${photo + 1}); file (line ${lines.length + 1}); counted as photo, the usage whose lines overlap it longest`);
    }
    // Equal overlaps: the earlier line's usage, so the figures do not move.
    expect(scores(result).perClass).toEqual(fromComments.perClass);
  });

  it('with many conflicting dialogs reports five in full, then a count', () => {
    const lines = good.trim().split('\n');
    const relabelled = lines.map((line) => (line.includes('"usage":"text"') ? line.replace('"usage":"text"', '"usage":"file"') : line.replace(/"usage":"\w+"/, '"usage":"text"')));
    write([...lines, ...relabelled]);
    const result = cumma('evaluate', plain, '--format', 'json');
    const conflicts = result.stderr.split('\n').filter((line) => line.includes('[TRUTH_LABEL_CONFLICT]'));
    expect(conflicts).toHaveLength(6);
    expect(conflicts[5]).toMatch(new RegExp(`: (\\d+) more dialogs carry conflicting labels \\(${fromComments.total} in all\\) \\[TRUTH_LABEL_CONFLICT\\]$`));
    expect(scores(result).perClass).toEqual(fromComments.perClass);
  });

  it('labels a dialog inside a longer line of another usage by its own line, as the comments do', () => {
    // On this seed a keep-alive on the chat connection falls between a call's offer and its
    // hang-up: the call's line spans the keep-alive's dialog, whose own line says other. The
    // longest overlap tied, and the call's earlier line won.
    const simulated = join(dir, 'keep-alive.pcapng');
    expect(cumma('simulate', '--scenario', 'mix', '--app', 'signal', '--seed', '100001', '--duration', '300', '--background', '-o', simulated).status).toBe(0);
    const converted = join(dir, 'keep-alive.pcap');
    run('editcap', ['-F', 'pcap', simulated, converted]);
    copyFileSync(`${simulated}.truth.jsonl`, `${converted}.truth.jsonl`);
    const confusion = (result: Run): unknown => {
      const report = scores(result) as Scores & { confusion: number[][] };
      return { confusion: report.confusion, perClass: report.perClass };
    };
    const fromSidecar = cumma('evaluate', converted, '--format', 'json');
    expect(fromSidecar.stderr).toBe('');
    expect(confusion(fromSidecar)).toEqual(confusion(cumma('evaluate', simulated, '--format', 'json')));
  });

  it('copied beside another capture of the same traffic works there too', () => {
    const other = join(dir, 'copy.pcap');
    copyFileSync(plain, other);
    writeFileSync(`${other}.truth.jsonl`, good);
    expect(scores(cumma('evaluate', other, '--format', 'json')).total).toBe(fromComments.total);
  });
});
