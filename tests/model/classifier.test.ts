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
import { RandomForestUsageClassifier } from '../../agent/src/model/random-forest';
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
  const rf = trainClassifier('random-forest', train, { seed: 5, randomForest: { trees: 30, maxSamples: 300 } });

  it('separates 10 Gaussian blobs in 40 dimensions (macro-F1 ≥ 0.95 on held-out points)', () => {
    expect(rf.kind).toBe('random-forest');
    expect(rf.classes).toEqual(USAGE_CLASSES);
    expect(rf.featureCount).toBe(40);
    expect(macroF1(rf)).toBeGreaterThanOrEqual(0.95);
  });

  it('answers vote fractions that sum to 1, in multiples of 1/trees', () => {
    const scores = rf.predictScores(testVectors.slice(0, 50));
    expectProbabilities(scores, 10);
    for (const s of scores) for (const p of s) expect(Math.abs(p * 30 - Math.round(p * 30))).toBeLessThan(1e-9);
  });

  it('gives exactly the votes of the library’s predictionValues (all trees, tree 0 included)', () => {
    const forest = rf as RandomForestUsageClassifier;
    const vectors = testVectors.slice(0, 100);
    expect(forest.predictScores(vectors)).toEqual(forest.predictScoresWithLibrary(vectors));
  });

  it('round-trips through JSON exactly: same JSON, same scores', () => {
    const loaded = reload(rf);
    expect(loaded.toJSON()).toEqual(rf.toJSON());
    expect(loaded.predictScores(testVectors)).toEqual(rf.predictScores(testVectors));
    const forest = loaded as RandomForestUsageClassifier;
    expect(forest.predictScoresWithLibrary(testVectors.slice(0, 50))).toEqual(rf.predictScores(testVectors.slice(0, 50)));
  });

  it('records the resolved defaults: √F features per tree, maxSamples as a fraction or a count', () => {
    const defaults = trainClassifier('random-forest', train.slice(0, 200), { randomForest: { trees: 2 } }).toJSON();
    expect(defaults.kind === 'random-forest' && defaults.params).toMatchObject({
      trees: 2,
      featuresPerTree: Math.round(Math.sqrt(40)),
      samplesPerTree: 200, // min(600, n)
    });
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
