/**
 * A random forest flattened for prediction: every tree's nodes in one set of typed arrays, so a
 * walk touches two small arrays instead of an object graph, and prediction runs tree by tree
 * over a whole batch of vectors (tree-major), so that one tree's nodes and leaves stay in the
 * CPU cache while every vector of the batch walks it. Walked vector by vector, the 100 trees of
 * the shipped model (64 k nodes, 32 k leaves × 10 classes ≈ 3.6 MB) miss the cache at nearly
 * every node.
 *
 * Scores are bit-for-bit those of walking each tree for each vector: a vector's votes are still
 * added in tree order, then divided by the number of trees.
 *
 * Layout. Split nodes only, numbered globally: split i tests x[feature] < threshold[i] and goes
 * to `left` or `right`, read from links[4i], links[4i + 1] and links[4i + 2] (one slot, so
 * one cache line serves the step; 4 for the cheap multiply); a child ≥ 0 is another split, a
 * child < 0 is leaf −1 − child.
 * A tree's root is roots[t] (a leaf code when the tree is a single leaf). Soft votes are stored
 * sparsely: leaf l's non-zero class fractions are leafValue[e] for class leafClassOf[e],
 * e ∈ [leafStart[l], leafStart[l + 1]). Skipping the zeros changes no sum (v + 0 = v), and the
 * shipped model's leaves hold 2–3 non-zero classes of 10: with split-only nodes the forest
 * takes ~1.3 MB instead of ~3.6 MB, which matters because the packet reader streaming the
 * capture evicts it from the cache between two batches.
 */

/** A tree as ml-cart writes it (what load() reads), before flattening. */
export interface TreeNodeJson {
  distribution?: number[][];
  splitColumn?: number;
  splitValue?: number;
  gain?: number;
  left?: TreeNodeJson;
  right?: TreeNodeJson;
}

export type Voting = 'hard' | 'soft';

/** Vectors walked through one tree before moving to the next: ~a batch of dialogs at once. */
const TILE = 256;

export class FlatForest {
  private constructor(
    readonly classCount: number,
    readonly voting: Voting,
    private readonly roots: Int32Array,
    /** Per split: feature, left child, right child, unused. */
    private readonly links: Int32Array,
    private readonly threshold: Float64Array,
    /** Hard votes: the leaf's arg-max class. */
    private readonly leafClass: Int32Array,
    private readonly leafStart: Int32Array,
    private readonly leafClassOf: Uint8Array,
    private readonly leafValue: Float64Array,
  ) {}

  get trees(): number {
    return this.roots.length;
  }

  /**
   * Flattens trees given as ml-cart JSON; `columns[t]` maps tree t's split columns to feature
   * indices (the library's per-tree feature subsets).
   */
  static fromTrees(roots: readonly TreeNodeJson[], columns: readonly (readonly number[])[], classCount: number, voting: Voting): FlatForest {
    if (roots.length !== columns.length) throw new RangeError('random forest model: one column list per tree');
    if (classCount > 256) throw new RangeError('random forest model: at most 256 classes');
    const feature: number[] = [];
    const threshold: number[] = [];
    const left: number[] = [];
    const right: number[] = [];
    const leafClass: number[] = [];
    const leafStart: number[] = [0];
    const leafClassOf: number[] = [];
    const leafValue: number[] = [];
    const rootCodes = new Int32Array(roots.length);
    /** The code of `node` (a split's index, or −1 − leaf number); its subtree is added first. */
    const add = (node: TreeNodeJson, treeColumns: readonly number[]): number => {
      if (node.distribution !== undefined) {
        const dist = node.distribution[0] ?? [];
        let best = 0;
        for (let k = 1; k < dist.length; k++) if (dist[k]! > dist[best]!) best = k;
        if (best >= classCount) throw new RangeError('random forest model: leaf class out of range');
        const leaf = leafClass.length;
        leafClass.push(best);
        let total = 0;
        for (let k = 0; k < classCount; k++) total += dist[k] ?? 0;
        for (let k = 0; k < classCount; k++) {
          const value = total > 0 ? (dist[k] ?? 0) / total : 0;
          if (value === 0) continue;
          leafClassOf.push(k);
          leafValue.push(value);
        }
        leafStart.push(leafValue.length);
        return -1 - leaf;
      }
      const column = node.splitColumn === undefined ? undefined : treeColumns[node.splitColumn];
      if (column === undefined || typeof node.splitValue !== 'number' || node.left === undefined || node.right === undefined) {
        throw new RangeError('random forest model: bad split node');
      }
      const id = feature.length;
      feature.push(column);
      threshold.push(node.splitValue);
      left.push(0);
      right.push(0);
      left[id] = add(node.left, treeColumns);
      right[id] = add(node.right, treeColumns);
      return id;
    };
    roots.forEach((root, t) => (rootCodes[t] = add(root, columns[t]!)));
    const links = new Int32Array(4 * feature.length);
    for (let i = 0; i < feature.length; i++) {
      links[4 * i] = feature[i]!;
      links[4 * i + 1] = left[i]!;
      links[4 * i + 2] = right[i]!;
    }
    return new FlatForest(
      classCount,
      voting,
      rootCodes,
      links,
      Float64Array.from(threshold),
      Int32Array.from(leafClass),
      Int32Array.from(leafStart),
      Uint8Array.from(leafClassOf),
      Float64Array.from(leafValue),
    );
  }

  /** The global number of the leaf `x` reaches in tree `t`. */
  leafOf(t: number, x: ArrayLike<number>): number {
    const links = this.links;
    const threshold = this.threshold;
    let node = this.roots[t]!;
    while (node >= 0) {
      const at = node << 2;
      node = x[links[at]!]! < threshold[node]! ? links[at + 1]! : links[at + 2]!;
    }
    return -1 - node;
  }

  /**
   * Per vector, a fresh Float64Array of classCount scores (fraction of votes or mean leaf
   * fractions). They are views of one buffer per call: a typed array of its own costs ~0.4 µs
   * to allocate (its backing store is malloc'ed above 64 bytes), a view ~0.03 µs.
   */
  predict(vectors: readonly Float64Array[]): Float64Array[] {
    const c = this.classCount;
    const out: Float64Array[] = new Array(vectors.length);
    const all = new Float64Array(vectors.length * c);
    for (let i = 0; i < vectors.length; i++) out[i] = all.subarray(i * c, i * c + c);
    for (let from = 0; from < vectors.length; from += TILE) this.addVotes(vectors, out, from, Math.min(vectors.length, from + TILE));
    const trees = this.roots.length;
    for (let i = 0; i < vectors.length; i++) {
      const votes = out[i]!;
      for (let k = 0; k < c; k++) votes[k]! /= trees;
    }
    return out;
  }

  /** Adds every tree's vote to out[from..to), tree by tree. */
  private addVotes(vectors: readonly Float64Array[], out: Float64Array[], from: number, to: number): void {
    const links = this.links;
    const threshold = this.threshold;
    const soft = this.voting === 'soft';
    const leafStart = this.leafStart;
    const leafClassOf = this.leafClassOf;
    const leafValue = this.leafValue;
    const leafClass = this.leafClass;
    for (let t = 0; t < this.roots.length; t++) {
      const root = this.roots[t]!;
      for (let i = from; i < to; i++) {
        const x = vectors[i]!;
        let node = root;
        while (node >= 0) {
          const at = node << 2;
          node = x[links[at]!]! < threshold[node]! ? links[at + 1]! : links[at + 2]!;
        }
        const leaf = -1 - node;
        const votes = out[i]!;
        if (soft) {
          const end = leafStart[leaf + 1]!;
          for (let e = leafStart[leaf]!; e < end; e++) votes[leafClassOf[e]!]! += leafValue[e]!;
        } else {
          votes[leafClass[leaf]!]! += 1;
        }
      }
    }
  }
}
