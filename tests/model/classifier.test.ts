import { describe, expect, it } from 'vitest';
import { USAGE_CLASSES } from '../../agent/src/labels';
import {
  argMax,
  loadClassifier,
  predictClasses,
  trainClassifier,
  type ClassifierJson,
  type UsageClassifier,
} from '../../agent/src/model/classifier';
import { evaluatePredictions } from '../../agent/src/model/metrics';
import { RandomForestUsageClassifier, type RandomForestJson } from '../../agent/src/model/random-forest';
import { makeBlobs } from './blobs';

const blobs = makeBlobs(40, 1);
const train = blobs.sample(100, 1); // 1 000 samples
const test = blobs.sample(50, 2); // 500 held-out samples
const testVectors = test.map((s) => s.features);

function macroF1(model: UsageClassifier): number {
  const predicted = predictClasses(model, testVectors);
  return evaluatePredictions(
    test.map((s) => s.label),
    predicted,
    model.classes,
  ).macroF1;
}

function expectProbabilities(scores: Float64Array[], classes: number): void {
  for (const s of scores) {
    expect(s.length).toBe(classes);
    expect(s.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    for (const p of s) expect(p).toBeGreaterThanOrEqual(0);
  }
}

function reload(model: UsageClassifier): UsageClassifier {
  return loadClassifier(JSON.parse(JSON.stringify(model.toJSON())) as ClassifierJson);
}

describe('random forest', () => {
  // Default trainer: histogram trees, soft votes. `hard` is the library's own voting.
  const rf = trainClassifier('random-forest', train, { seed: 5, randomForest: { trees: 30, maxSamples: 300 } });
  const hard = trainClassifier('random-forest', train, { seed: 5, randomForest: { trees: 30, maxSamples: 300, voting: 'hard' } });

  it('separates 10 Gaussian blobs in 40 dimensions (macro-F1 ≥ 0.95 on held-out points)', () => {
    expect(rf.kind).toBe('random-forest');
    expect(rf.classes).toEqual(USAGE_CLASSES);
    expect(rf.featureCount).toBe(40);
    expect(macroF1(rf)).toBeGreaterThanOrEqual(0.95);
    expect(macroF1(hard)).toBeGreaterThanOrEqual(0.95);
  });

  it('hard votes: fractions that sum to 1, in multiples of 1/trees', () => {
    const scores = hard.predictScores(testVectors.slice(0, 50));
    expectProbabilities(scores, 10);
    for (const s of scores) for (const p of s) expect(Math.abs(p * 30 - Math.round(p * 30))).toBeLessThan(1e-9);
  });

  it('soft votes: the mean of the leaves\u2019 class fractions, read from the model JSON by hand', () => {
    const json = rf.toJSON();
    expect(json.kind === 'random-forest' && json.params.voting).toBe('soft');
    const base = (json as RandomForestJson).forest.baseModel as unknown as { estimators: { root: Node }[]; indexes: number[][] };
    interface Node { distribution?: number[][]; splitColumn?: number; splitValue?: number; left?: Node; right?: Node }
    for (const x of testVectors.slice(0, 10)) {
      const expected = new Array<number>(10).fill(0);
      base.estimators.forEach((estimator, t) => {
        let node = estimator.root;
        while (node.distribution === undefined) node = x[base.indexes[t]![node.splitColumn!]!]! < node.splitValue! ? node.left! : node.right!;
        const row = node.distribution[0]!;
        const total = row.reduce((a, b) => a + b, 0);
        row.forEach((p, k) => (expected[k]! += p / total / 30));
      });
      const actual = rf.predictScores([x])[0]!;
      expected.forEach((p, k) => expect(actual[k]).toBeCloseTo(p, 12));
    }
    expectProbabilities(rf.predictScores(testVectors.slice(0, 50)), 10);
  });

  it('gives exactly the votes of the library\u2019s predictionValues with hard votes (all trees, tree 0 included), for both trainers', () => {
    const vectors = testVectors.slice(0, 100);
    expect((hard as RandomForestUsageClassifier).predictScores(vectors)).toEqual((hard as RandomForestUsageClassifier).predictScoresWithLibrary(vectors));
    const library = trainClassifier('random-forest', train, { seed: 5, randomForest: { trees: 10, maxSamples: 200, trainer: 'ml-cart' } });
    expect(library.toJSON().kind === 'random-forest' && (library.toJSON() as RandomForestJson).params).toMatchObject({ trainer: 'ml-cart', voting: 'hard', samplesPerTree: 200 });
    expect(macroF1(library)).toBeGreaterThanOrEqual(0.7); // 200 rows a tree: the library's quadratic cost
    expect((library as RandomForestUsageClassifier).predictScores(vectors)).toEqual((library as RandomForestUsageClassifier).predictScoresWithLibrary(vectors));
  });

  it('round-trips through JSON exactly: same JSON, same scores', () => {
    for (const model of [rf, hard]) {
      const loaded = reload(model);
      expect(loaded.toJSON()).toEqual(model.toJSON());
      expect(loaded.predictScores(testVectors)).toEqual(model.predictScores(testVectors));
    }
    const forest = reload(hard) as RandomForestUsageClassifier;
    expect(forest.predictScoresWithLibrary(testVectors.slice(0, 50))).toEqual(hard.predictScores(testVectors.slice(0, 50)));
  });

  it('reads models written before the histogram trainer (no trainer or voting in params): hard votes', () => {
    const json = JSON.parse(JSON.stringify(hard.toJSON())) as { params: Record<string, unknown> };
    delete json.params['trainer'];
    delete json.params['voting'];
    const old = loadClassifier(json as unknown as RandomForestJson);
    expect(old.predictScores(testVectors.slice(0, 20))).toEqual(hard.predictScores(testVectors.slice(0, 20)));
  });

  it('draws samples into the bootstraps in proportion to their weight: weight 0 is never seen', () => {
    const two = makeBlobs(40, 1, 3, ['text', 'photo']);
    const pool = two.sample(200, 6);
    // Every text sample weighs 0: no tree ever sees text, so no score goes to it.
    const weighted = trainClassifier('random-forest', pool.map((s) => ({ ...s, weight: s.label === 'text' ? 0 : 1 })), { randomForest: { trees: 5, maxSamples: 100 } });
    expect(weighted.classes).toEqual(['text', 'photo']);
    for (const s of weighted.predictScores(two.sample(20, 7).map((x) => x.features))) expect(s[0]).toBe(0);
    expect(() => trainClassifier('random-forest', pool.map((s) => ({ ...s, weight: -1 })))).toThrow(RangeError);
  });

  it('records the resolved defaults: √F features per split, maxSamples as a fraction or a count', () => {
    const defaults = trainClassifier('random-forest', train.slice(0, 200), { randomForest: { trees: 2 } }).toJSON();
    expect(defaults.kind === 'random-forest' && defaults.params).toMatchObject({
      trees: 2,
      trainer: 'histogram',
      voting: 'soft',
      featuresPerTree: Math.round(Math.sqrt(40)),
      samplesPerTree: 200, // min(8000, n)
      treeOptions: { minNumSamples: 20, maxDepth: null, gainThreshold: 0 },
    });
    const library = trainClassifier('random-forest', train, { randomForest: { trees: 1, trainer: 'ml-cart' } }).toJSON();
    expect(library.kind === 'random-forest' && library.params).toMatchObject({ samplesPerTree: 600, treeOptions: { minNumSamples: 3, gainThreshold: 0.01 } });
    const fraction = trainClassifier('random-forest', train, { randomForest: { trees: 2, maxSamples: 0.25, maxFeatures: 0.5 } }).toJSON();
    expect(fraction.kind === 'random-forest' && fraction.params).toMatchObject({ samplesPerTree: 250, featuresPerTree: 20 });
  });

  it('is deterministic for a seed and differs with another seed', () => {
    const options = { randomForest: { trees: 3, maxSamples: 200 } };
    const a = trainClassifier('random-forest', train, { ...options, seed: 9 }).toJSON();
    const b = trainClassifier('random-forest', train, { ...options, seed: 9 }).toJSON();
    const c = trainClassifier('random-forest', train, { ...options, seed: 10 }).toJSON();
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('applies class weights through the bootstrap: a rare class is drawn as often as a common one', () => {
    // 2 classes, 20 vs 380 samples: with weights each tree sees both about equally.
    const two = makeBlobs(40, 1, 3, ['text', 'photo']);
    const pool = two.sample(380, 4);
    const skewed = [...pool.filter((s) => s.label === 'photo'), ...pool.filter((s) => s.label === 'text').slice(0, 20)];
    const weighted = trainClassifier('random-forest', skewed, { classWeights: true, randomForest: { trees: 5, maxSamples: 200 } });
    const json = weighted.toJSON();
    expect(json.kind === 'random-forest' && json.params.classWeights).toEqual([400 / (2 * 20), 400 / (2 * 380)]);
    const held = two.sample(50, 5);
    const predicted = predictClasses(weighted, held.map((s) => s.features));
    const report = evaluatePredictions(held.map((s) => s.label), predicted, weighted.classes);
    expect(report.perClass[0]!.recall).toBeGreaterThan(0.9);
  });

  it('trains only the requested classes, in the requested order, and rejects bad input', () => {
    const sub = trainClassifier('random-forest', train, { classes: ['photo', 'text'], randomForest: { trees: 2, maxSamples: 50 } });
    expect(sub.classes).toEqual(['photo', 'text']);
    expect(sub.predictScores([train[0]!.features])[0]!.length).toBe(2);
    expect(() => sub.predictScores([new Float64Array(3)])).toThrow(RangeError);
    expect(() => trainClassifier('random-forest', [])).toThrow(RangeError);
    expect(() => loadClassifier({ kind: 'svm' } as unknown as ClassifierJson)).toThrow(RangeError);
  });
});

describe('k-NN', () => {
  const knn = trainClassifier('knn', train, { knn: { k: 5 } });

  it('separates the blobs on standardised features (macro-F1 ≥ 0.95)', () => {
    expect(knn.kind).toBe('knn');
    expect(macroF1(knn)).toBeGreaterThanOrEqual(0.95);
  });

  it('answers neighbour vote fractions (multiples of 1/k), distance-weighted on request', () => {
    const scores = knn.predictScores(testVectors.slice(0, 30));
    expectProbabilities(scores, 10);
    for (const s of scores) for (const p of s) expect(Math.abs(p * 5 - Math.round(p * 5))).toBeLessThan(1e-9);
    const weighted = trainClassifier('knn', train, { knn: { k: 7, distanceWeighted: true } });
    const ws = weighted.predictScores(testVectors.slice(0, 30));
    expectProbabilities(ws, 10);
    // A training point is its own nearest neighbour at distance 0: its vote dominates.
    expect(argMax(weighted.predictScores([train[3]!.features])[0]!)).toBe(USAGE_CLASSES.indexOf(train[3]!.label));
  });

  it('is scale-invariant: multiplying one feature by 1e6 changes nothing', () => {
    const stretch = (v: Float64Array): Float64Array => {
      const out = Float64Array.from(v);
      out[0] = out[0]! * 1e6;
      return out;
    };
    const stretched = trainClassifier('knn', train.map((s) => ({ label: s.label, features: stretch(s.features) })), { knn: { k: 5 } });
    const a = predictClasses(knn, testVectors.slice(0, 100));
    const b = predictClasses(stretched, testVectors.slice(0, 100).map(stretch));
    expect(b).toEqual(a);
  });

  it('round-trips through JSON exactly, scaler included', () => {
    const loaded = reload(knn);
    expect(loaded.toJSON()).toEqual(knn.toJSON());
    expect(loaded.predictScores(testVectors.slice(0, 100))).toEqual(knn.predictScores(testVectors.slice(0, 100)));
  });
});
