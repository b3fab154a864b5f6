import { describe, expect, it } from 'vitest';
import { Prng } from '../../agent/src/common/prng';
import { FlatForest, type TreeNodeJson } from '../../agent/src/model/flat-forest';

const CLASSES = 5;
const FEATURES = 12;

/** A random tree in ml-cart's JSON shape: leaves with (unnormalised, sparse) class weights. */
function randomTree(prng: Prng, depth: number, columns: number): TreeNodeJson {
  if (depth === 0 || prng.next() < 0.15) {
    const size = 1 + Math.floor(prng.next() * CLASSES); // a leaf's row can be shorter than the class count
    const row = Array.from({ length: size }, () => (prng.next() < 0.5 ? 0 : Math.round(prng.next() * 1e4) / 1e4));
    // A trained leaf holds rows, so some class weighs > 0 (fromTrees refuses an all-zero leaf).
    if (!row.some((w) => w > 0)) row[size - 1] = 0.5;
    return { distribution: [row] };
  }
  return {
    splitColumn: Math.floor(prng.next() * columns),
    splitValue: Math.round(prng.normal() * 100) / 100,
    gain: 0.1,
    left: randomTree(prng, depth - 1, columns),
    right: randomTree(prng, depth - 1, columns),
  };
}

/** The straightforward prediction: walk each tree's JSON for each vector, add dense leaf rows in tree order. */
function walkScores(roots: readonly TreeNodeJson[], columns: readonly (readonly number[])[], x: Float64Array, soft: boolean): Float64Array {
  const votes = new Float64Array(CLASSES);
  roots.forEach((root, t) => {
    let node = root;
    while (node.distribution === undefined) node = x[columns[t]![node.splitColumn!]!]! < node.splitValue! ? node.left! : node.right!;
    const row = node.distribution[0]!;
    let best = 0;
    for (let k = 1; k < row.length; k++) if (row[k]! > row[best]!) best = k;
    if (soft) {
      let total = 0;
      for (let k = 0; k < CLASSES; k++) total += row[k] ?? 0;
      for (let k = 0; k < CLASSES; k++) votes[k]! += total > 0 ? (row[k] ?? 0) / total : 0;
    } else {
      votes[best]! += 1;
    }
  });
  for (let k = 0; k < CLASSES; k++) votes[k]! /= roots.length;
  return votes;
}

describe('flat forest', () => {
  const prng = new Prng(7);
  // Trees read feature subsets (as the library's ml-cart trees do), one tree is a lone leaf.
  const columns = Array.from({ length: 25 }, (_, t) => (t % 2 === 0 ? Array.from({ length: FEATURES }, (_, j) => j) : [3, 1, 7, 11, 0]));
  const roots = columns.map((cols, t) => (t === 4 ? { distribution: [[0, 0.2, 0.8]] } : randomTree(prng, 9, cols.length)));
  // More vectors than one tile, some exactly on thresholds.
  const vectors = Array.from({ length: 700 }, (_, i) => Float64Array.from({ length: FEATURES }, () => (i % 7 === 0 ? Math.round(prng.normal() * 100) / 100 : prng.normal())));

  for (const voting of ['soft', 'hard'] as const) {
    it(`gives bit for bit the scores of walking every tree for every vector (${voting} votes)`, () => {
      const forest = FlatForest.fromTrees(roots, columns, CLASSES, voting);
      const expected = vectors.map((x) => walkScores(roots, columns, x, voting === 'soft'));
      expect(forest.predict(vectors)).toEqual(expected);
      // Batch boundaries change nothing.
      expect(vectors.slice(0, 300).flatMap((x) => forest.predict([x]))).toEqual(expected.slice(0, 300));
    });
  }

  it('finds the same leaf as the JSON walk, and rejects malformed trees', () => {
    const forest = FlatForest.fromTrees(roots, columns, CLASSES, 'soft');
    expect(forest.trees).toBe(25);
    expect(forest.leafOf(4, vectors[0]!)).toBe(forest.leafOf(4, vectors[1]!));
    expect(() => FlatForest.fromTrees([{ splitColumn: 0, splitValue: 1 }], [[0]], CLASSES, 'soft')).toThrow(RangeError);
    expect(() => FlatForest.fromTrees([{ splitColumn: 5, splitValue: 1, left: { distribution: [[1]] }, right: { distribution: [[1]] } }], [[0]], CLASSES, 'soft')).toThrow(RangeError);
    expect(() => FlatForest.fromTrees([{ distribution: [[0, 0, 0, 0, 0, 0, 1]] }], [[0]], CLASSES, 'hard')).toThrow(RangeError);
    expect(() => FlatForest.fromTrees(roots, columns.slice(1), CLASSES, 'soft')).toThrow(RangeError);
  });
});
