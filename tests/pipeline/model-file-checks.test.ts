// A damaged model file must never load: every corruption of the shipped model is MODEL_INVALID
// naming the file and the bad member's JSON path, never a JS TypeError, never labels.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURES } from '../../agent/src/features/feature-schema';
import { trainClassifier } from '../../agent/src/model/classifier';
import { modelGapsFromPrefix, readModelGapsAhead } from '../../agent/src/pipeline/model-gaps-ahead';
import { ModelError, UsageModel } from '../../agent/src/pipeline/usage-model';
import { makeBlobs } from '../model/blobs';

const MODEL = join(__dirname, '..', '..', 'models', 'default.json');
const SOURCE = 'model damaged.json';

type Key = string | number;
type Json = Record<Key, unknown>;
const REMOVE = Symbol('remove');

/**
 * Edits of one parsed model, undone afterwards: parsing the 7 MB file again per case would make
 * this table take seconds.
 */
class Editor {
  private readonly undos: (() => void)[] = [];
  constructor(readonly root: Json) {}

  get(path: readonly Key[]): unknown {
    return path.reduce<unknown>((node, key) => (node as Json)[key], this.root);
  }

  set(path: readonly Key[], value: unknown): void {
    const parent = this.get(path.slice(0, -1)) as Json;
    const key = path[path.length - 1]!;
    const had = Object.hasOwn(parent, key);
    const old = parent[key];
    if (value === REMOVE) delete parent[key];
    else parent[key] = value;
    this.undos.push(() => {
      if (had) parent[key] = old;
      else delete parent[key];
    });
  }

  undo(): void {
    for (let undo = this.undos.pop(); undo !== undefined; undo = this.undos.pop()) undo();
  }
}

const FOREST = ['classifier', 'forest', 'baseModel'];
const TREE0 = [...FOREST, 'estimators', 0, 'root'];

/** The path of the first leaf on the left edge of tree 0, and its path as the message words it. */
function firstLeaf(model: Editor): { path: Key[]; member: string } {
  const path: Key[] = [...TREE0];
  let member = 'classifier.forest.baseModel.estimators[0].root';
  while ((model.get(path) as { distribution?: unknown }).distribution === undefined) {
    path.push('left');
    member += '.left';
  }
  return { path, member };
}

/** A chain of `depth` splits ending in a leaf: deeper than any trained tree. */
function deepTree(depth: number): Json {
  let node: Json = { distribution: [[1]] };
  for (let i = 0; i < depth; i++) node = { splitColumn: 0, splitValue: 0, left: node, right: { distribution: [[1]] } };
  return node;
}

interface Corruption {
  readonly what: string;
  /** The member path the message must name (given the model, for members found by a walk). */
  readonly member: string | ((model: Editor) => string);
  /** Also in the message, when the path alone does not say it. */
  readonly says?: RegExp;
  readonly edit: (model: Editor) => void;
}

const map = (model: Editor, path: readonly Key[], f: (value: unknown, i: number) => unknown): void =>
  model.set(path, (model.get(path) as unknown[]).map(f));

const CORRUPTIONS: readonly Corruption[] = [
  // The reviewer's cases.
  { what: 'dialog gap -5', member: 'gaps.dialogGapUs', says: /got -5/, edit: (m) => m.set(['gaps', 'dialogGapUs'], -5) },
  { what: 'dialog gap 0', member: 'gaps.dialogGapUs', says: /> 0, got 0/, edit: (m) => m.set(['gaps', 'dialogGapUs'], 0) },
  { what: 'dialog gap "abc"', member: 'gaps.dialogGapUs', says: /got "abc"/, edit: (m) => m.set(['gaps', 'dialogGapUs'], 'abc') },
  { what: 'outliers deleted', member: 'outliers', says: /missing/, edit: (m) => m.set(['outliers'], REMOVE) },
  { what: 'temporal deleted', member: 'temporal', says: /missing/, edit: (m) => m.set(['temporal'], REMOVE) },
  { what: 'a tree null', member: 'classifier.forest.baseModel.estimators[5]', says: /got null/, edit: (m) => m.set([...FOREST, 'estimators', 5], null) },
  { what: 'a tree {}', member: 'classifier.forest.baseModel.estimators[5].root', says: /missing/, edit: (m) => m.set([...FOREST, 'estimators', 5], {}) },
  { what: 'scaler std all null', member: 'outliers.scaler.std[0]', says: /got null/, edit: (m) => map(m, ['outliers', 'scaler', 'std'], () => null) },
  { what: 'transitions all "x"', member: 'temporal.transitions[0]', says: /got "x"/, edit: (m) => map(m, ['temporal', 'transitions'], () => 'x') },
  { what: 'feature index past the schema', member: 'classifier.forest.baseModel.indexes[3][7]', says: /\[0, 117\], got 118/, edit: (m) => m.set([...FOREST, 'indexes', 3, 7], FEATURES.length) },
  // Header.
  { what: 'schema version a number', member: 'featureSchemaVersion', edit: (m) => m.set(['featureSchemaVersion'], 2) },
  { what: 'name a number', member: 'name', edit: (m) => m.set(['name'], 42) },
  { what: 'a feature renamed', member: 'featureNames[3]', edit: (m) => m.set(['featureNames', 3], 'bogus') },
  { what: 'a feature name short', member: 'featureNames', says: /an array of 118/, edit: (m) => m.set(['featureNames'], (m.get(['featureNames']) as unknown[]).slice(1)) },
  { what: 'gaps deleted', member: 'gaps', says: /missing/, edit: (m) => m.set(['gaps'], REMOVE) },
  { what: 'session gap below the dialog gap', member: 'gaps.sessionGapUs', says: /≥ 5000000 \(the dialog gap or more\), got 1/, edit: (m) => m.set(['gaps', 'sessionGapUs'], 1) },
  { what: 'an unknown class', member: 'classes[2]', says: /got "selfie"/, edit: (m) => m.set(['classes', 2], 'selfie') },
  { what: 'a class twice', member: 'classes[9]', says: /repeats "text", already at classes\[0\]/, edit: (m) => m.set(['classes', 9], 'text') },
  { what: 'classes reordered', member: 'classifier.classes', says: /expected the classes of member "classes", in their order \(photo, text, /, edit: (m) => m.set(['classes'], ['photo', 'text', ...(m.get(['classes']) as string[]).slice(2)]) },
  { what: 'temporal classes reordered', member: 'temporal.classes', edit: (m) => m.set(['temporal', 'classes'], ['photo', 'text', ...(m.get(['classes']) as string[]).slice(2)]) },
  // Classifier.
  { what: 'classifier deleted', member: 'classifier', says: /missing/, edit: (m) => m.set(['classifier'], REMOVE) },
  { what: 'classifier kind unknown', member: 'classifier.kind', edit: (m) => m.set(['classifier', 'kind'], 'svm') },
  { what: 'classifier feature count off the schema', member: 'classifier.featureCount', says: /expected 118 \(the length of feature schema 2\), got 119/, edit: (m) => m.set(['classifier', 'featureCount'], FEATURES.length + 1) },
  { what: 'tree count off', member: 'classifier.forest.baseModel.estimators', says: /an array of 99/, edit: (m) => m.set(['classifier', 'params', 'trees'], 99) },
  { what: 'voting unknown', member: 'classifier.params.voting', edit: (m) => m.set(['classifier', 'params', 'voting'], 'loud') },
  { what: 'baseModel an array', member: 'classifier.forest.baseModel', edit: (m) => m.set(FOREST, []) },
  { what: 'feature index negative', member: 'classifier.forest.baseModel.indexes[3][7]', edit: (m) => m.set([...FOREST, 'indexes', 3, 7], -1) },
  { what: 'feature index fractional', member: 'classifier.forest.baseModel.indexes[3][7]', edit: (m) => m.set([...FOREST, 'indexes', 3, 7], 2.5) },
  { what: 'a column list empty', member: 'classifier.forest.baseModel.indexes[3]', edit: (m) => m.set([...FOREST, 'indexes', 3], []) },
  { what: 'split column past the tree\u2019s columns', member: 'classifier.forest.baseModel.estimators[0].root.splitColumn', edit: (m) => m.set([...TREE0, 'splitColumn'], FEATURES.length) },
  { what: 'split column a string', member: 'classifier.forest.baseModel.estimators[0].root.splitColumn', edit: (m) => m.set([...TREE0, 'splitColumn'], '3') },
  { what: 'threshold null', member: 'classifier.forest.baseModel.estimators[0].root.splitValue', edit: (m) => m.set([...TREE0, 'splitValue'], null) },
  { what: 'threshold infinite (1e999 in the file)', member: 'classifier.forest.baseModel.estimators[0].root.splitValue', edit: (m) => m.set([...TREE0, 'splitValue'], Infinity) },
  { what: 'a child missing', member: 'classifier.forest.baseModel.estimators[0].root.left', says: /missing/, edit: (m) => m.set([...TREE0, 'left'], REMOVE) },
  { what: 'a child a number', member: 'classifier.forest.baseModel.estimators[0].root.right', edit: (m) => m.set([...TREE0, 'right'], 7) },
  {
    what: 'a tree deeper than any trained',
    member: 'classifier.forest.baseModel.estimators[0].root',
    says: /the tree is deeper than 2000 levels/,
    edit: (m) => m.set(TREE0, deepTree(2100)),
  },
  // Leaves (the first on tree 0's left edge): what is edited under the leaf, the member named.
  ...(
    [
      ['a class weight negative', ['distribution', 0, 4], -1, '.distribution[0][4]'],
      ['a class weight a string', ['distribution', 0, 0], '0.5', '.distribution[0][0]'],
      ['a leaf row too long', ['distribution', 0], new Array(11).fill(0.1), '.distribution[0]'],
      ['a leaf row all 0', ['distribution', 0], new Array(10).fill(0), '.distribution[0]'],
      ['a leaf without rows', ['distribution'], [], '.distribution'],
    ] satisfies [string, Key[], unknown, string][]
  ).map(([what, under, value, suffix]): Corruption => ({
    what,
    member: (m) => `${firstLeaf(m).member}${suffix}`,
    edit: (m) => m.set([...firstLeaf(m).path, ...under], value),
  })),
  // Outlier detector.
  { what: 'a scaler std 0', member: 'outliers.scaler.std[5]', says: /> 0, got 0/, edit: (m) => m.set(['outliers', 'scaler', 'std', 5], 0) },
  { what: 'scaler means short', member: 'outliers.scaler.mean', edit: (m) => m.set(['outliers', 'scaler', 'mean'], (m.get(['outliers', 'scaler', 'mean']) as number[]).slice(1)) },
  { what: 'outlier feature count off', member: 'outliers.featureCount', says: /expected 118 \(the length of feature schema 2\), got 117/, edit: (m) => m.set(['outliers', 'featureCount'], FEATURES.length - 1) },
  { what: 'a reference a string', member: 'outliers.references[1000]', edit: (m) => m.set(['outliers', 'references', 1000], 'x') },
  { what: 'a k-means centre short', member: 'outliers.references', says: /whole number of references/, edit: (m) => m.set(['outliers', 'references'], (m.get(['outliers', 'references']) as number[]).slice(1)) },
  { what: 'a radius 0', member: 'outliers.radii[3]', edit: (m) => m.set(['outliers', 'radii', 3], 0) },
  { what: 'radii one short', member: 'outliers.radii', says: /one per reference/, edit: (m) => m.set(['outliers', 'radii'], (m.get(['outliers', 'radii']) as number[]).slice(1)) },
  { what: 'k 0', member: 'outliers.k', edit: (m) => m.set(['outliers', 'k'], 0) },
  { what: 'k above the references', member: 'outliers.k', says: /\[1, 240\]/, edit: (m) => m.set(['outliers', 'k'], 241) },
  { what: 'threshold null', member: 'outliers.threshold', edit: (m) => m.set(['outliers', 'threshold'], null) },
  { what: 'min confidence 2', member: 'outliers.minConfidence', edit: (m) => m.set(['outliers', 'minConfidence'], 2) },
  { what: 'logScale a string', member: 'outliers.logScale', edit: (m) => m.set(['outliers', 'logScale'], 'yes') },
  { what: 'outliers format', member: 'outliers.format', edit: (m) => m.set(['outliers', 'format'], 'x') },
  // Temporal model.
  { what: 'a transition row not summing to 1', member: 'temporal.transitions', says: /row 2 \(items \[20\] to \[29\]/, edit: (m) => m.set(['temporal', 'transitions', 23], 0.9) },
  { what: 'transitions one short', member: 'temporal.transitions', says: /an array of 100/, edit: (m) => m.set(['temporal', 'transitions'], (m.get(['temporal', 'transitions']) as number[]).slice(1)) },
  { what: 'a start probability negative', member: 'temporal.start[0]', edit: (m) => m.set(['temporal', 'start', 0], -0.1) },
  { what: 'start not summing to 1', member: 'temporal.start', says: /the sum of the start probabilities is 1\.99+\d*, not 1/, edit: (m) => map(m, ['temporal', 'start'], () => 0.2) },
  { what: 'an emission prior null', member: 'temporal.emissionPrior[2]', edit: (m) => m.set(['temporal', 'emissionPrior', 2], null) },
  { what: 'alpha negative', member: 'temporal.alpha', edit: (m) => m.set(['temporal', 'alpha'], -1) },
  { what: 'temporal version', member: 'temporal.version', edit: (m) => m.set(['temporal', 'version'], 2) },
];

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The error loading `json` throws (fails the test when it loads). */
function loadError(json: unknown, source = SOURCE): ModelError {
  let model: UsageModel | undefined;
  try {
    model = UsageModel.fromJSON(json, source);
  } catch (error) {
    expect(error).toBeInstanceOf(ModelError);
    return error as ModelError;
  }
  throw new Error(`loaded a damaged model: ${model.name}`);
}

describe('a damaged model file', () => {
  let model: Editor;
  let dir: string;
  beforeAll(() => {
    model = new Editor(JSON.parse(readFileSync(MODEL, 'utf8')) as Json);
    dir = mkdtempSync(join(tmpdir(), 'cumma-model-checks-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(CORRUPTIONS.map((c) => [c.what, c] as const))('%s: MODEL_INVALID naming the member', (_, corruption) => {
    const member = typeof corruption.member === 'string' ? corruption.member : corruption.member(model);
    try {
      corruption.edit(model);
      const error = loadError(model.root);
      expect(error.code).toBe('MODEL_INVALID');
      expect(error.message).toMatch(new RegExp(`^${escape(SOURCE)}: ${escape(member)}: `));
      expect(error.message).toMatch(/\[MODEL_INVALID\]$/);
      if (corruption.says !== undefined) expect(error.message).toMatch(corruption.says);
      // Never a JS internal error passed on.
      expect(error.message).not.toMatch(/Cannot read|undefined \(reading|is not a function|Maximum call stack/);
    } finally {
      model.undo();
    }
  });

  it('is named by its path when loaded from disk, and so are its members', () => {
    const cases: [string, readonly Key[], unknown, string][] = [
      ['gaps.json', ['gaps', 'dialogGapUs'], 'abc', 'gaps.dialogGapUs: expected a finite number > 0, got "abc"'],
      ['no-temporal.json', ['temporal'], REMOVE, 'temporal: missing; expected the temporal model (an object)'],
      ['tree.json', [...FOREST, 'estimators', 5], null, 'classifier.forest.baseModel.estimators[5]: expected a tree { root } (an object), got null'],
    ];
    for (const [name, path, value, detail] of cases) {
      const file = join(dir, name);
      try {
        model.set(path, value);
        writeFileSync(file, JSON.stringify(model.root));
      } finally {
        model.undo();
      }
      expect(() => UsageModel.load(file)).toThrow(new ModelError('MODEL_INVALID', `model ${file}: ${detail}`));
    }
  });

  it('with unusable gaps, gives no gaps ahead: classify waits for the load, which names the member', () => {
    const file = join(dir, 'negative-gap.json');
    try {
      model.set(['gaps', 'dialogGapUs'], -5);
      writeFileSync(file, JSON.stringify(model.root));
    } finally {
      model.undo();
    }
    expect(readModelGapsAhead(file)).toBeUndefined();
    expect(() => UsageModel.load(file)).toThrow(/gaps\.dialogGapUs: expected a finite number > 0, got -5 \[MODEL_INVALID\]/);
    const header = (gaps: unknown): string => JSON.stringify({ format: 'cumma-model', version: 1, gaps, classes: [] });
    expect(modelGapsFromPrefix(header({ dialogGapUs: 5e6, sessionGapUs: 6e7 }))).toEqual({ dialogGapUs: 5e6, sessionGapUs: 6e7 });
    for (const gaps of [{ dialogGapUs: -5, sessionGapUs: 6e7 }, { dialogGapUs: 0, sessionGapUs: 6e7 }, { dialogGapUs: 5e6, sessionGapUs: 1 }, { dialogGapUs: 5e6 }]) {
      expect(modelGapsFromPrefix(header(gaps))).toBeUndefined();
    }
  });

  it('loads again once every edit is undone, scoring as a fresh load does', () => {
    const restored = UsageModel.fromJSON(model.root, SOURCE);
    const fresh = UsageModel.load(MODEL);
    // Deleted members come back last: equal, not in the file's order. (A boolean: a failing
    // comparison of 7 MB would print it all.)
    expect(isDeepStrictEqual(restored.json, JSON.parse(readFileSync(MODEL, 'utf8')))).toBe(true);
    const vectors = Array.from({ length: 20 }, (_, i) => Float64Array.from(FEATURES, (_, j) => ((i + 1) * (j + 3)) % 17));
    expect(restored.predictScores(vectors)).toEqual(fresh.predictScores(vectors));
  });

  describe('with a k-NN classifier', () => {
    const blobs = makeBlobs(FEATURES.length, 1);
    const knn = trainClassifier('knn', blobs.sample(5, 1), { knn: { k: 3 } }).toJSON();
    const KD = ['classifier', 'model', 'kdTree'];
    const cases: readonly Corruption[] = [
      { what: 'a point coordinate null', member: 'classifier.model.kdTree.left.obj[3]', edit: (m) => m.set([...KD, 'left', 'obj', 3], null) },
      { what: 'a point label past the classes', member: 'classifier.model.kdTree.obj[118]', says: /\[0, 9\], got 10/, edit: (m) => m.set([...KD, 'obj', FEATURES.length], 10) },
      { what: 'a point short', member: 'classifier.model.kdTree.right.obj', edit: (m) => m.set([...KD, 'right', 'obj'], [1, 2]) },
      { what: 'a split dimension past a point', member: 'classifier.model.kdTree.dimension', edit: (m) => m.set([...KD, 'dimension'], 200) },
      { what: 'a child missing (null is none)', member: 'classifier.model.kdTree.right', says: /missing/, edit: (m) => m.set([...KD, 'right'], REMOVE) },
      { what: 'dimensions reordered', member: 'classifier.model.kdTree.dimensions[0]', edit: (m) => m.set([...KD, 'dimensions', 0], 1) },
      { what: 'k 0', member: 'classifier.k', edit: (m) => m.set(['classifier', 'k'], 0) },
      { what: 'class weights short', member: 'classifier.classWeights', edit: (m) => m.set(['classifier', 'classWeights'], [1, 1]) },
      { what: 'scaler std null', member: 'classifier.scaler.std[7]', edit: (m) => m.set(['classifier', 'scaler', 'std', 7], null) },
      { what: 'another distance', member: 'classifier.model.isEuclidean', edit: (m) => m.set(['classifier', 'model', 'isEuclidean'], false) },
    ];

    it('loads intact', () => {
      try {
        model.set(['classifier'], knn);
        expect(UsageModel.fromJSON(model.root, SOURCE).classes).toEqual(knn.classes);
      } finally {
        model.undo();
      }
    });

    it.each(cases.map((c) => [c.what, c] as const))('%s: MODEL_INVALID naming the member', (_, corruption) => {
      try {
        // A copy per case: KnnClassifier.load keeps its own copy, but edits must not leak.
        model.set(['classifier'], JSON.parse(JSON.stringify(knn)) as unknown);
        corruption.edit(model);
        const error = loadError(model.root);
        expect(error.message).toMatch(new RegExp(`^${escape(SOURCE)}: ${escape(corruption.member as string)}: `));
        if (corruption.says !== undefined) expect(error.message).toMatch(corruption.says);
      } finally {
        model.undo();
      }
    });
  });
});
