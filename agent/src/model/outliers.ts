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
 * - Log scale (`logScale`, what UsageModel uses): each feature x is replaced by sign(x)·ln(1+|x|)
 *   before standardising. Dialog features are heavy-tailed (bytes, packets, rates span six
 *   orders of magnitude), and on the raw scale every large dialog — a video call, a stream, a
 *   video clip — lay beyond the 99th percentile of distances: on unseen simulated seeds all 30
 *   video-call media dialogs and 18 of 94 streaming dialogs came out `unknown`.
 *
 * Cost. A plain scan is linear in the number of references: measured on 106 features, 10
 * overlapping classes (2 cores, Node 20), maxPerClass 2000 (20 000 refs) ≈ 540 vectors/s, 500 ≈
 * 2 300/s, 200 ≈ 5 700/s, all flagging 0.7–0.8 % of fresh normal points. Hence the shipped
 * models keep 24 k-means centres per class (240 references), and reference-search.ts finds the
 * nearest ones in ascending order of a cheap lower bound and stops as soon as the verdict is
 * settled: on the 58 k dialogs of the 1 M-packet benchmark, ≈ 10 µs → ≈ 3 µs a dialog, with the
 * very same verdicts.
 */

import { invalid, JsonObject, NON_NEGATIVE, POSITIVE, PROBABILITY } from '../common/json-checks';
import { kMeans } from './kmeans';
import { Prng } from '../common/prng';
import type { UsageClass } from '../labels';
import { sampleWithoutReplacement, weightedBootstrap } from './imbalance';
import { ReferenceSearch } from './reference-search';
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
  /** Compare features on a signed log scale, sign(x)·ln(1+|x|) (default false). */
  readonly logScale?: boolean;
  /**
   * With centresPerClass: measure the distance to each centre in units of that centre's radius
   * (the RMS distance of the training points it summarises, floored at half the median radius),
   * so a sparse cluster — video calls, each at its own bitrate — is not "far" merely for being
   * wide. Default false.
   */
  readonly relativeToRadius?: boolean;
  /**
   * A source per held-out vector (e.g. simulated or real traffic). The distance threshold and
   * the low-confidence cut are then calibrated per source with at least MIN_GROUP_SIZE held-out
   * vectors, and the loosest is kept, so that no source sees more than about 1 − percentile of
   * its normal dialogs flagged: real traffic, farther from the mostly simulated references,
   * would otherwise lose a third of its dialogs to `unknown`.
   */
  readonly heldOutGroups?: readonly string[];
}

/** Held-out vectors a source needs before it takes part in calibration. */
export const MIN_GROUP_SIZE = 10;

/** Indices of `heldOut` per group (all in one group without groups); groups below MIN_GROUP_SIZE dropped unless none is left. */
function calibrationGroups(count: number, groups: readonly string[] | undefined): number[][] {
  if (groups === undefined) return [Array.from({ length: count }, (_, i) => i)];
  if (groups.length !== count) throw new RangeError('OutlierDetector.fit: one held-out group per held-out vector');
  const byGroup = new Map<string, number[]>();
  groups.forEach((group, i) => {
    const list = byGroup.get(group);
    if (list === undefined) byGroup.set(group, [i]);
    else list.push(i);
  });
  const large = [...byGroup.values()].filter((list) => list.length >= MIN_GROUP_SIZE);
  return large.length > 0 ? large : [Array.from({ length: count }, (_, i) => i)];
}

/** sign(x)·ln(1+|x|): monotone, 0 at 0, compresses heavy tails. */
export function signedLog(x: number): number {
  return x >= 0 ? Math.log1p(x) : -Math.log1p(-x);
}

function signedLogVector(vector: Float64Array): Float64Array {
  return vector.map(signedLog);
}

export interface OutlierDetectorJson {
  readonly format: 'cumma-outliers';
  readonly version: 1;
  readonly k: number;
  readonly threshold: number;
  readonly minConfidence: number;
  readonly percentile: number;
  /** Features go through signedLog before the scaler (absent: false). */
  readonly logScale?: boolean;
  /** Per reference, the radius distances to it are divided by (absent: all 1). */
  readonly radii?: number[];
  readonly scaler: ScalerJson;
  readonly featureCount: number;
  /** Standardised reference vectors, row-major (references × featureCount). */
  readonly references: number[];
}

export class OutlierDetector {
  private readonly scratch: Float64Array;
  private readonly logged: Float64Array;
  private readonly search: ReferenceSearch;

  private constructor(
    readonly k: number,
    readonly threshold: number,
    readonly minConfidence: number,
    readonly percentile: number,
    private readonly scaler: StandardScaler,
    private readonly references: Float64Array,
    readonly logScale: boolean,
    private readonly radii: Float64Array | undefined,
  ) {
    const inverseSquaredRadii = radii === undefined ? undefined : radii.map((r) => 1 / (r * r));
    this.search = new ReferenceSearch(references, scaler.featureCount, inverseSquaredRadii, k);
    this.scratch = new Float64Array(scaler.featureCount);
    this.logged = new Float64Array(scaler.featureCount);
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
    training: readonly { readonly features: Float64Array; readonly label: UsageClass; readonly weight?: number }[],
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
      if (heldOutScores.length !== heldOut.length) throw new RangeError('OutlierDetector.fit: one score vector per held-out vector');
      minConfidence = Math.min(
        ...calibrationGroups(heldOut.length, options.heldOutGroups).map((group) =>
          quantile(Float64Array.from(group, (i) => Math.max(...Array.from(heldOutScores[i]!))).sort(), q),
        ),
      );
    }
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, not ${k}`);
    if (!(percentile > 0 && percentile <= 1)) throw new RangeError(`percentile must be in (0, 1], not ${percentile}`);
    const logScale = options.logScale ?? false;
    const scale = (v: Float64Array): Float64Array => (logScale ? signedLogVector(v) : v);
    const scaler = StandardScaler.fit(training.map((s) => scale(s.features)));
    const f = scaler.featureCount;
    const byClass = new Map<UsageClass, number[]>();
    training.forEach((s, i) => {
      let list = byClass.get(s.label);
      if (list === undefined) byClass.set(s.label, (list = []));
      list.push(i);
    });
    const prng = new Prng(options.seed ?? 1);
    const rows: Float64Array[] = [];
    const radiusParts: Float64Array[] = [];
    const row = new Float64Array(f);
    for (const list of byClass.values()) {
      // Weighted samples (LabelledVector.weight) are drawn with probability ∝ weight, so a few
      // heavily weighted real dialogs are represented as the classifier represents them.
      const weighted = list.some((i) => (training[i]!.weight ?? 1) !== 1);
      if (weighted && !list.some((i) => (training[i]!.weight ?? 1) > 0)) continue; // a class nobody weighs has no references
      const picked = weighted
        ? Array.from(weightedBootstrap(list.length, Math.min(maxPerClass, list.length), prng, list.map((i) => training[i]!.weight ?? 1)), (j) => list[j]!)
        : sampleWithoutReplacement(list.length, maxPerClass, prng).map((j) => list[j]!);
      const points = new Float64Array(picked.length * f);
      picked.forEach((i, r) => {
        scaler.transformInto(scale(training[i]!.features), row);
        points.set(row, r * f);
      });
      const part = options.centresPerClass !== undefined ? kMeans(points, f, options.centresPerClass, prng) : points;
      rows.push(part);
      if (options.relativeToRadius === true && options.centresPerClass !== undefined) radiusParts.push(clusterRadii(points, part, f));
    }
    let radii: Float64Array | undefined;
    if (radiusParts.length > 0) {
      radii = new Float64Array(radiusParts.reduce((sum, part) => sum + part.length, 0));
      let at = 0;
      for (const part of radiusParts) {
        radii.set(part, at);
        at += part.length;
      }
      const positive = Float64Array.from(radii.filter((r) => r > 0)).sort();
      const floor = positive.length > 0 ? 0.5 * quantile(positive, 0.5) : 1;
      for (let i = 0; i < radii.length; i++) radii[i] = Math.max(floor, radii[i]!);
    }
    const references = new Float64Array(rows.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of rows) {
      references.set(part, offset);
      offset += part.length;
    }
    const referenceCount = references.length / f;
    if (referenceCount === 0) throw new RangeError('OutlierDetector.fit: no reference vectors (every weight is 0)');
    const kk = Math.min(k, referenceCount);
    const probe = new OutlierDetector(kk, Infinity, minConfidence, percentile, scaler, references, logScale, radii);
    const distances = Float64Array.from(heldOut, (v) => probe.distance(v));
    const threshold = Math.max(
      ...calibrationGroups(heldOut.length, options.heldOutGroups).map((group) => quantile(Float64Array.from(group, (i) => distances[i]!).sort(), percentile)),
    );
    return new OutlierDetector(kk, threshold, minConfidence, percentile, scaler, references, logScale, radii);
  }

  /**
   * A detector read from a file, every member checked (InvalidMemberError names the bad one
   * under `path`): a damaged detector must not load, since a null in the scaler or the
   * references, or a threshold of NaN, silently turns every dialog `unknown` or none.
   */
  static fromJSON(value: unknown, path = 'outliers'): OutlierDetector {
    const json = JsonObject.at(value, path, 'the outlier detector (an object)');
    json.literal('format', 'cumma-outliers');
    json.literal('version', 1);
    const featureCount = json.number('featureCount', { min: 1, integer: true });
    const scaler = StandardScaler.fromJSON(json.get('scaler'), json.pathOf('scaler'), featureCount);
    const references = json.numbers('references');
    const referenceCount = references.length / featureCount;
    // References are k-means centres or training points, featureCount numbers each.
    if (!Number.isInteger(referenceCount) || referenceCount === 0) {
      invalid(json.pathOf('references'), `a non-empty whole number of references of featureCount (${featureCount}) numbers each`, references);
    }
    const k = json.number('k', { min: 1, max: referenceCount, integer: true });
    const threshold = json.number('threshold', NON_NEGATIVE);
    const minConfidence = json.number('minConfidence', PROBABILITY);
    const percentile = json.number('percentile', { above: 0, max: 1 });
    const logScale = json.has('logScale') ? json.boolean('logScale') : false;
    // A radius of 0 would make its reference's weight 1/r² infinite.
    const radii = json.has('radii') ? json.numbers('radii', POSITIVE, { length: referenceCount, why: 'one per reference' }) : undefined;
    return new OutlierDetector(
      k,
      threshold,
      minConfidence,
      percentile,
      scaler,
      Float64Array.from(references),
      logScale,
      radii === undefined ? undefined : Float64Array.from(radii),
    );
  }

  /**
   * Mean distance (standardised space) from `vector` to its k nearest references; with radii,
   * each distance is divided by its reference's radius.
   */
  distance(vector: Float64Array): number {
    return this.search.meanDistance(this.standardise(vector));
  }

  /** Far from every class (distance above the threshold). */
  isFar(vector: Float64Array): boolean {
    // The search may stop as soon as the distance is known to be within the threshold.
    return this.search.meanDistance(this.standardise(vector), this.threshold) > this.threshold;
  }

  /** `vector` on the references' scale, in a scratch array overwritten by the next call. */
  private standardise(vector: Float64Array): Float64Array {
    const f = this.scaler.featureCount;
    const x = this.scratch;
    if (this.logScale) {
      if (vector.length !== f) throw new RangeError(`outliers: vector of length ${vector.length}, expected ${f}`);
      // Most features of a short dialog are 0, which signedLog keeps (±0 included).
      for (let j = 0; j < f; j++) {
        const value = vector[j]!;
        this.logged[j] = value === 0 ? value : signedLog(value);
      }
      this.scaler.transformInto(this.logged, x);
    } else {
      this.scaler.transformInto(vector, x);
    }
    return x;
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
      ...(this.logScale ? { logScale: true } : {}),
      ...(this.radii !== undefined ? { radii: Array.from(this.radii) } : {}),
      scaler: this.scaler.toJSON(),
      featureCount: this.scaler.featureCount,
      references: Array.from(this.references),
    };
  }
}

/** Per centre, the RMS distance of the points nearest to it (0 for a centre no point is nearest to). */
function clusterRadii(points: Float64Array, centres: Float64Array, f: number): Float64Array {
  const k = centres.length / f;
  const n = points.length / f;
  const sums = new Float64Array(k);
  const counts = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestDistance = Infinity;
    for (let c = 0; c < k; c++) {
      let d = 0;
      for (let j = 0; j < f; j++) {
        const e = points[i * f + j]! - centres[c * f + j]!;
        d += e * e;
      }
      if (d < bestDistance) {
        bestDistance = d;
        best = c;
      }
    }
    sums[best]! += bestDistance;
    counts[best]!++;
  }
  return Float64Array.from(sums, (sum, c) => (counts[c]! > 0 ? Math.sqrt(sum / counts[c]!) : 0));
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
