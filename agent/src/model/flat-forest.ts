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

import { InvalidMemberError, invalid, memberPath } from '../common/json-checks';

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

/** Where a forest's trees sit in its file, for the paths of errors. */
export interface ForestPaths {
  /** The path of tree t's root node. */
  readonly tree: (t: number) => string;
}

const DEFAULT_PATHS: ForestPaths = { tree: (t) => `roots[${t}]` };

/**
 * Deepest tree loaded: far beyond trained trees (the shipped model's reach 43 levels), well
 * within the stack of the recursive walk.
 */
const MAX_TREE_DEPTH = 2000;

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
   * indices (the library's per-tree feature subsets). The trees are checked as they are walked
   * (one pass, at load time): a split needs a column within its tree's list, a finite
   * threshold and two children; a leaf one row of 1 to classCount finite, non-negative class
   * weights, not all 0. Errors (InvalidMemberError) name the node by its path, from
   * `paths.tree(t)` down through `left`/`right`.
   */
  static fromTrees(
    roots: readonly unknown[],
    columns: readonly (readonly number[])[],
    classCount: number,
    voting: Voting,
    paths: ForestPaths = DEFAULT_PATHS,
  ): FlatForest {
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
    // The walk's position, for error paths only: the tree, and the steps from its root.
    let tree = 0;
    const steps: ('left' | 'right')[] = [];
    const pathOf = (member?: string | number): string => {
      let path = paths.tree(tree);
      for (const step of steps) path = memberPath(path, step);
      return member === undefined ? path : memberPath(path, member);
    };
    /** The code of `node` (a split's index, or −1 − leaf number); its subtree is added first. */
    const add = (node: unknown, treeColumns: readonly number[]): number => {
      if (typeof node !== 'object' || node === null || Array.isArray(node)) invalid(pathOf(), 'a tree node (an object)', node);
      // Too deep for the recursion: a damaged file, not a tree any trainer grows. Named by its
      // root: the path down would be thousands of steps long.
      if (steps.length > MAX_TREE_DEPTH) throw new InvalidMemberError(paths.tree(tree), `the tree is deeper than ${MAX_TREE_DEPTH} levels`);
      const distribution = (node as TreeNodeJson).distribution;
      if (distribution !== undefined) {
        if (!Array.isArray(distribution) || distribution.length !== 1) invalid(pathOf('distribution'), 'an array of one row of class weights', distribution);
        const dist: unknown = distribution[0];
        if (!Array.isArray(dist) || dist.length < 1 || dist.length > classCount) {
          invalid(memberPath(pathOf('distribution'), 0), `an array of 1 to ${classCount} class weights (one per class)`, dist);
        }
        const row = dist as readonly unknown[];
        let best = 0;
        let total = 0;
        for (let k = 0; k < row.length; k++) {
          const weight = row[k];
          if (!(typeof weight === 'number' && weight >= 0 && weight < Infinity)) invalid(memberPath(memberPath(pathOf('distribution'), 0), k), 'a finite number ≥ 0', weight);
          if (weight > (row[best] as number)) best = k;
          total += weight;
        }
        if (!(total > 0)) throw new InvalidMemberError(memberPath(pathOf('distribution'), 0), 'every class weight is 0: a leaf holds at least one training row');
        const leaf = leafClass.length;
        leafClass.push(best);
        for (let k = 0; k < row.length; k++) {
          const value = (row[k] as number) / total;
          if (value === 0) continue;
          leafClassOf.push(k);
          leafValue.push(value);
        }
        leafStart.push(leafValue.length);
        return -1 - leaf;
      }
      const { splitColumn, splitValue } = node as TreeNodeJson;
      if (typeof splitColumn !== 'number' || !Number.isInteger(splitColumn) || splitColumn < 0 || splitColumn >= treeColumns.length) {
        invalid(pathOf('splitColumn'), `an integer in [0, ${treeColumns.length - 1}] (a position in the tree's ${treeColumns.length} columns), or a leaf's distribution`, splitColumn);
      }
      if (typeof splitValue !== 'number' || !Number.isFinite(splitValue)) invalid(pathOf('splitValue'), 'a finite number', splitValue);
      const id = feature.length;
      feature.push(treeColumns[splitColumn]!);
      threshold.push(splitValue);
      left.push(0);
      right.push(0);
      steps.push('left');
      left[id] = add((node as TreeNodeJson).left, treeColumns);
      steps[steps.length - 1] = 'right';
      right[id] = add((node as TreeNodeJson).right, treeColumns);
      steps.pop();
      return id;
    };
    for (tree = 0; tree < roots.length; tree++) rootCodes[tree] = add(roots[tree], columns[tree]!);
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
