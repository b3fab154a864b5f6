/**
 * Outlier verdicts (issue 4): a dialog gets `unknown` (keeping its scores) when it is far from
 * every class, or when the classifier is not confident.
 *
 * - Distance: features standardised with a scaler fitted on the training vectors; the distance
 *   of a vector is the mean Euclidean distance to its k (default 3) nearest reference points,
 *   the references being a seeded subsample of at most `maxPerClass` (default 2000) training
 *   vectors per class, all classes together. Brute force over one contiguous Float64Array, with
 *   early abandoning (a reference is dropped as soon as its partial sum exceeds the current k-th
 *   best), which is exact.
 * - Threshold: the `percentile` (default 0.99) of the distances of held-out vectors (normal data
 *   the references were not drawn from), so about 1 % of normal dialogs exceed it. Give it
 *   ≥ 1 000 held-out vectors: with 600 blob points the estimate fell low and 1.9 % of fresh
 *   normal points were flagged, with 1 500 it was 0.7 %.
 * - Low confidence: the highest class score below `minConfidence`. Random-forest vote fractions
 *   are diffuse (each tree sees √F features), so a fixed cut such as 0.4 flagged a third of
 *   clean, correctly classified blob points in the tests: the cut is calibrated instead as the
 *   `confidenceQuantile` (default 0.005) of the held-out vectors' highest scores, when their
 *   scores are given to fit(). An explicit `minConfidence` wins; with neither, the rule is off
 *   (minConfidence 0).
 *
 * Cost is linear in the number of references and is the slow part of prediction. Measured on
 * 106 features, 10 overlapping classes (2 cores, Node 20): maxPerClass 2000 (20 000 refs) ≈ 540
 * vectors/s, 500 ≈ 2 300/s, 200 ≈ 5 700/s, all flagging 0.7–0.8 % of fresh normal points. None
 * meets the 20 k dialogs/s target: a later step should reduce references to per-class
 * prototypes (k-means) or compute the distance only where it changes the verdict.
 */

import { kMeans } from './kmeans';
import { Prng } from '../common/prng';
import type { UsageClass } from '../labels';
import { sampleWithoutReplacement } from './imbalance';
import { StandardScaler, type ScalerJson } from './scaler';

export interface OutlierOptions {
  readonly k?: number;
  readonly maxPerClass?: number;
  readonly percentile?: number;
  /**
   * Summarise each class by this many k-means centres of its (up to maxPerClass) sampled
   * points, instead of keeping the points: the check then costs ~10× less. Default: off.
   */
  readonly centresPerClass?: number;
  /** Fixed low-confidence cut (overrides calibration). */
  readonly minConfidence?: number;
  /** Quantile of held-out highest scores used as the low-confidence cut (default 0.005). */
  readonly confidenceQuantile?: number;
  readonly seed?: number;
}

export interface OutlierDetectorJson {
  readonly format: 'cumma-outliers';
  readonly version: 1;
  readonly k: number;
  readonly threshold: number;
  readonly minConfidence: number;
  readonly percentile: number;
  readonly scaler: ScalerJson;
  readonly featureCount: number;
  /** Standardised reference vectors, row-major (references × featureCount). */
  readonly references: number[];
}

export class OutlierDetector {
  private readonly scratch: Float64Array;
  private readonly best: Float64Array;

  private constructor(
    readonly k: number,
    readonly threshold: number,
    readonly minConfidence: number,
    readonly percentile: number,
    private readonly scaler: StandardScaler,
    private readonly references: Float64Array,
  ) {
    this.scratch = new Float64Array(scaler.featureCount);
    this.best = new Float64Array(k);
  }

  get referenceCount(): number {
    return this.references.length / this.scaler.featureCount;
  }

  /**
   * Fit on training vectors (with their labels, for the per-class subsample) and calibrate the
   * distance threshold on held-out normal vectors; with `heldOutScores` (the classifier's scores
   * of those held-out vectors) also calibrate the low-confidence cut.
   */
  static fit(
    training: readonly { readonly features: Float64Array; readonly label: UsageClass }[],
    heldOut: readonly Float64Array[],
    options: OutlierOptions = {},
    heldOutScores?: readonly ArrayLike<number>[],
  ): OutlierDetector {
    if (training.length === 0) throw new RangeError('OutlierDetector.fit: no training vectors');
    if (heldOut.length === 0) throw new RangeError('OutlierDetector.fit: no held-out vectors to calibrate on');
    const k = options.k ?? 3;
    const maxPerClass = options.maxPerClass ?? 2000;
    const percentile = options.percentile ?? 0.99;
    let minConfidence = options.minConfidence ?? 0;
    if (options.minConfidence === undefined && heldOutScores !== undefined && heldOutScores.length > 0) {
      const q = options.confidenceQuantile ?? 0.005;
      if (!(q >= 0 && q < 1)) throw new RangeError(`confidenceQuantile must be in [0, 1), not ${q}`);
      const maxima = Float64Array.from(heldOutScores, (s) => Math.max(...Array.from(s))).sort();
      minConfidence = quantile(maxima, q);
    }
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, not ${k}`);
    if (!(percentile > 0 && percentile <= 1)) throw new RangeError(`percentile must be in (0, 1], not ${percentile}`);
    const scaler = StandardScaler.fit(training.map((s) => s.features));
    const f = scaler.featureCount;
    const byClass = new Map<UsageClass, number[]>();
    training.forEach((s, i) => {
      let list = byClass.get(s.label);
      if (list === undefined) byClass.set(s.label, (list = []));
      list.push(i);
    });
    const prng = new Prng(options.seed ?? 1);
    const rows: Float64Array[] = [];
    const row = new Float64Array(f);
    for (const list of byClass.values()) {
      const picked = sampleWithoutReplacement(list.length, maxPerClass, prng).map((j) => list[j]!);
      const points = new Float64Array(picked.length * f);
      picked.forEach((i, r) => {
        scaler.transformInto(training[i]!.features, row);
        points.set(row, r * f);
      });
      rows.push(options.centresPerClass !== undefined ? kMeans(points, f, options.centresPerClass, prng) : points);
    }
    const references = new Float64Array(rows.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of rows) {
      references.set(part, offset);
      offset += part.length;
    }
    const referenceCount = references.length / f;
    const kk = Math.min(k, referenceCount);
    const probe = new OutlierDetector(kk, Infinity, minConfidence, percentile, scaler, references);
    const distances = Float64Array.from(heldOut, (v) => probe.distance(v)).sort();
    const threshold = quantile(distances, percentile);
    return new OutlierDetector(kk, threshold, minConfidence, percentile, scaler, references);
  }

  static fromJSON(json: OutlierDetectorJson): OutlierDetector {
    if (json.format !== 'cumma-outliers' || json.version !== 1) throw new RangeError('not a cumma outlier model');
    const scaler = StandardScaler.fromJSON(json.scaler);
    if (scaler.featureCount !== json.featureCount || json.references.length % json.featureCount !== 0) {
      throw new RangeError('outlier model: inconsistent sizes');
    }
    return new OutlierDetector(
      json.k,
      json.threshold,
      json.minConfidence,
      json.percentile,
      scaler,
      Float64Array.from(json.references),
    );
  }

  /** Mean distance (standardised space) from `vector` to its k nearest references. */
  distance(vector: Float64Array): number {
    const f = this.scaler.featureCount;
    const x = this.scratch;
    this.scaler.transformInto(vector, x);
    const refs = this.references;
    const count = refs.length / f;
    const best = this.best; // squared distances, ascending
    const k = best.length;
    best.fill(Infinity);
    for (let r = 0; r < count; r++) {
      const limit = best[k - 1]!;
      const base = r * f;
      let sum = 0;
      let j = 0;
      for (; j < f; j++) {
        const d = x[j]! - refs[base + j]!;
        sum += d * d;
        if (sum >= limit) break;
      }
      if (j < f) continue;
      let p = k - 1;
      while (p > 0 && best[p - 1]! > sum) {
        best[p] = best[p - 1]!;
        p--;
      }
      best[p] = sum;
    }
    let total = 0;
    for (let i = 0; i < k; i++) total += Math.sqrt(best[i]!);
    return total / k;
  }

  /** Far from every class (distance above the threshold). */
  isFar(vector: Float64Array): boolean {
    return this.distance(vector) > this.threshold;
  }

  /** The highest score is below `minConfidence`. */
  isLowConfidence(scores: ArrayLike<number>): boolean {
    let max = -Infinity;
    for (let i = 0; i < scores.length; i++) if (scores[i]! > max) max = scores[i]!;
    return max < this.minConfidence;
  }

  /** The `unknown` verdict: low confidence, or far from every class. */
  isOutlier(vector: Float64Array, scores: ArrayLike<number>): boolean {
    return this.isLowConfidence(scores) || this.isFar(vector);
  }

  toJSON(): OutlierDetectorJson {
    return {
      format: 'cumma-outliers',
      version: 1,
      k: this.k,
      threshold: this.threshold,
      minConfidence: this.minConfidence,
      percentile: this.percentile,
      scaler: this.scaler.toJSON(),
      featureCount: this.scaler.featureCount,
      references: Array.from(this.references),
    };
  }
}

/** Linear-interpolation quantile of ascending values (numpy "linear"). */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('quantile of nothing');
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}
