// DESIGN.md: the segmentation gaps are stored in each model and printed with every result. A
// model's own gaps are the ones its dialogs are cut with, in classify and in evaluate alike.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cumma.js');
const SAMPLE = join(ROOT, 'samples', 'whatsapp-chat.pcapng');
const MODEL = join(ROOT, 'models', 'default.json');

function cumma(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let dir: string;
/** The shipped model with a 1 s dialog gap instead of 5 s: same forest, other segmentation. */
let shortGaps: string;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: run 'npm run build' first`);
  dir = mkdtempSync(join(tmpdir(), 'cumma-result-gaps-'));
  const json = JSON.parse(readFileSync(MODEL, 'utf8')) as { gaps: { dialogGapUs: number; sessionGapUs: number } };
  expect(json.gaps.dialogGapUs).toBe(5_000_000);
  json.gaps.dialogGapUs = 1_000_000;
  shortGaps = join(dir, 'short-gaps.json');
  writeFileSync(shortGaps, JSON.stringify(json));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gaps printed with every result', () => {
  it('classify --format table ends with the count, the model and its gaps; jsonl and csv say them on stderr', () => {
    const table = cumma('classify', SAMPLE, '--format', 'table', '--model', shortGaps);
    expect(table.status, table.stderr).toBe(0);
    const jsonl = cumma('classify', SAMPLE, '--format', 'jsonl', '--model', shortGaps);
    const records = jsonl.stdout.trim().split('\n');
    expect(records.every((line) => line.startsWith('{'))).toBe(true);
    const summary = `${records.length} dialogs; model ${shortGaps}; dialogs cut with gaps of 60 s (session) and 1 s (dialog)`;
    expect(table.stdout.trimEnd().split('\n').at(-1)).toBe(summary);
    expect(table.stderr).toBe('');
    expect(jsonl.stderr).toBe(`cumma: ${SAMPLE}: ${summary}\n`);
    const csv = cumma('classify', SAMPLE, '--format', 'csv', '--model', shortGaps);
    expect(csv.stdout.trim().split('\n')).toHaveLength(records.length + 1);
    expect(csv.stderr).toBe(`cumma: ${SAMPLE}: ${summary}\n`);
  });

  it('sums up no result for a file that gave no packet before its error, and does for an empty capture', () => {
    const compressed = join(dir, 'whatsapp-chat.pcapng.gz');
    writeFileSync(compressed, gzipSync(readFileSync(SAMPLE)));
    const text = join(dir, 'notes.pcapng');
    writeFileSync(text, 'meeting notes, not a capture\n');
    for (const file of [compressed, text]) {
      const result = cumma('classify', file, '--format', 'jsonl');
      expect(result.status).toBe(1);
      expect(result.stdout).toBe('');
      // The error alone: a "0 dialogs" summary before it would read as a result.
      expect(result.stderr).toMatch(new RegExp(`^cumma classify: error: [^\n]*\\[CAPTURE_[A-Z_]+\\]\n$`));
    }
    // A capture of no packets read to its end is a result: 0 dialogs.
    const headerOnly = join(dir, 'header-only.pcapng');
    writeFileSync(headerOnly, readFileSync(SAMPLE).subarray(0, pcapngHeaderLength(readFileSync(SAMPLE))));
    const empty = cumma('classify', headerOnly, '--format', 'jsonl');
    expect(empty.status, empty.stderr).toBe(0);
    expect(empty.stderr).toMatch(/^cumma: [^\n]*header-only\.pcapng: 0 dialogs; model /);
  });

  // Large captures load the model on a second thread while the first reads (with the gaps read
  // ahead from the model file's start): a model that was cut short or of another feature schema
  // used to be reported after the capture was read, behind a "0 dialogs; model …" summary that
  // read as a result, with "labelling:" before its error; --sidecar even wrote an empty sidecar.
  // CUMMA_LABEL_THREAD=1 takes that path on a small capture.
  it.each(['0', '1'])('reports a model that cannot be loaded alone, with its code, with CUMMA_LABEL_THREAD=%s', (thread) => {
    const text = readFileSync(MODEL, 'utf8');
    const truncated = join(dir, `truncated-${thread}.json`);
    writeFileSync(truncated, text.slice(0, 20_000));
    const otherSchema = join(dir, `other-schema-${thread}.json`);
    writeFileSync(otherSchema, text.replace(/"featureSchemaVersion":"[^"]*"/, '"featureSchemaVersion":"0"'));
    expect(readFileSync(otherSchema, 'utf8')).not.toBe(text);
    const capture = join(dir, `with-bad-model-${thread}.pcapng`);
    writeFileSync(capture, readFileSync(SAMPLE));
    const missing = join(dir, 'no-such-model.json');
    // The model's own error, as when it is loaded before reading: its file, its code, one line.
    const cases: [string, string, string][] = [
      [truncated, `model ${truncated} is not valid JSON: `, '[MODEL_INVALID]'],
      [otherSchema, `model ${otherSchema} was trained on feature schema 0; `, '[MODEL_SCHEMA_MISMATCH]'],
      [missing, `cannot read model ${missing}: `, '[MODEL_MISSING]'],
    ];
    for (const [model, error, code] of cases) {
      const result = spawnSync(process.execPath, [CLI, 'classify', capture, '--model', model, '--format', 'jsonl', '--sidecar'], {
        encoding: 'utf8',
        env: { ...process.env, CUMMA_LABEL_THREAD: thread },
      });
      expect(result.status, result.stderr).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.startsWith(`cumma classify: error: ${error}`), result.stderr).toBe(true);
      expect(result.stderr.endsWith(` ${code}\n`), result.stderr).toBe(true);
      expect(result.stderr.split('\n')).toHaveLength(2);
      expect(existsSync(`${capture}.cumma.tsv`), model).toBe(false);
    }
  });

  it("evaluate cuts dialogs with the given model's gaps and says which", () => {
    const withDefault = JSON.parse(cumma('evaluate', SAMPLE, '--format', 'json').stdout) as { total: number; gaps: unknown; scored: string };
    const withShort = JSON.parse(cumma('evaluate', SAMPLE, '--format', 'json', '--model', shortGaps).stdout) as { total: number; gaps: unknown };
    expect(withDefault.gaps).toEqual({ sessionGapUs: 60_000_000, dialogGapUs: 5_000_000 });
    expect(withDefault.scored).toMatch(/^model default@\d+$/);
    expect(withShort.gaps).toEqual({ sessionGapUs: 60_000_000, dialogGapUs: 1_000_000 });
    // A shorter dialog gap cuts the same packets into more dialogs: the same number classify prints.
    const classified = cumma('classify', SAMPLE, '--format', 'jsonl', '--model', shortGaps).stdout.trim().split('\n').length;
    expect(withShort.total).toBeGreaterThan(withDefault.total);
    expect(withShort.total).toBe(classified);
    const table = cumma('evaluate', SAMPLE, '--model', shortGaps).stdout;
    // The footer also names the model's file and the temporal mode, without which the figures
    // cannot be reproduced.
    expect(table.trimEnd().split('\n').at(-1)).toBe(`model default@1 (${shortGaps}); temporal forward; dialogs cut with gaps of 60 s (session) and 1 s (dialog)`);
  });
});

/** Bytes of a pcapng's leading section header and interface blocks, up to its first packet block. */
function pcapngHeaderLength(file: Buffer): number {
  let offset = 0;
  for (;;) {
    const type = file.readUInt32LE(offset);
    // Section header (0x0a0d0d0a) and interface description (1) blocks make the header.
    if (type !== 0x0a0d0d0a && type !== 1) return offset;
    offset += file.readUInt32LE(offset + 4);
  }
}
