// The gaps read from the start of a model file must be exactly the fully loaded model's, or
// nothing: wrong gaps would segment a whole capture wrongly.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelGapsFromPrefix, readModelGapsAhead } from '../../agent/src/pipeline/model-gaps-ahead';
import { UsageModel } from '../../agent/src/pipeline/usage-model';

const MODEL = join(__dirname, '..', '..', 'models', 'default.json');

const GAPS = { dialogGapUs: 2_500_000, sessionGapUs: 60_000_000 };
const HEADER_JSON = {
  format: 'cumma-model',
  version: 1,
  name: 'tiny',
  featureSchemaVersion: '2',
  featureNames: ['a "quoted" name', 'braces {[ in ]} a name', 'back\\slash'],
  gaps: GAPS,
  classes: ['text', 'voice_call', 'other'],
  classifier: { kind: 'rf' },
};

describe('model gaps read ahead', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cumma-gaps-ahead-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('equal the loaded gaps of the shipped model', () => {
    expect(readModelGapsAhead(MODEL)).toEqual(UsageModel.load(MODEL).gaps);
  });

  it('are read from compact and indented files, past members with quotes, escapes and brackets in strings', () => {
    expect(modelGapsFromPrefix(JSON.stringify(HEADER_JSON))).toEqual(GAPS);
    expect(modelGapsFromPrefix(JSON.stringify(HEADER_JSON, null, 2))).toEqual(GAPS);
    expect(modelGapsFromPrefix(JSON.stringify(HEADER_JSON, null, '\t'))).toEqual(GAPS);
    const late = { featureNames: HEADER_JSON.featureNames, format: 'cumma-model', other: [{ a: '}' }, [']']], version: 1, gaps: GAPS };
    expect(modelGapsFromPrefix(JSON.stringify(late))).toEqual(GAPS);
  });

  it('give up on a prefix cut before they are all there, so the caller waits for the full parse', () => {
    const text = JSON.stringify(HEADER_JSON);
    const gapsAt = text.indexOf('"gaps"');
    const gapsEnd = text.indexOf('"classes"') - 1;
    for (const cut of [0, 1, 10, text.indexOf('"version"') + 5, gapsAt, gapsAt + 12, gapsEnd - 1]) {
      expect(modelGapsFromPrefix(text.slice(0, cut))).toBeUndefined();
    }
    // Cut just after the gaps' closing brace: the rest is not needed.
    expect(modelGapsFromPrefix(text.slice(0, gapsEnd))).toEqual(GAPS);
    // A number needs the delimiter after it: "version":1 could be the start of 12.
    expect(modelGapsFromPrefix('{"format":"cumma-model","gaps":{"dialogGapUs":1,"sessionGapUs":2},"version":1')).toBeUndefined();
    expect(modelGapsFromPrefix('{"format":"cumma-model","gaps":{"dialogGapUs":1,"sessionGapUs":2},"version":1,')).toEqual({ dialogGapUs: 1, sessionGapUs: 2 });
  });

  it('give up on what is not a model they can be trusted from', () => {
    const { format: _format, ...noFormat } = HEADER_JSON;
    const cases: string[] = [
      '',
      'not json',
      '[1, 2]',
      JSON.stringify({ ...HEADER_JSON, format: 'something-else' }),
      JSON.stringify({ ...HEADER_JSON, version: 2 }),
      JSON.stringify({ ...HEADER_JSON, gaps: { dialogGapUs: '2.5 s', sessionGapUs: 60_000_000 } }),
      JSON.stringify({ ...HEADER_JSON, gaps: [2_500_000, 60_000_000] }),
      JSON.stringify(noFormat),
      // A repeated member before the last wanted one: JSON.parse keeps the later one.
      JSON.stringify(HEADER_JSON).replace('"version"', '"format":"cumma-model","version"'),
      // The gaps behind a member longer than the prefix that is read.
      JSON.stringify({ padding: 'x'.repeat(100_000), ...HEADER_JSON }),
    ];
    for (const text of cases) expect(modelGapsFromPrefix(text.slice(0, 64 * 1024))).toBeUndefined();
  });

  it('cannot see a member repeated after the prefix: the labelling thread checks the gaps against the loaded model\'s', () => {
    const repeated = JSON.stringify(HEADER_JSON).replace('"classes"', '"gaps":{"dialogGapUs":1,"sessionGapUs":2},"classes"');
    expect(modelGapsFromPrefix(repeated)).toEqual(GAPS);
    expect((JSON.parse(repeated) as typeof HEADER_JSON).gaps).toEqual({ dialogGapUs: 1, sessionGapUs: 2 });
  });

  it('a file that is missing, or with its gaps too far in: undefined, not an error', () => {
    expect(readModelGapsAhead(join(dir, 'absent.json'))).toBeUndefined();
    expect(readModelGapsAhead(dir)).toBeUndefined();
    const far = join(dir, 'far.json');
    writeFileSync(far, JSON.stringify({ padding: 'x'.repeat(100_000), ...HEADER_JSON }));
    expect(readModelGapsAhead(far)).toBeUndefined();
    const near = join(dir, 'near.json');
    writeFileSync(near, JSON.stringify(HEADER_JSON));
    expect(readModelGapsAhead(near)).toEqual(GAPS);
  });
});
