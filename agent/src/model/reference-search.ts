/**
 * The outlier check's k-nearest-reference distance (outliers.ts), computed exactly but with
 * far less arithmetic than a scan of every reference.
 *
 * Definition (what a brute-force scan computes, and what this returns bit for bit): for each
 * reference r, D(r) = (Σ_j (x_j − r_j)², summed in feature order) · w_r, with w_r = 1 without
 * weights; the distance is (√b_0 + √b_1 + … + √b_{k−1}) / k over the k smallest D, ascending.
 *
 * How it saves work, each step exact in floating point because a partial sum of non-negative
 * terms never exceeds the full sum and rounding is monotone:
 * 1. The first KEY_FEATURES terms of every reference's sum are computed first (from a compact
 *    copy of those columns); prefix · w_r is a lower bound of D(r). In the current schema these
 *    are a dialog's up-packet count, up bytes and up duration: coarse, but enough to rank the
 *    references, and cheap.
 * 2. References are finished in ascending order of that bound, each sum continued from its
 *    prefix so that it is the same number as a plain scan's. The nearest almost always come
 *    first: on the benchmark 4 references are finished per vector instead of 240. When the
 *    smallest bound left is ≥ the current k-th best, no remaining reference can enter.
 * 3. A sum is abandoned as soon as its partial value, weighted, reaches the current k-th best.
 * 4. With a `bound` (isFar's threshold), the search stops as soon as the k best found so far
 *    give a mean ≤ bound: the k smallest overall are each ≤ the ones found, so their computed
 *    mean is too (square root, sum and division all round monotonically).
 * The FIRST_BATCH smallest bounds are collected during the bound pass itself; further
 * references are selected by a scan each, and past SELECTED_FIRST of them (a far point, where
 * the order stops paying for its scans) the rest are scanned in index order with the same pruning.
 */

/** Features of the lower bound: few, since it is computed for every reference. */
const KEY_FEATURES = 3;
/** References with the smallest bounds, collected while the bounds are computed. */
const FIRST_BATCH = 4;
/** References finished in ascending order of their lower bound before a plain scan of the rest. */
const SELECTED_FIRST = 12;
/** Features added between two pruning checks of a running sum. */
const CHECK_EVERY = 8;

export class ReferenceSearch {
  readonly count: number;
  private readonly keyLength: number;
  /** The references' first keyLength features, count × keyLength. */
  private readonly keyReferences: Float64Array;
  /** Per reference, its sum over the first keyLength features, and that weighted (Infinity once finished). */
  private readonly prefix: Float64Array;
  private readonly lowerBound: Float64Array;
  /** Indices of the FIRST_BATCH smallest bounds, ascending by bound, and those bounds. */
  private readonly firstIndices: Int32Array;
  private readonly firstBounds: Float64Array;
  /** The k smallest weighted squared distances found so far, ascending. */
  private readonly best: Float64Array;

  /**
   * @param references row-major, count × featureCount
   * @param weights per reference, the factor its squared distance is multiplied by (undefined: 1)
   */
  constructor(
    private readonly references: Float64Array,
    private readonly featureCount: number,
    private readonly weights: Float64Array | undefined,
    readonly k: number,
  ) {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, not ${k}`);
    this.count = featureCount > 0 ? references.length / featureCount : 0;
    if (!Number.isInteger(this.count)) throw new RangeError('references: length is not a multiple of the feature count');
    if (weights !== undefined && weights.length !== this.count) throw new RangeError('references: one weight per reference');
    const keys = Math.min(KEY_FEATURES, featureCount);
    this.keyLength = keys;
    this.keyReferences = new Float64Array(this.count * keys);
    for (let r = 0; r < this.count; r++) {
      for (let d = 0; d < keys; d++) this.keyReferences[r * keys + d] = references[r * featureCount + d]!;
    }
    this.prefix = new Float64Array(this.count);
    this.lowerBound = new Float64Array(this.count);
    this.firstIndices = new Int32Array(FIRST_BATCH);
    this.firstBounds = new Float64Array(FIRST_BATCH);
    this.best = new Float64Array(k);
  }

  /**
   * The mean distance to the k nearest references (see the file comment); with `bound`, may
   * stop early and return some value ≤ bound once the exact distance is known to be ≤ bound.
   * `x` must already be on the references' scale.
   */
  meanDistance(x: Float64Array, bound = -Infinity): number {
    const weights = this.weights;
    const count = this.count;
    const lower = this.lowerBound;
    const best = this.best;
    const k = best.length;
    best.fill(Infinity);

    const keys = this.keyLength;
    const keyRefs = this.keyReferences;
    const prefix = this.prefix;
    const firstIndices = this.firstIndices;
    const firstBounds = this.firstBounds;
    firstBounds.fill(Infinity);
    firstIndices.fill(-1);
    const last = FIRST_BATCH - 1;
    for (let r = 0, base = 0; r < count; r++, base += keys) {
      let sum = 0;
      for (let d = 0; d < keys; d++) {
        const e = x[d]! - keyRefs[base + d]!;
        sum += e * e;
      }
      prefix[r] = sum;
      const weighted = weights === undefined ? sum : sum * weights[r]!;
      lower[r] = weighted;
      if (weighted < firstBounds[last]!) {
        let at = last;
        while (at > 0 && firstBounds[at - 1]! > weighted) {
          firstBounds[at] = firstBounds[at - 1]!;
          firstIndices[at] = firstIndices[at - 1]!;
          at--;
        }
        firstBounds[at] = weighted;
        firstIndices[at] = r;
      }
    }

    // Nearest bounds first; a finished or skipped reference gets bound Infinity.
    for (let i = 0; i < FIRST_BATCH; i++) {
      const r = firstIndices[i]!;
      if (r < 0 || !(firstBounds[i]! < best[k - 1]!)) return this.mean();
      lower[r] = Infinity;
      if (this.finish(x, r) && this.within(bound)) return this.mean();
    }
    for (let pick = FIRST_BATCH; pick < SELECTED_FIRST && pick < count; pick++) {
      let r = -1;
      let smallest = Infinity;
      for (let i = 0; i < count; i++) {
        if (lower[i]! < smallest) {
          smallest = lower[i]!;
          r = i;
        }
      }
      if (r < 0 || !(smallest < best[k - 1]!)) return this.mean();
      lower[r] = Infinity;
      if (this.finish(x, r) && this.within(bound)) return this.mean();
    }
    for (let r = 0; r < count; r++) {
      if (!(lower[r]! < best[k - 1]!)) continue;
      if (this.finish(x, r) && this.within(bound)) return this.mean();
    }
    return this.mean();
  }

  /** Completes reference r's sum from its prefix unless it cannot enter the k best; true when it entered. */
  private finish(x: Float64Array, r: number): boolean {
    const f = this.featureCount;
    const refs = this.references;
    const base = r * f;
    const weight = this.weights === undefined ? 1 : this.weights[r]!;
    const best = this.best;
    const k = best.length;
    const limit = best[k - 1]!;
    let sum = this.prefix[r]!;
    let j = this.keyLength;
    while (j < f) {
      const stop = Math.min(f, j + CHECK_EVERY);
      for (; j < stop; j++) {
        const d = x[j]! - refs[base + j]!;
        sum += d * d;
      }
      if (sum * weight >= limit) return false;
    }
    const distance = this.weights === undefined ? sum : sum * weight;
    if (!(distance < limit)) return false;
    let at = k - 1;
    while (at > 0 && best[at - 1]! > distance) {
      best[at] = best[at - 1]!;
      at--;
    }
    best[at] = distance;
    return true;
  }

  /** k references found so far have a mean distance ≤ bound. */
  private within(bound: number): boolean {
    return bound > -Infinity && this.best[this.best.length - 1]! < Infinity && this.mean() <= bound;
  }

  /** (√best_0 + … + √best_{k−1}) / k, summed in ascending order. */
  private mean(): number {
    const best = this.best;
    let total = 0;
    for (let i = 0; i < best.length; i++) total += Math.sqrt(best[i]!);
    return total / best.length;
  }
}
