/**
 * A fast CART grower for the random forest (random-forest.ts): Gini splits over features
 * pre-quantised into at most 256 bins, a fresh random subset of features at every split.
 *
 * Why not ml-cart (what ml-random-forest trains with): it tries every label change of every
 * feature as a threshold and re-partitions the node for each, so one tree costs O(n²) in its
 * samples (TOOLING.md: one tree on 5 000 × 40 ≈ 12 s). That forced 600 samples per tree — 3 % of
 * a 20 k-dialog training set — which is what held the forest back. Here a node costs
 * O(n_node · m) for m candidate features, so a tree on n rows costs about O(n · m · depth):
 * 100 trees on full 20 k-row bootstraps train in seconds. The trees are written in ml-cart's own
 * JSON shape (random-forest.ts), so ml-random-forest loads and predicts with them unchanged.
 *
 * Definitions:
 * - Bins (binFeatures): per feature, the training values are cut at up to 255 edges. With at
 *   most 256 distinct values every gap between consecutive distinct values is an edge (exact
 *   CART); with more, edges sit at the 1/256 quantiles. An edge is the shortest decimal strictly
 *   between the two distinct values it separates, so `x < edge` splits training data exactly as
 *   the midpoint would, and prints short. code(x) = number of edges ≤ x; a split after bin b
 *   sends x left when x < edges[b] (⇔ code(x) ≤ b): the `<` test ml-cart and the compiled
 *   trees use.
 * - Split choice: the split minimising the children's weighted Gini impurity
 *   nL·giniL + nR·giniR over m features drawn at random without replacement per node (more are
 *   drawn when none of the m can split the node), first found on ties. Gain = gini(node) −
 *   weighted child impurity / n, as ml-cart reports it.
 * - A node becomes a leaf when it holds ≤ minNumSamples rows, is pure, has reached maxDepth, or
 *   its best gain is ≤ gainThreshold. A leaf stores its class fractions.
 */

import { Prng } from '../common/prng';

export const MAX_BINS = 256;

export interface BinnedMatrix {
  readonly rows: number;
  readonly features: number;
  /** Column-major bin codes: codes[j * rows + i] is row i's code for feature j. */
  readonly codes: Uint8Array;
  /** Per feature, its ascending edges (thresholds); edges[j].length + 1 bins. */
  readonly edges: readonly Float64Array[];
}

/**
 * The shortest decimal strictly between lo < hi (fewest significant digits; the midpoint when
 * the two are too close for that to help).
 */
export function shortestBetween(lo: number, hi: number): number {
  for (let digits = 1; digits <= 17; digits++) {
    const candidate = Number(((lo + hi) / 2).toPrecision(digits));
    if (candidate > lo && candidate < hi) return candidate;
  }
  return (lo + hi) / 2;
}

export function binFeatures(vectors: readonly Float64Array[], maxBins = MAX_BINS): BinnedMatrix {
  if (maxBins < 2 || maxBins > 256) throw new RangeError(`maxBins must be in [2, 256], not ${maxBins}`);
  const rows = vectors.length;
  const features = rows > 0 ? vectors[0]!.length : 0;
  const codes = new Uint8Array(rows * features);
  const edges: Float64Array[] = [];
  const column = new Float64Array(rows);
  for (let j = 0; j < features; j++) {
    for (let i = 0; i < rows; i++) column[i] = vectors[i]![j]!;
    const sorted = Float64Array.from(column).sort();
    const distinct: number[] = [];
    for (let i = 0; i < rows; i++) if (i === 0 || sorted[i]! !== sorted[i - 1]!) distinct.push(sorted[i]!);
    const cuts: number[] = [];
    if (distinct.length <= maxBins) {
      for (let k = 1; k < distinct.length; k++) cuts.push(shortestBetween(distinct[k - 1]!, distinct[k]!));
    } else {
      // Edges below the values found at the 1/maxBins quantiles (each distinct value once).
      let previousUpper = -Infinity;
      for (let k = 1; k < maxBins; k++) {
        const value = sorted[Math.floor((k * rows) / maxBins)]!;
        if (value <= previousUpper || value === distinct[0]) continue;
        const below = largestBelow(distinct, value);
        cuts.push(shortestBetween(below, value));
        previousUpper = value;
      }
    }
    const featureEdges = Float64Array.from(cuts);
    edges.push(featureEdges);
    const base = j * rows;
    for (let i = 0; i < rows; i++) codes[base + i] = codeOf(featureEdges, column[i]!);
  }
  return { rows, features, codes, edges };
}

/** Largest element of ascending `distinct` below `value` (value is not the smallest). */
function largestBelow(distinct: readonly number[], value: number): number {
  let lo = 0;
  let hi = distinct.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (distinct[mid]! < value) lo = mid;
    else hi = mid - 1;
  }
  return distinct[lo]!;
}

/** Number of edges ≤ x. */
export function codeOf(edges: Float64Array, x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface TreeGrowOptions {
  /** Candidate features per split. */
  readonly featuresPerSplit: number;
  readonly minNumSamples: number;
  readonly maxDepth: number;
  readonly gainThreshold: number;
}

/** A grown tree as flat arrays: node i is a leaf when feature[i] < 0. */
export interface GrownTree {
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly gain: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** Per node, its class fractions (classCount values per node); meaningful for leaves. */
  readonly distribution: Float64Array;
  readonly classCount: number;
}

/** Below this many rows per bin, a node sorts its rows instead of building a histogram. */
const SORT_ROWS_PER_BIN = 4;

/**
 * Grows one tree on the rows listed in `sample` (indices into `matrix`, repeats allowed: a
 * bootstrap), with integer labels in [0, classCount).
 */
export function growTree(
  matrix: BinnedMatrix,
  labels: Int32Array,
  classCount: number,
  sample: Int32Array,
  options: TreeGrowOptions,
  prng: Prng,
): GrownTree {
  const c = classCount;
  const rows = matrix.rows;
  const codes = matrix.codes;
  const idx = Int32Array.from(sample);
  const m = idx.length;
  const featureOrder = Int32Array.from({ length: matrix.features }, (_, j) => j);
  const hist = new Float64Array(MAX_BINS * c);
  const binTotal = new Int32Array(MAX_BINS);
  const keys = new Int32Array(m);
  const counts = new Float64Array(c);
  const left = new Float64Array(c);
  const right = new Float64Array(c);

  const nodeFeature: number[] = [];
  const nodeThreshold: number[] = [];
  const nodeGain: number[] = [];
  const nodeLeft: number[] = [];
  const nodeRight: number[] = [];
  const nodeDistribution: number[] = [];

  // Depth-first, left child first: node ids in preorder (the order ml-cart's JSON nests them).
  const stack: { lo: number; hi: number; depth: number; parent: number; isLeft: boolean }[] = [{ lo: 0, hi: m, depth: 0, parent: -1, isLeft: true }];
  while (stack.length > 0) {
    const { lo, hi, depth, parent, isLeft } = stack.pop()!;
    const id = nodeFeature.length;
    if (parent >= 0) {
      if (isLeft) nodeLeft[parent] = id;
      else nodeRight[parent] = id;
    }
    const n = hi - lo;
    counts.fill(0);
    for (let k = lo; k < hi; k++) counts[labels[idx[k]!]!]! += 1;
    let sumSquares = 0;
    let present = 0;
    for (let k = 0; k < c; k++) {
      sumSquares += counts[k]! * counts[k]!;
      if (counts[k]! > 0) present++;
    }
    nodeFeature.push(-1);
    nodeThreshold.push(0);
    nodeGain.push(0);
    nodeLeft.push(-1);
    nodeRight.push(-1);
    for (let k = 0; k < c; k++) nodeDistribution.push(n > 0 ? counts[k]! / n : 0);
    if (n <= options.minNumSamples || present <= 1 || depth >= options.maxDepth) continue;

    const parentImpurity = n - sumSquares / n; // n · gini(node)
    let bestImpurity = Infinity;
    let bestFeature = -1;
    let bestBin = -1;
    let usable = 0;
    // Random features without replacement (partial Fisher–Yates), more if none of them splits.
    for (let drawn = 0; drawn < matrix.features && (usable < options.featuresPerSplit || bestFeature < 0); drawn++) {
      const pick = drawn + Math.floor(prng.next() * (matrix.features - drawn));
      const feature = featureOrder[pick]!;
      featureOrder[pick] = featureOrder[drawn]!;
      featureOrder[drawn] = feature;
      const base = feature * rows;
      const binCount = matrix.edges[feature]!.length + 1;
      if (binCount < 2) continue;

      let splittable = false;
      left.fill(0);
      right.set(counts);
      let sumLeft = 0;
      let sumRight = sumSquares;
      let nLeft = 0;
      if (n >= SORT_ROWS_PER_BIN * binCount) {
        hist.fill(0, 0, binCount * c);
        binTotal.fill(0, 0, binCount);
        for (let k = lo; k < hi; k++) {
          const row = idx[k]!;
          const code = codes[base + row]!;
          hist[code * c + labels[row]!]! += 1;
          binTotal[code]!++;
        }
        let remaining = n;
        for (let b = 0; b < binCount - 1; b++) {
          const total = binTotal[b]!;
          if (total === 0) continue;
          remaining -= total;
          if (remaining === 0) break;
          const at = b * c;
          for (let k = 0; k < c; k++) {
            const h = hist[at + k]!;
            if (h === 0) continue;
            const l = left[k]!;
            const r = right[k]!;
            sumLeft += 2 * l * h + h * h;
            sumRight += h * h - 2 * r * h;
            left[k] = l + h;
            right[k] = r - h;
          }
          nLeft += total;
          splittable = true;
          const impurity = nLeft - sumLeft / nLeft + (n - nLeft) - sumRight / (n - nLeft);
          if (impurity < bestImpurity) {
            bestImpurity = impurity;
            bestFeature = feature;
            bestBin = b;
          }
        }
      } else {
        const slice = keys.subarray(0, n);
        for (let k = lo; k < hi; k++) {
          const row = idx[k]!;
          slice[k - lo] = codes[base + row]! * c + labels[row]!;
        }
        slice.sort();
        for (let k = 0; k < n - 1; k++) {
          const key = slice[k]!;
          const label = key % c;
          const l = left[label]!;
          const r = right[label]!;
          sumLeft += 2 * l + 1;
          sumRight -= 2 * r - 1;
          left[label] = l + 1;
          right[label] = r - 1;
          nLeft++;
          const code = (key - label) / c;
          if (((slice[k + 1]! - (slice[k + 1]! % c)) / c) === code) continue;
          splittable = true;
          const impurity = nLeft - sumLeft / nLeft + (n - nLeft) - sumRight / (n - nLeft);
          if (impurity < bestImpurity) {
            bestImpurity = impurity;
            bestFeature = feature;
            bestBin = code;
          }
        }
      }
      if (splittable) usable++;
    }
    if (bestFeature < 0) continue;
    const gain = (parentImpurity - bestImpurity) / n;
    if (!(gain > options.gainThreshold)) continue;

    // Partition idx[lo, hi): codes ≤ bestBin first.
    const base = bestFeature * rows;
    let i = lo;
    let j = hi - 1;
    while (i <= j) {
      if (codes[base + idx[i]!]! <= bestBin) i++;
      else {
        const t = idx[i]!;
        idx[i] = idx[j]!;
        idx[j] = t;
        j--;
      }
    }
    nodeFeature[id] = bestFeature;
    nodeThreshold[id] = matrix.edges[bestFeature]![bestBin]!;
    nodeGain[id] = gain;
    // Right pushed first so the left subtree is grown (and numbered) first.
    stack.push({ lo: i, hi, depth: depth + 1, parent: id, isLeft: false });
    stack.push({ lo, hi: i, depth: depth + 1, parent: id, isLeft: true });
  }
  return {
    feature: Int32Array.from(nodeFeature),
    threshold: Float64Array.from(nodeThreshold),
    gain: Float64Array.from(nodeGain),
    left: Int32Array.from(nodeLeft),
    right: Int32Array.from(nodeRight),
    distribution: Float64Array.from(nodeDistribution),
    classCount: c,
  };
}
