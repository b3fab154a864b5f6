// UsageModel.save writes a temporary file and renames it: a reader never sees half a model, and a
// path that cannot take the file leaves nothing behind.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageModel } from '../../agent/src/pipeline/usage-model';

const MODEL = join(__dirname, '..', '..', 'models', 'default.json');

describe('UsageModel.save', () => {
  let dir: string;
  let model: UsageModel;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cumma-model-save-'));
    model = UsageModel.load(MODEL);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a file that loads back to the same model', () => {
    const path = join(dir, 'copy.json');
    model.save(path);
    expect(UsageModel.load(path).header).toEqual(model.header);
    expect(readdirSync(dir)).toEqual(['copy.json']);
  });

  it('onto a directory: fails, and leaves no temporary file', () => {
    const target = join(dir, 'a-directory');
    mkdirSync(target);
    expect(() => model.save(target)).toThrow(/EISDIR|directory/);
    expect(readdirSync(dir).sort()).toEqual(['a-directory', 'copy.json']);
  });
});
