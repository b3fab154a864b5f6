import { describe, expect, it } from 'vitest';
import { Prng } from '../../agent/src/common/prng';
import { trainClassifier } from '../../agent/src/model/classifier';
import { MIN_GROUP_SIZE, OutlierDetector, quantile, signedLog, type OutlierDetectorJson } from '../../agent/src/model/outliers';
import { StandardScaler } from '../../agent/src/model/scaler';
import { TemporalModel, type TemporalModelJson } from '../../agent/src/model/temporal';
import { makeBlobs } from './blobs';

describe('scaler', () => {
  it('standardises with the training mean and population std; a constant feature maps to 0', () => {
    const vectors = [Float64Array.of(1, 5, 10), Float64Array.of(3, 5, 20), Float64Array.of(5, 5, 30)];
    const scaler = StandardScaler.fit(vectors);
    expect(Array.from(scaler.mean)).toEqual([3, 5, 20]);
    expect(Array.from(scaler.std)).toEqual([Math.sqrt(8 / 3), 1, Math.sqrt(200 / 3)]);
    const z = scaler.transform(Float64Array.of(3 + Math.sqrt(8 / 3), 7, 20));
    expect(z[0]).toBeCloseTo(1, 12);
    expect([z[1], z[2]]).toEqual([2, 0]);
    expect(StandardScaler.fromJSON(JSON.parse(JSON.stringify(scaler.toJSON()))).transform(vectors[1]!)).toEqual(
      scaler.transform(vectors[1]!),
    );
    expect(() => scaler.transform(new Float64Array(2))).toThrow(RangeError);
  });
});

describe('outlier detector', () => {
  const blobs = makeBlobs(40, 1);
  const train = blobs.sample(150, 21);
  // 1 500 held-out points: the 99th percentile needs ~1 000+ to be stable.
  const heldOut = blobs.sample(150, 22).map((s) => s.features);
  const fresh = blobs.sample(100, 23).map((s) => s.features);
  const detector = OutlierDetector.fit(train, heldOut, { k: 3, maxPerClass: 100, seed: 4 });

  it('subsamples at most maxPerClass references per class', () => {
    expect(detector.referenceCount).toBe(1000);
  });

  it('matches a naive brute-force mean distance to the 3 nearest references', () => {
    const json = detector.toJSON();
    const f = json.featureCount;
    const scaler = StandardScaler.fromJSON(json.scaler);
    for (const v of fresh.slice(0, 5)) {
      const z = scaler.transform(v);
      const d: number[] = [];
      for (let r = 0; r < json.references.length / f; r++) {
        let s = 0;
        for (let j = 0; j < f; j++) s += (z[j]! - json.references[r * f + j]!) ** 2;
        d.push(Math.sqrt(s));
      }
      d.sort((a, b) => a - b);
      expect(detector.distance(v)).toBeCloseTo((d[0]! + d[1]! + d[2]!) / 3, 10);
    }
  });

  it('calibrates the threshold at the 99th percentile of held-out distances', () => {
    const sorted = Float64Array.from(heldOut, (v) => detector.distance(v)).sort();
    expect(detector.threshold).toBe(quantile(sorted, 0.99));
    expect(quantile(Float64Array.of(1, 2, 3, 4, 5), 0.5)).toBe(3);
    expect(quantile(Float64Array.of(0, 10), 0.99)).toBeCloseTo(9.9, 12);
  });

  it('flags points far from every blob and at most 2 % of fresh normal points', () => {
    const prng = new Prng(99);
    const confident = new Float64Array(10).fill(0);
    confident[0] = 1;
    const far = Array.from({ length: 50 }, () => Float64Array.from({ length: 40 }, () => prng.normal() * 6));
    for (const v of far) expect(detector.isOutlier(v, confident)).toBe(true);
    const flagged = fresh.filter((v) => detector.isFar(v)).length;
    expect(flagged / fresh.length).toBeLessThanOrEqual(0.02);
  });

  it('with k-means centres per class, keeps 8 references a class and still flags far points, and at most 2 % of normal ones', () => {
    const centred = OutlierDetector.fit(train, heldOut, { k: 3, maxPerClass: 100, centresPerClass: 8, seed: 4 });
    expect(centred.referenceCount).toBe(80);
    const prng = new Prng(98);
    const confident = new Float64Array(10).fill(0);
    confident[0] = 1;
    const far = Array.from({ length: 50 }, () => Float64Array.from({ length: 40 }, () => prng.normal() * 6));
    for (const v of far) expect(centred.isOutlier(v, confident)).toBe(true);
    expect(fresh.filter((v) => centred.isFar(v)).length / fresh.length).toBeLessThanOrEqual(0.02);
  });

  it('calibrates the low-confidence cut on held-out scores: normal points flagged ≤ 2 % in all', () => {
    expect(detector.minConfidence).toBe(0); // no scores, no explicit cut: rule off
    const rf = trainClassifier('random-forest', train, { randomForest: { trees: 20, maxSamples: 300 } });
    const calibrated = OutlierDetector.fit(train, heldOut, { k: 3, maxPerClass: 100, seed: 4 }, rf.predictScores(heldOut));
    expect(calibrated.minConfidence).toBeGreaterThan(0.1);
    expect(calibrated.threshold).toBe(detector.threshold);
    const scores = rf.predictScores(fresh);
    const flagged = fresh.filter((v, i) => calibrated.isOutlier(v, scores[i]!)).length;
    expect(flagged / fresh.length).toBeLessThanOrEqual(0.02);
    const flat = new Float64Array(10).fill(0.1);
    expect(calibrated.isLowConfidence(flat)).toBe(true);
    expect(calibrated.isOutlier(fresh[0]!, flat)).toBe(true);
    const fixed = OutlierDetector.fit(train, heldOut, { maxPerClass: 100, minConfidence: 0.4 }, scores);
    expect(fixed.minConfidence).toBe(0.4);
    expect(fixed.isLowConfidence(Float64Array.of(0.4, 0.3, 0.3))).toBe(false);
    expect(fixed.isLowConfidence(Float64Array.of(0.39, 0.31, 0.3))).toBe(true);
  });

  it('serialises exactly', () => {
    const loaded = OutlierDetector.fromJSON(JSON.parse(JSON.stringify(detector.toJSON())) as OutlierDetectorJson);
    expect(loaded.toJSON()).toEqual(detector.toJSON());
    for (const v of fresh.slice(0, 20)) expect(loaded.distance(v)).toBe(detector.distance(v));
  });
});

describe('temporal model', () => {
  const classes = ['text', 'photo', 'voice_call'] as const;
  // Hand-made chain: start and transitions (rows: current usage).
  const model = TemporalModel.fromProbabilities(
    classes,
    [0.6, 0.3, 0.1],
    [
      [0.7, 0.2, 0.1],
      [0.3, 0.5, 0.2],
      [0.1, 0.1, 0.8],
    ],
  );

  it('smooths away a lone, weak voice_call between texts (best path computed by hand)', () => {
    // δ0 = (.30, .135, .005); δ1 = (.021←text, .02025←photo, .018←text);
    // δ2 = (.00882←text, .0030375←photo, .00144←voice_call): best path text, text, text,
    // while per-dialog arg-max says text, voice_call, text.
    const scores = [
      [0.5, 0.45, 0.05],
      [0.1, 0.3, 0.6],
      [0.6, 0.3, 0.1],
    ];
    expect(model.viterbi(scores)).toEqual(['text', 'text', 'text']);
  });

  it('keeps a switch that the evidence supports (best path computed by hand)', () => {
    // δ1 = (.0042, .00135, .0288←text); δ2(voice_call) = .0288·.8·.96 = .0221 ≫ others.
    const scores = [
      [0.5, 0.45, 0.05],
      [0.02, 0.02, 0.96],
      [0.02, 0.02, 0.96],
    ];
    expect(model.viterbi(scores)).toEqual(['text', 'voice_call', 'voice_call']);
    expect(model.viterbiIndices([])).toEqual([]);
    expect(model.viterbi([[0.2, 0.7, 0.1]])).toEqual(['photo']);
  });

  it('floors zero scores instead of forbidding a class', () => {
    const path = model.viterbi([
      [1, 0, 0],
      [0, 0, 1],
    ]);
    expect(path).toEqual(['text', 'voice_call']);
    expect(() => model.viterbi([[0.5, 0.5]])).toThrow(RangeError);
  });

  it('learns start and transition probabilities with Laplace smoothing', () => {
    const fitted = TemporalModel.fit(
      [
        ['text', 'text', 'photo'],
        ['text', 'voice_call'],
        ['photo'],
      ],
      classes,
    );
    // starts: text 2, photo 1, voice_call 0 → (n+1)/(3+3)
    expect(Array.from(fitted.start)).toEqual([3 / 6, 2 / 6, 1 / 6]);
    // from text: text 1, photo 1, voice_call 1 → (1+1)/(3+3) each
    expect(fitted.transition('text', 'photo')).toBeCloseTo(2 / 6, 15);
    // from photo: nothing seen → uniform
    expect(fitted.transition('photo', 'voice_call')).toBeCloseTo(1 / 3, 15);
    expect(() => TemporalModel.fit([['file']], classes)).toThrow(RangeError);
    const loaded = TemporalModel.fromJSON(JSON.parse(JSON.stringify(fitted.toJSON())) as TemporalModelJson);
    expect(loaded.toJSON()).toEqual(fitted.toJSON());
    const scores = [
      [0.4, 0.35, 0.25],
      [0.3, 0.3, 0.4],
    ];
    expect(loaded.viterbi(scores)).toEqual(fitted.viterbi(scores));
  });
});

describe('outlier detector: log scale, radii, calibration per source', () => {
  it('signedLog is sign(x)·ln(1+|x|)', () => {
    expect(signedLog(0)).toBe(0);
    expect(signedLog(Math.E - 1)).toBeCloseTo(1, 15);
    expect(signedLog(-(Math.E - 1))).toBeCloseTo(-1, 15);
  });

  it('with logScale, standardises sign(x)·ln(1+|x|) and says so in its JSON', () => {
    const blobs = makeBlobs(6, 3);
    const train = blobs.sample(60, 31).map((s) => ({ ...s, features: s.features.map((x) => Math.exp(x + 3)) }));
    const heldOut = blobs.sample(30, 32).map((s) => s.features.map((x) => Math.exp(x + 3)));
    const logged = OutlierDetector.fit(train, heldOut, { k: 1, maxPerClass: 1000, logScale: true });
    const json = logged.toJSON();
    expect(json.logScale).toBe(true);
    // Brute force: nearest reference in the standardised log space.
    const scaler = StandardScaler.fromJSON(json.scaler);
    const v = heldOut[0]!;
    const z = scaler.transform(v.map(signedLog));
    let best = Infinity;
    for (let r = 0; r < json.references.length / json.featureCount; r++) {
      let s = 0;
      for (let j = 0; j < json.featureCount; j++) s += (z[j]! - json.references[r * json.featureCount + j]!) ** 2;
      best = Math.min(best, Math.sqrt(s));
    }
    expect(logged.distance(v)).toBeCloseTo(best, 10);
    const loaded = OutlierDetector.fromJSON(JSON.parse(JSON.stringify(json)) as OutlierDetectorJson);
    expect(loaded.distance(v)).toBe(logged.distance(v));
    expect(OutlierDetector.fit(train, heldOut, { k: 1, maxPerClass: 1000 }).toJSON().logScale).toBeUndefined();
  });

  it('relative to each centre\u2019s radius: a point off a tight cluster is far, one inside a wide cluster is not', () => {
    const prng = new Prng(5);
    const point = (centre: number, spread: number) => Float64Array.from({ length: 5 }, () => centre + prng.normal() * spread);
    const sample = (count: number) => [
      ...Array.from({ length: count }, () => ({ label: 'text' as const, features: point(0, 0.1) })),
      ...Array.from({ length: count }, () => ({ label: 'photo' as const, features: point(20, 3) })),
    ];
    const train = sample(300);
    const heldOut = sample(300).map((s) => s.features);
    const absolute = OutlierDetector.fit(train, heldOut, { k: 1, centresPerClass: 4, seed: 2 });
    const relative = OutlierDetector.fit(train, heldOut, { k: 1, centresPerClass: 4, seed: 2, relativeToRadius: true });
    expect(relative.toJSON().radii?.length).toBe(8);
    const offTight = Float64Array.from({ length: 5 }, () => 2); // ~4.5 from the tight cluster, 20 tight radii
    expect(absolute.isFar(offTight)).toBe(false); // the wide cluster sets the absolute threshold
    expect(relative.isFar(offTight)).toBe(true);
    const fresh = sample(200).map((s) => s.features);
    expect(fresh.filter((v) => relative.isFar(v)).length / fresh.length).toBeLessThanOrEqual(0.03);
    const loaded = OutlierDetector.fromJSON(JSON.parse(JSON.stringify(relative.toJSON())) as OutlierDetectorJson);
    expect(loaded.distance(offTight)).toBe(relative.distance(offTight));
  });

  it('calibrates per held-out source and keeps the loosest threshold and cut; small sources do not count', () => {
    const blobs = makeBlobs(10, 1);
    const train = blobs.sample(50, 41);
    const near = blobs.sample(20, 42).map((s) => s.features); // 200 normal points
    const shifted = blobs.sample(5, 43).map((s) => s.features.map((x) => x + 1.5)); // 50 farther ones
    const heldOut = [...near, ...shifted];
    const groups = [...near.map(() => 'simulated'), ...shifted.map(() => 'real')];
    const single = OutlierDetector.fit(train, heldOut, { k: 1, maxPerClass: 100 });
    const perSource = OutlierDetector.fit(train, heldOut, { k: 1, maxPerClass: 100, heldOutGroups: groups });
    const distances = heldOut.map((v) => single.distance(v));
    const q = (values: number[]) => quantile(Float64Array.from(values).sort(), 0.99);
    expect(perSource.threshold).toBeCloseTo(Math.max(q(distances.slice(0, 200)), q(distances.slice(200))), 12);
    expect(perSource.threshold).toBeGreaterThanOrEqual(single.threshold);
    // A source with fewer than MIN_GROUP_SIZE held-out vectors is ignored.
    const tiny = [...near.map(() => 'simulated'), ...shifted.map((_, i) => (i < MIN_GROUP_SIZE - 1 ? 'real' : 'simulated'))];
    const withTiny = OutlierDetector.fit(train, heldOut.slice(0, 200 + MIN_GROUP_SIZE - 1), { k: 1, maxPerClass: 100, heldOutGroups: tiny.slice(0, 200 + MIN_GROUP_SIZE - 1) });
    expect(withTiny.threshold).toBeCloseTo(q(distances.slice(0, 200)), 12);
    expect(() => OutlierDetector.fit(train, heldOut, { heldOutGroups: ['x'] })).toThrow(RangeError);
  });
});

describe('temporal model: scaled likelihoods', () => {
  const classes = ['text', 'photo', 'voice_call'] as const;
  const transitions = [
    [0.7, 0.2, 0.1],
    [0.3, 0.5, 0.2],
    [0.1, 0.1, 0.8],
  ];

  it('forward filtering: belief ∝ prior · score, over the emission prior when there is one (computed by hand)', () => {
    const plain = TemporalModel.fromProbabilities(classes, [0.6, 0.3, 0.1], transitions);
    // First dialog: start · score = (.3, .09, .02) / .41.
    const first = plain.forward(undefined, [0.5, 0.3, 0.2]);
    expect(first[0]).toBeCloseTo(0.3 / 0.41, 12);
    expect(first[2]).toBeCloseTo(0.02 / 0.41, 12);
    const fitted = TemporalModel.fit([['text', 'text'], ['photo'], ['voice_call']], classes, { emissionPrior: [0.5, 0.25, 0.25] });
    // start = (2/6, 2/6, 2/6) (Laplace); emissions = score / prior = (1, 1.2, .8) → belief (1, 1.2, .8) / 3.
    const scaled = fitted.forward(undefined, [0.5, 0.3, 0.2]);
    expect(Array.from(scaled).map((p) => Number(p.toFixed(12)))).toEqual([1 / 3, 0.4, 0.8 / 3].map((p) => Number(p.toFixed(12))));
    // Second step: prior_j = Σ_i belief_i · P(j | i), times the scaled emission.
    const second = fitted.forward(scaled, [0.2, 0.2, 0.6]);
    const t = (i: string, j: string) => fitted.transition(i as 'text', j as 'text');
    const expected = classes.map((j, jj) => classes.reduce((sum, i, ii) => sum + scaled[ii]! * t(i, j), 0) * ([0.2, 0.2, 0.6][jj]! / [0.5, 0.25, 0.25][jj]!));
    const total = expected.reduce((a, b) => a + b, 0);
    expected.forEach((p, j) => expect(second[j]).toBeCloseTo(p / total, 12));
  });

  it('forwardInto writes exactly forward()\u2019s belief into the given array, never into the previous one', () => {
    const fitted = TemporalModel.fit([['text', 'text'], ['photo'], ['voice_call']], classes, { emissionPrior: [0.5, 0.25, 0.25] });
    const out = new Float64Array(3);
    const first = fitted.forward(undefined, [0.5, 0.3, 0.2]);
    expect(fitted.forwardInto(undefined, [0.5, 0.3, 0.2], out)).toBe(out);
    expect(out).toEqual(first);
    const kept = Float64Array.from(out);
    expect(fitted.forwardInto(kept, [0.2, 0.2, 0.6], out)).toEqual(fitted.forward(first, [0.2, 0.2, 0.6]));
    expect(() => fitted.forwardInto(out, [0.2, 0.2, 0.6], out)).toThrow(RangeError);
    expect(() => fitted.forwardInto(undefined, [0.2, 0.2, 0.6], new Float64Array(2))).toThrow(RangeError);
  });

  it('Viterbi uses the same scaled emissions; the prior travels through JSON', () => {
    const fitted = TemporalModel.fit([['text', 'photo'], ['photo', 'text']], classes, { emissionPrior: [0.9, 0.05, 0.05] });
    const loaded = TemporalModel.fromJSON(JSON.parse(JSON.stringify(fitted.toJSON())) as TemporalModelJson);
    expect(loaded.toJSON()).toEqual(fitted.toJSON());
    expect(fitted.toJSON().emissionPrior).toEqual([0.9, 0.05, 0.05]);
    // Raw scores favour text, but text's 0.9 prior divided out favours photo.
    expect(loaded.viterbi([[0.6, 0.3, 0.1]])).toEqual(['photo']);
    expect(TemporalModel.fit([['text', 'photo']], classes).viterbi([[0.6, 0.3, 0.1]])).toEqual(['text']);
    expect(() => TemporalModel.fit([['text']], classes, { emissionPrior: [1] })).toThrow(RangeError);
  });
});
