// The model header read from the start of a model file must be exactly the header of the fully
// loaded model, or nothing: a wrong header would segment a whole capture with wrong gaps.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelHeaderFromPrefix, readModelHeaderAhead } from '../../agent/src/pipeline/model-header-ahead';
import { UsageModel } from '../../agent/src/pipeline/usage-model';

const MODEL = join(__dirname, '..', '..', 'models', 'default.json');

const HEADER_JSON = {
  format: 'cumma-model',
  version: 1,
  name: 'tiny',
  featureSchemaVersion: '2',
  featureNames: ['a "quoted" name', 'braces {[ in ]} a name', 'back\\slash'],
  gaps: { dialogGapUs: 2_500_000, sessionGapUs: 60_000_000 },
  classes: ['text', 'voice_call', 'other'],
  classifier: { kind: 'rf' },
};

describe('model header read ahead', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cumma-header-ahead-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('equals the loaded header of the shipped model', () => {
    expect(readModelHeaderAhead(MODEL)).toEqual(UsageModel.load(MODEL).header);
  });

  it('reads compact and indented files, skipping members with quotes, escapes and brackets in strings', () => {
    const expected = { name: 'tiny', version: 1, classes: ['text', 'voice_call', 'other'], gaps: HEADER_JSON.gaps };
    expect(modelHeaderFromPrefix(JSON.stringify(HEADER_JSON))).toEqual(expected);
    expect(modelHeaderFromPrefix(JSON.stringify(HEADER_JSON, null, 2))).toEqual(expected);
    expect(modelHeaderFromPrefix(JSON.stringify(HEADER_JSON, null, '\t'))).toEqual(expected);
  });

  it('gives up on a header cut short, so the caller waits for the full parse', () => {
    const text = JSON.stringify(HEADER_JSON);
    const classesAt = text.indexOf('"classes"');
    for (const cut of [0, 1, 10, text.indexOf('"gaps"') + 12, classesAt, classesAt + 15]) {
      expect(modelHeaderFromPrefix(text.slice(0, cut))).toBeUndefined();
    }
    // Cut after the header's last member: the rest of the file is not needed.
    expect(modelHeaderFromPrefix(text.slice(0, text.indexOf('"classifier"')))).toBeDefined();
  });

  it('gives up on what is not a model header it can trust', () => {
    const { format: _format, ...noFormat } = HEADER_JSON;
    const cases: string[] = [
      '',
      'not json',
      '[1, 2]',
      JSON.stringify({ ...HEADER_JSON, format: 'something-else' }),
      JSON.stringify({ ...HEADER_JSON, version: 2 }),
      JSON.stringify({ ...HEADER_JSON, classes: ['text', 'no_such_usage'] }),
      JSON.stringify({ ...HEADER_JSON, gaps: { dialogGapUs: '2.5 s', sessionGapUs: 60_000_000 } }),
      JSON.stringify(noFormat),
      // A repeated member: JSON.parse keeps the later one, which a prefix may not hold.
      JSON.stringify(HEADER_JSON).replace('"classes"', '"gaps":{"dialogGapUs":1,"sessionGapUs":2},"classes"'),
      // The header behind a member longer than the prefix that is read.
      JSON.stringify({ padding: 'x'.repeat(100_000), ...HEADER_JSON }),
    ];
    for (const text of cases) expect(modelHeaderFromPrefix(text.slice(0, 64 * 1024))).toBeUndefined();
  });

  it('a file that is missing or too long a header away: undefined, not an error', () => {
    expect(readModelHeaderAhead(join(dir, 'absent.json'))).toBeUndefined();
    const far = join(dir, 'far.json');
    writeFileSync(far, JSON.stringify({ padding: 'x'.repeat(100_000), ...HEADER_JSON }));
    expect(readModelHeaderAhead(far)).toBeUndefined();
    const near = join(dir, 'near.json');
    writeFileSync(near, JSON.stringify(HEADER_JSON));
    expect(readModelHeaderAhead(near)?.name).toBe('tiny');
  });
});
