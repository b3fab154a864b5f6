import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IpAnonymizer } from '../../agent/src/anonymize/anonymizer';
import { parseAnonymizeKey } from '../../agent/src/anonymize/key';
import { USAGE_CLASSES } from '../../agent/src/labels';
import { writeSyntheticCaptureFile } from '../../scripts/lib/synthetic-capture';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cumma.js');
const SAMPLE = join(ROOT, 'samples', 'whatsapp-chat.pcapng');
const SAMPLES = ['whatsapp-chat', 'telegram-calls', 'signal-media', 'signal-streaming'].map((name) => join(ROOT, 'samples', `${name}.pcapng`));

function cumma(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return cummaWith(process.env, ...args);
}

function cummaWith(env: NodeJS.ProcessEnv, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let dir: string;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: run 'npm run build' first`);
  dir = mkdtempSync(join(tmpdir(), 'cumma-classify-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cumma train, evaluate, classify', () => {
  let model: string;
  beforeAll(() => {
    model = join(dir, 'small.json');
    const result = cumma('train', ...SAMPLES, '-o', model, '--trees', '20');
    if (result.status !== 0) throw new Error(`training failed: ${result.stderr}`);
  });

  it('trains a model file that records its schema, gaps, classes and training data', () => {
    const json = JSON.parse(readFileSync(model, 'utf8')) as Record<string, unknown>;
    expect(json).toMatchObject({ format: 'cumma-model', version: 1, name: 'small', featureSchemaVersion: '2', gaps: { sessionGapUs: 60_000_000, dialogGapUs: 5_000_000 } });
    expect(json.classes).toEqual(USAGE_CLASSES);
    expect((json.training as { dialogs: number }).dialogs).toBeGreaterThan(50);
  });

  it('classifies every dialog into DESIGN.md records with scores that sum to 1', () => {
    const result = cumma('classify', SAMPLE, '--model', model, '--format', 'jsonl');
    expect(result.status, result.stderr).toBe(0);
    const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.length).toBeGreaterThan(10);
    for (const record of records) {
      expect(Object.keys(record)).toEqual(['l4', 'client', 'server', 'firstUs', 'lastUs', 'packets', 'bytes', 'capture', 'session', 'dialog', 'startUs', 'endUs', 'usage', 'confidence', 'scores', 'status', 'outlier', 'model']);
      expect([...USAGE_CLASSES, 'unknown']).toContain(record.usage);
      const total = Object.values(record.scores as Record<string, number>).reduce((sum, value) => sum + value, 0);
      expect(total).toBeCloseTo(1, 2);
      expect(record.model).toBe('small@1');
      expect(record.capture).toBe('whatsapp-chat.pcapng');
      expect(record.outlier === true).toBe(record.usage === 'unknown');
    }
  });

  it('leaves no original address in anonymised output', () => {
    const flows = cumma('flows', SAMPLE, '--format', 'jsonl').stdout.trim().split('\n').map((line) => JSON.parse(line) as { client: { ip: string }; server: { ip: string } });
    const originals = new Set(flows.flatMap((flow) => [flow.client.ip, flow.server.ip]));
    expect(originals.size).toBeGreaterThan(5);
    const plain = cumma('classify', SAMPLE, '--model', model, '--format', 'csv').stdout;
    const anonymised = cumma('classify', SAMPLE, '--model', model, '--format', 'csv', '--anonymize', 'correct horse battery staple').stdout;
    for (const ip of originals) {
      expect(plain).toContain(ip);
      expect(anonymised.split(/[,\n]/)).not.toContain(ip);
    }
    // Same key, same mapping.
    expect(cumma('classify', SAMPLE, '--model', model, '--format', 'csv', '--anonymize', 'correct horse battery staple').stdout).toBe(anonymised);
  });

  it('anonymises an address in the capture name too, the same way as the endpoints', () => {
    const named = join(dir, '192.168.6.23.pcapng');
    writeFileSync(named, readFileSync(SAMPLE));
    const key = 'correct horse battery staple';
    const image = new IpAnonymizer(parseAnonymizeKey(key).bytes).anonymize('192.168.6.23');
    expect(image).not.toBe('192.168.6.23');
    const records = cumma('classify', named, '--model', model, '--format', 'jsonl', '--anonymize', key).stdout.trim().split('\n').map((line) => JSON.parse(line) as { capture: string });
    expect(records.length).toBeGreaterThan(10);
    for (const record of records) expect(record.capture).toBe(`${image}.pcapng`);
    const csv = cumma('classify', named, '--model', model, '--format', 'csv', '--anonymize', key).stdout;
    expect(csv).not.toContain('192.168.6.23');
    expect(csv).toContain(`${image}.pcapng`);
  });

  it('anonymises flow records too, keeping prefixes shared', () => {
    const plain = cumma('flows', SAMPLE, '--format', 'jsonl').stdout.trim().split('\n').map((line) => JSON.parse(line) as { client: { ip: string }; server: { ip: string } });
    const anonymised = cumma('flows', SAMPLE, '--format', 'jsonl', '--anonymize', '5f0e3c91'.repeat(8)).stdout.trim().split('\n').map((line) => JSON.parse(line) as { client: { ip: string }; server: { ip: string } });
    expect(anonymised).toHaveLength(plain.length);
    const originals = new Set(plain.flatMap((flow) => [flow.client.ip, flow.server.ip]));
    for (const flow of anonymised) {
      expect(originals.has(flow.client.ip)).toBe(false);
      expect(originals.has(flow.server.ip)).toBe(false);
    }
    // The phone is the client of every flow: one address in, one address out.
    expect(new Set(anonymised.map((flow) => flow.client.ip)).size).toBe(new Set(plain.map((flow) => flow.client.ip)).size);
  });

  it('evaluates a model: per-class table and JSON with macro-F1 and the confusion matrix', () => {
    const table = cumma('evaluate', ...SAMPLES, '--model', model);
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^class +precision +recall +f1 +support +predicted$/m);
    expect(table.stdout).toMatch(/macro-F1 \d\.\d{3}/);
    const report = JSON.parse(cumma('evaluate', ...SAMPLES, '--model', model, '--format', 'json').stdout) as { macroF1: number; confusion: number[][]; total: number };
    expect(report.macroF1).toBeGreaterThan(0);
    expect(report.confusion.flat().reduce((sum, value) => sum + value, 0)).toBe(report.total);
  });

  it('cross-validates by capture with --folds', () => {
    const result = cumma('evaluate', ...SAMPLES, '--folds', '2', '--format', 'json');
    expect(result.status, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { total: number }).total).toBeGreaterThan(50);
  });

  it('names a missing model file and refuses a bad anonymisation key', () => {
    const missing = cumma('classify', SAMPLE, '--model', join(dir, 'nope.json'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`cannot read model ${join(dir, 'nope.json')}`);
    expect(missing.stderr).toContain('[MODEL_MISSING]');
    const old = join(dir, 'schema1.json');
    writeFileSync(old, JSON.stringify({ ...(JSON.parse(readFileSync(model, 'utf8')) as object), featureSchemaVersion: '1' }));
    const mismatch = cumma('classify', SAMPLE, '--model', old);
    expect(mismatch.status).toBe(1);
    expect(mismatch.stderr).toContain('was trained on feature schema 1; this Cumma computes schema 2: retrain it');
    expect(mismatch.stderr).toContain('[MODEL_SCHEMA_MISMATCH]');
    const badKey = cumma('classify', SAMPLE, '--model', model, '--anonymize', 'abc');
    expect(badKey.status).toBe(2);
    expect(badKey.stderr).toContain('--anonymize expects');
  });

  it('prints the dialogs read before a truncation, then the error with file and offset', () => {
    const cut = join(dir, 'cut.pcapng');
    writeFileSync(cut, readFileSync(SAMPLE).subarray(0, 300_000));
    const result = cumma('classify', cut, '--model', model, '--format', 'jsonl');
    expect(result.status).toBe(1);
    expect(result.stdout.trim().split('\n').length).toBeGreaterThan(3);
    expect(result.stderr).toMatch(new RegExp(`${cut}: byte offset \\d+: input ends inside a block.*\\[CAPTURE_TRUNCATED\\]`));
  });

  it('labels the same dialogs whichever way the temporal model is used, and refuses contradictory options', () => {
    const keys = (mode: string): string[] => {
      const result = cumma('classify', SAMPLE, '--model', model, '--format', 'jsonl', '--temporal', mode);
      expect(result.status, result.stderr).toBe(0);
      return result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { client: { port: number }; server: { port: number }; session: number; dialog: number })
        .map((r) => `${r.client.port}-${r.server.port}-${r.session}-${r.dialog}`)
        .sort();
    };
    const viterbi = keys('viterbi');
    expect(viterbi.length).toBeGreaterThan(20);
    expect(keys('forward')).toEqual(viterbi);
    expect(keys('off')).toEqual(viterbi);
    const bogus = cumma('classify', SAMPLE, '--model', model, '--temporal', 'backward');
    expect(bogus.status).toBe(2);
    expect(bogus.stderr).toContain('--temporal must be one of forward, viterbi, off');
    const both = cumma('evaluate', SAMPLE, '--model', model, '--no-temporal', '--temporal', 'viterbi');
    expect(both.status).toBe(2);
    expect(both.stderr).toContain('--no-temporal contradicts --temporal viterbi');
  });

  it('classifies with the shipped model when none is given', () => {
    const result = cumma('classify', SAMPLE, '--format', 'jsonl');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('"model":"default@1"');
  });

  describe('labelling on a second thread', () => {
    // Thousands of dialogs: many batches, so the reader also waits for the labeller at times.
    let big: string;
    beforeAll(() => {
      big = join(dir, 'big.pcapng');
      writeSyntheticCaptureFile(big, { packets: 60_000, flows: 3_000, seed: 5 });
    });
    const oneThread = { ...process.env, CUMMA_LABEL_THREAD: '0' };
    // The capture is below the size that gets a second thread by default: ask for it.
    const twoThreads = { ...process.env, CUMMA_LABEL_THREAD: '1' };

    it.each([
      ['jsonl', []],
      ['csv', ['--anonymize', 'a passphrase for the test']],
      ['table', ['--no-temporal']],
      ['jsonl', ['--temporal', 'viterbi']],
    ])('prints exactly what one thread prints (%s %s), sidecar included', (format, extra) => {
      const args = ['classify', big, '--format', format, '--sidecar', ...extra];
      const single = cummaWith(oneThread, ...args);
      expect(single.status, single.stderr).toBe(0);
      const singleSidecar = readFileSync(`${big}.cumma.tsv`, 'utf8');
      rmSync(`${big}.cumma.tsv`);
      const dual = cummaWith(twoThreads, ...args);
      expect(dual.status, dual.stderr).toBe(0);
      expect(dual.stdout.split('\n').length).toBeGreaterThan(2_000);
      expect(dual.stdout).toBe(single.stdout);
      expect(readFileSync(`${big}.cumma.tsv`, 'utf8')).toBe(singleSidecar);
    });

    it('on a truncated capture prints what one thread prints, then the same error', () => {
      const cut = join(dir, 'big-cut.pcapng');
      const whole = readFileSync(big);
      writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.7)));
      const single = cummaWith(oneThread, 'classify', cut, '--format', 'jsonl');
      const dual = cummaWith(twoThreads, 'classify', cut, '--format', 'jsonl');
      expect(single.status).toBe(1);
      expect(dual.status).toBe(1);
      expect(dual.stderr).toMatch(/\[CAPTURE_TRUNCATED\]/);
      expect(dual.stderr).toBe(single.stderr);
      expect(dual.stdout.split('\n').length).toBeGreaterThan(1_000);
      expect(dual.stdout).toBe(single.stdout);
    });

    it('prints the records, then the error, when the sidecar cannot be written; no temporary file stays', () => {
      const capture = join(dir, 'blocked.pcapng');
      writeFileSync(capture, readFileSync(SAMPLE));
      mkdirSync(`${capture}.cumma.tsv`);
      for (const env of [oneThread, twoThreads]) {
        const result = cummaWith(env, 'classify', capture, '--model', model, '--format', 'jsonl', '--sidecar');
        expect(result.status).toBe(1);
        expect(result.stdout.trim().split('\n').length).toBeGreaterThan(10);
        // The sidecar is named, not the random temporary it is written through.
        expect(result.stderr).toMatch(/cumma classify: error: cannot write the sidecar \S*blocked\.pcapng\.cumma\.tsv: illegal operation on a directory\n$/);
        expect(result.stderr).not.toContain('.tmp');
      }
      expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    });
  });
});
