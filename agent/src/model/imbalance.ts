/**
 * Class imbalance handling, as training options (issue 4): class weights and balanced
 * resampling. Everything random is seeded (common/prng.ts), so one seed gives one result.
 *
 * - classWeights(): inverse class frequency, normalised so that the weighted count of every
 *   sample sums to the number of samples (scikit-learn's "balanced": w_c = n / (C · n_c)).
 * - resampleBalanced(): undersample classes above the target and/or oversample (with
 *   replacement) classes below it.
 * - weightedBootstrap(): draws sample indices with probability proportional to a weight. The
 *   random forest has no class_weight option in ml-random-forest, so class weights are applied
 *   by drawing each tree's bootstrap sample with probability ∝ the weight of the sample's class:
 *   in expectation every class then contributes equally to each tree.
 */

import { Prng } from '../common/prng';
import type { UsageClass } from '../labels';

export interface LabelledVector {
  readonly features: Float64Array;
  readonly label: UsageClass;
  /**
   * Importance of the sample (default 1): the random forest draws it into each tree's bootstrap
   * with probability ∝ weight (× its class weight). Used to let a few real dialogs count among
   * many simulated ones. k-NN ignores it.
   */
  readonly weight?: number;
}

/** Samples per class, in the order of `classes` (labels outside `classes` are not counted). */
export function classCounts(labels: readonly UsageClass[], classes: readonly UsageClass[]): number[] {
  const index = new Map(classes.map((c, i) => [c, i] as const));
  const counts = new Array<number>(classes.length).fill(0);
  for (const label of labels) {
    const i = index.get(label);
    if (i !== undefined) counts[i]!++;
  }
  return counts;
}

/**
 * Inverse-frequency weights per class (order of `classes`), normalised so that
 * Σ_samples w(label) = n. A class without samples gets weight 0.
 */
export function classWeights(labels: readonly UsageClass[], classes: readonly UsageClass[]): number[] {
  const counts = classCounts(labels, classes);
  const n = counts.reduce((a, b) => a + b, 0);
  const present = counts.filter((c) => c > 0).length;
  return counts.map((c) => (c > 0 ? n / (present * c) : 0));
}

export type ResampleMode = 'under' | 'over' | 'both';

export interface BalanceOptions {
  /**
   * `under`: cut classes above the target down to it (target defaults to the smallest class).
   * `over`: draw classes below the target up to it with replacement (default: the largest class).
   * `both`: both, to the target (default: the median class size).
   */
  readonly mode: ResampleMode;
  readonly targetPerClass?: number;
  readonly seed?: number;
}

/**
 * A balanced copy of `samples`: classes are processed in order of first appearance, each class's
 * samples keep their original order when undersampled (a seeded choice without replacement) and
 * are all kept, plus seeded draws with replacement, when oversampled. Deterministic for a seed.
 */
export function resampleBalanced<T extends { readonly label: UsageClass }>(
  samples: readonly T[],
  options: BalanceOptions,
): T[] {
  const byClass = new Map<UsageClass, T[]>();
  for (const s of samples) {
    let list = byClass.get(s.label);
    if (list === undefined) byClass.set(s.label, (list = []));
    list.push(s);
  }
  if (byClass.size === 0) return [];
  const sizes = [...byClass.values()].map((l) => l.length).sort((a, b) => a - b);
  const defaultTarget =
    options.mode === 'under'
      ? sizes[0]!
      : options.mode === 'over'
        ? sizes[sizes.length - 1]!
        : sizes[Math.floor((sizes.length - 1) / 2)]!;
  const target = options.targetPerClass ?? defaultTarget;
  if (!Number.isInteger(target) || target < 1) throw new RangeError(`targetPerClass must be a positive integer, not ${target}`);
  const prng = new Prng(options.seed ?? 1);
  const out: T[] = [];
  for (const list of byClass.values()) {
    if (list.length > target && options.mode !== 'over') {
      for (const i of sampleWithoutReplacement(list.length, target, prng)) out.push(list[i]!);
    } else if (list.length < target && options.mode !== 'under') {
      out.push(...list);
      for (let k = list.length; k < target; k++) out.push(list[Math.floor(prng.next() * list.length)]!);
    } else {
      out.push(...list);
    }
  }
  return out;
}

/** `count` distinct indices in [0, n), in increasing order (partial Fisher–Yates). */
export function sampleWithoutReplacement(n: number, count: number, prng: Prng): number[] {
  if (count >= n) return Array.from({ length: n }, (_, i) => i);
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(prng.next() * (n - i));
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  return Array.from(idx.subarray(0, count)).sort((a, b) => a - b);
}

/**
 * `count` indices drawn with replacement, index i with probability weights[i] / Σ weights
 * (uniform when `weights` is undefined). Cumulative sums and binary search: O(count · log n).
 */
export function weightedBootstrap(
  n: number,
  count: number,
  prng: Prng,
  weights?: ArrayLike<number>,
): Int32Array {
  const out = new Int32Array(count);
  if (n === 0) return out;
  if (weights === undefined) {
    for (let k = 0; k < count; k++) out[k] = Math.floor(prng.next() * n);
    return out;
  }
  if (weights.length !== n) throw new RangeError('weightedBootstrap: one weight per sample');
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i]!;
    if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`weightedBootstrap: bad weight ${w}`);
    total += w;
    cumulative[i] = total;
  }
  if (!(total > 0)) throw new RangeError('weightedBootstrap: all weights are 0');
  for (let k = 0; k < count; k++) {
    const r = prng.next() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    out[k] = lo;
  }
  return out;
}
