import { describe, expect, it } from 'vitest';
import { Prng } from '../../agent/src/common/prng';
import { binFeatures, codeOf, growTree, shortestBetween, type TreeGrowOptions } from '../../agent/src/model/histogram-tree';

const rows = (...columns: number[][]): Float64Array[] => columns[0]!.map((_, i) => Float64Array.from(columns, (column) => column[i]!));
const all = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);
const options = (overrides: Partial<TreeGrowOptions> = {}): TreeGrowOptions => ({ featuresPerSplit: 8, minNumSamples: 0, maxDepth: Infinity, gainThreshold: 0, ...overrides });

/** Gini impurity × n of a label multiset. */
function weightedGini(labels: number[]): number {
  if (labels.length === 0) return 0;
  const counts = new Map<number, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  let squares = 0;
  for (const c of counts.values()) squares += c * c;
  return labels.length - squares / labels.length;
}

/** Exact CART at the root: the best gain over every feature and every gap between distinct values. */
function bruteForceBestGain(vectors: Float64Array[], labels: Int32Array): number {
  const n = vectors.length;
  const parent = weightedGini(Array.from(labels));
  let best = Infinity;
  for (let j = 0; j < vectors[0]!.length; j++) {
    const values = [...new Set(vectors.map((v) => v[j]!))].sort((a, b) => a - b);
    for (let k = 1; k < values.length; k++) {
      const left: number[] = [];
      const right: number[] = [];
      vectors.forEach((v, i) => (v[j]! < values[k]! ? left : right).push(labels[i]!));
      best = Math.min(best, weightedGini(left) + weightedGini(right));
    }
  }
  return (parent - best) / n;
}

describe('shortestBetween', () => {
  it('picks the decimal with fewest significant digits strictly between two values', () => {
    expect(shortestBetween(1, 2)).toBe(1.5);
    expect(shortestBetween(100, 200)).toBe(150); // 2e2 is not below 200
    expect(shortestBetween(0.1, 0.3)).toBe(0.2);
    expect(shortestBetween(123.456, 123.9)).toBe(123.7); // 100, 120, 124 fail; 123.7 fits
    expect(shortestBetween(-3, -1)).toBe(-2);
    const tight = shortestBetween(1, 1 + 2 ** -50);
    expect(tight > 1 && tight < 1 + 2 ** -50).toBe(true);
  });
});

describe('binFeatures', () => {
  it('cuts between every pair of distinct values when there are few, one bin for a constant feature', () => {
    const matrix = binFeatures(rows([3, 1, 2, 2], [5, 5, 5, 5]));
    expect(Array.from(matrix.edges[0]!)).toEqual([1.5, 2.5]);
    expect(Array.from(matrix.edges[1]!)).toEqual([]);
    // Column-major codes: feature 0 then feature 1.
    expect(Array.from(matrix.codes)).toEqual([2, 0, 1, 1, 0, 0, 0, 0]);
    expect(codeOf(matrix.edges[0]!, 2.5)).toBe(2); // an edge value goes right, as `x < edge` says
    expect(codeOf(matrix.edges[0]!, -7)).toBe(0);
  });

  it('with more distinct values than bins, cuts below the values at the 1/maxBins quantiles', () => {
    const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    // maxBins 2: the value at index ⌊1·10/2⌋ = 5 of the sorted column is 6 → edge between 5 and 6.
    expect(Array.from(binFeatures(rows(values), 2).edges[0]!)).toEqual([5.5]);
    // maxBins 4: indices 2, 5, 7 → values 3, 6, 8 → edges 2.5, 5.5, 7.5.
    const four = binFeatures(rows(values), 4);
    expect(Array.from(four.edges[0]!)).toEqual([2.5, 5.5, 7.5]);
    expect(Array.from(four.codes)).toEqual([0, 0, 1, 1, 1, 2, 2, 3, 3, 3]);
    expect(() => binFeatures(rows(values), 1)).toThrow(RangeError);
  });
});

describe('growTree', () => {
  it('splits two classes where they separate: threshold 3.5, gain 0.5, pure leaves (computed by hand)', () => {
    const matrix = binFeatures(rows([1, 2, 3, 4, 5, 6]));
    const tree = growTree(matrix, Int32Array.of(0, 0, 0, 1, 1, 1), 2, all(6), options(), new Prng(1));
    expect(Array.from(tree.feature)).toEqual([0, -1, -1]);
    expect(tree.threshold[0]).toBe(3.5);
    expect(tree.gain[0]).toBeCloseTo(0.5, 15); // gini 0.5 → two pure children
    expect([tree.left[0], tree.right[0]]).toEqual([1, 2]);
    expect(Array.from(tree.distribution.subarray(2, 6))).toEqual([1, 0, 0, 1]);
  });

  it('reports ml-cart\u2019s gain: gini(node) − weighted child gini; three classes (computed by hand)', () => {
    // Labels 0,0,1,1,2,2: gini 2/3. The best first split isolates one pair: children gini 0 and
    // 0.5 (4 rows), weighted 4/6·0.5 = 1/3 → gain 1/3.
    const matrix = binFeatures(rows([1, 2, 3, 4, 5, 6], [0, 0, 0, 0, 1, 1]));
    const tree = growTree(matrix, Int32Array.of(0, 0, 1, 1, 2, 2), 3, all(6), options(), new Prng(2));
    expect(tree.gain[0]).toBeCloseTo(1 / 3, 15);
    // Every training row ends in a pure leaf of its class.
    const x = [
      [1, 0],
      [2, 0],
      [3, 0],
      [4, 0],
      [5, 1],
      [6, 1],
    ];
    x.forEach((row, i) => {
      let node = 0;
      while (tree.feature[node]! >= 0) node = row[tree.feature[node]!]! < tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
      expect(tree.distribution[node * 3 + [0, 0, 1, 1, 2, 2][i]!]).toBe(1);
    });
  });

  it('makes a leaf at minNumSamples, maxDepth, or when no split gains more than gainThreshold', () => {
    const matrix = binFeatures(rows([1, 2, 3, 4, 5, 6]));
    const labels = Int32Array.of(0, 0, 0, 1, 1, 1);
    for (const leafOnly of [options({ minNumSamples: 6 }), options({ maxDepth: 0 }), options({ gainThreshold: 0.5 })]) {
      const tree = growTree(matrix, labels, 2, all(6), leafOnly, new Prng(1));
      expect(Array.from(tree.feature)).toEqual([-1]);
      expect(Array.from(tree.distribution)).toEqual([0.5, 0.5]);
    }
  });

  it('counts repeated bootstrap rows: a row drawn twice weighs twice', () => {
    const matrix = binFeatures(rows([1, 2]));
    // Rows 0, 0, 1: the root's class fractions are 2/3 and 1/3.
    const tree = growTree(matrix, Int32Array.of(0, 1), 2, Int32Array.of(0, 0, 1), options({ minNumSamples: 3 }), new Prng(1));
    expect(tree.distribution[0]).toBeCloseTo(2 / 3, 15);
    expect(tree.distribution[1]).toBeCloseTo(1 / 3, 15);
  });

  it('finds the exact CART root split, by sorting (small node) and by histogram (large node)', () => {
    const prng = new Prng(7);
    for (const [n, levels] of [
      [60, 1000],
      [3000, 12],
    ] as const) {
      const vectors = Array.from({ length: n }, () => Float64Array.from({ length: 5 }, () => Math.floor(prng.next() * levels)));
      // Labels depend on the features, with noise, so splits have distinct gains.
      const labels = Int32Array.from(vectors, (v) => ((v[1]! > levels / 2 ? 1 : 0) + (v[3]! > levels / 3 ? 1 : 0) + (prng.next() < 0.2 ? 1 : 0)) % 3);
      const tree = growTree(binFeatures(vectors), labels, 3, all(n), options({ featuresPerSplit: 5, maxDepth: 1 }), new Prng(3));
      expect(tree.gain[0]).toBeCloseTo(bruteForceBestGain(vectors, labels), 12);
    }
  });
});
