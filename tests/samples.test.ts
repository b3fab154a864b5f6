import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USAGE_CLASSES } from '../agent/src/labels';
import { labelCaptureDialogs } from '../agent/src/truth/label-capture';
import { TruthRecord } from '../agent/src/truth/truth-sidecar';
import { SAMPLES } from '../scripts/sample-list';

const ROOT = join(__dirname, '..');
const SAMPLES_DIR = join(ROOT, 'samples');
let regenerated: string;

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'samples.js'))) throw new Error("dist/samples.js does not exist: run 'npm run build' first");
  regenerated = mkdtempSync(join(tmpdir(), 'cumma-samples-'));
  const result = spawnSync(process.execPath, [join(ROOT, 'dist', 'samples.js'), '--out', regenerated], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`regenerating the samples failed: ${result.stderr}`);
});
afterAll(() => rmSync(regenerated, { recursive: true, force: true }));

function truthOf(file: string): TruthRecord[] {
  return readFileSync(join(SAMPLES_DIR, `${file}.truth.jsonl`), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as TruthRecord);
}

describe('bundled samples', () => {
  it.each(SAMPLES.map((sample) => sample.file))('%s regenerates byte for byte, truth included', (file) => {
    expect(readFileSync(join(regenerated, file)).equals(readFileSync(join(SAMPLES_DIR, file)))).toBe(true);
    expect(readFileSync(join(regenerated, `${file}.truth.jsonl`), 'utf8')).toBe(readFileSync(join(SAMPLES_DIR, `${file}.truth.jsonl`), 'utf8'));
  });

  it('cover every label and stay under 5 MB in all', () => {
    const labels = new Set(SAMPLES.flatMap((sample) => truthOf(sample.file).map((record) => record.usage)));
    expect([...labels].sort()).toEqual([...USAGE_CLASSES].sort());
    const bytes = SAMPLES.reduce((sum, sample) => sum + statSync(join(SAMPLES_DIR, sample.file)).size, 0);
    expect(bytes).toBeLessThanOrEqual(5 * 1024 * 1024);
  });

  it.each(SAMPLES.map((sample) => sample.file))('%s: every dialog the segmenter finds gets one label from the packet comments', (file) => {
    const dialogs = labelCaptureDialogs(join(SAMPLES_DIR, file));
    expect(dialogs.length).toBeGreaterThan(2);
    // Strict mode throws on conflicting labels; none may be unlabelled either.
    expect(dialogs.filter((dialog) => dialog.usage === undefined)).toEqual([]);
    // Each labelled dialog's usage is one the truth sidecar lists for that flow.
    const truth = truthOf(file);
    for (const dialog of dialogs) {
      const onFlow = truth.filter((record) => record.client.port === dialog.flow.client.port && record.server.port === dialog.flow.server.port && record.server.ip === dialog.flow.server.ip);
      expect(onFlow.map((record) => record.usage)).toContain(dialog.usage);
    }
  });
});
