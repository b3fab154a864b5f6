/**
 * The default classifier: ml-random-forest 2.1.0, trained tree by tree so that it meets the
 * training target (100 trees on 20 k dialogs ≤ 60 s on 2 cores) despite the library's cost.
 *
 * Facts about the library that shape this file (../shared/TOOLING.md, checked in its source):
 * - A tree's training cost is quadratic in its number of samples (every candidate threshold
 *   re-partitions the node's samples) and linear in its number of features. Each tree therefore
 *   sees a bootstrap sample of `maxSamples` rows (default 600) and `maxFeatures` columns (default
 *   round(√F), i.e. a fraction √F/F; the library draws the columns once per tree, not per
 *   split).
 * - The library's own `maxSamples` keeps the *first* rows of the training set for every tree, so
 *   it is not used: each tree is fitted here on its own seeded bootstrap (with replacement) of
 *   the whole training set, as a one-tree forest (`useSampleBagging: false`, `noOOB: true`), and
 *   the trees are merged into one RandomForestClassifier model. That bootstrap is also where
 *   class weights go (ml-random-forest has no class_weight): rows are drawn with probability
 *   ∝ the weight of their class (imbalance.ts weightedBootstrap).
 * - Do not sort training rows by label: ml-cart counts classes with `indexOf`, quadratic when
 *   equal labels are grouped.
 * - `predictProbability` drops tree 0's vote, so scores are vote counts of `predictionValues`
 *   divided by the number of trees. For speed, predictScores() walks the same trees flattened into
 *   typed arrays (flat-forest.ts: same `<` test, same arg-max leaf class); predictScoresWithLibrary() uses
 *   `predictionValues` itself and the tests check that both give identical scores.
 * - Labels are integer class indices; a leaf's distribution has (largest label in the leaf + 1)
 *   entries and the tree answers its first arg-max.
 */

import { RandomForestClassifier } from 'ml-random-forest';

import { checkNumbers, invalid, JsonObject, memberPath } from '../common/json-checks';
import { deriveSeed, Prng } from '../common/prng';
import { USAGE_CLASSES, type UsageClass } from '../labels';
import type { PreparedTrainingSet, UsageClassifier } from './classifier';
import { FlatForest, type ForestPaths, type TreeNodeJson } from './flat-forest';
import { binFeatures, growTree, type GrownTree } from './histogram-tree';
import { weightedBootstrap } from './imbalance';

export const DEFAULT_TREES = 100;
/** Rows per tree with the ml-cart trainer (bootstrap with replacement): its cost is quadratic. */
export const DEFAULT_MAX_SAMPLES = 600;
/**
 * Histogram trainer defaults, chosen on unseen simulated seeds (docs/classification.md): rows per
 * tree, and the node size at or below which a node becomes a leaf. Leaves of ≥ ~10 rows give
 * class fractions smooth enough for the temporal filter; full-size bootstraps with 3-row leaves
 * scored lower (macro-F1 0.65 against 0.73) and made the model file 4× larger.
 */
export const HISTOGRAM_MAX_SAMPLES = 8000;
export const HISTOGRAM_MIN_NUM_SAMPLES = 20;

/**
 * How trees are grown. `histogram` (default): histogram-tree.ts, features quantised to ≤ 256
 * bins, √F features drawn per split, bootstraps as large as the training set by default.
 * `ml-cart`: the library's own trainer, one tree at a time (quadratic: 600 rows per tree).
 * Both write the library's JSON, so both load and predict the same way.
 */
export type ForestTrainer = 'histogram' | 'ml-cart';

export interface RandomForestOptions {
  /** Number of trees (default 100). */
  readonly trees?: number;
  /** Default `histogram`. */
  readonly trainer?: ForestTrainer;
  /** How trees' answers become scores (default: `soft` for histogram, `hard` for ml-cart); see RandomForestJson.params.voting. */
  readonly voting?: 'hard' | 'soft';
  /**
   * Rows drawn (with replacement) per tree: a fraction in (0, 1) of the training set, or a count
   * (integer ≥ 1); capped at the training-set size. Default min(8000, n) (histogram), min(600, n) (ml-cart).
   */
  readonly maxSamples?: number;
  /**
   * Features drawn per split (histogram) or per tree (ml-cart, which draws them once per tree):
   * a fraction in (0, 1] or a count (integer ≥ 2). Default round(√F).
   */
  readonly maxFeatures?: number;
  /** A node with at most this many rows becomes a leaf (default 20 histogram, 3 ml-cart). */
  readonly minNumSamples?: number;
  /** Maximum depth (default unlimited). */
  readonly maxDepth?: number;
  /** Minimum Gini gain to split (default 0 histogram, 0.01 ml-cart). */
  readonly gainThreshold?: number;
}

type RandomForestClassifierModel = ReturnType<RandomForestClassifier['toJSON']>;

interface TreeOptionsJson {
  minNumSamples: number;
  maxDepth: number | null;
  gainThreshold: number;
}

export interface RandomForestJson {
  readonly format: 'cumma-classifier';
  readonly version: 1;
  readonly kind: 'random-forest';
  readonly classes: UsageClass[];
  readonly featureCount: number;
  readonly params: {
    readonly trees: number;
    /** Absent in models written before the histogram trainer: ml-cart. */
    readonly trainer?: ForestTrainer;
    readonly samplesPerTree: number;
    /** Features per tree (ml-cart) or per split (histogram). */
    readonly featuresPerTree: number;
    /**
     * `hard` (absent in older models): a score is the fraction of trees voting for the class,
     * as ml-random-forest's predictionValues counts them. `soft`: the mean of the leaves' class
     * fractions (scikit-learn's predict_proba), smoother scores for the temporal filter.
     */
    readonly voting?: 'hard' | 'soft';
    readonly treeOptions: TreeOptionsJson;
    readonly seed: number;
    readonly classWeights: number[] | null;
    readonly trainingSamples: number;
  };
  /** ml-random-forest's own model (RandomForestClassifier.toJSON()), nodes trimmed to what load() reads. */
  readonly forest: RandomForestClassifierModel;
}

interface EstimatorJson {
  options: Record<string, unknown>;
  root: TreeNodeJson;
  name: string;
}

export class RandomForestUsageClassifier implements UsageClassifier {
  readonly kind = 'random-forest' as const;
  private readonly flat: FlatForest;
  private library: RandomForestClassifier | undefined;

  /** `paths` places the trees in the file, for the errors of a damaged one (FlatForest.fromTrees). */
  private constructor(
    private readonly json: RandomForestJson,
    paths?: ForestPaths,
  ) {
    const base = json.forest.baseModel as unknown as { estimators: EstimatorJson[]; indexes: number[][] };
    if (base.estimators.length !== json.params.trees || base.indexes.length !== json.params.trees) {
      throw new RangeError('random forest model: tree count mismatch');
    }
    this.flat = FlatForest.fromTrees(
      base.estimators.map((e) => e.root),
      base.indexes,
      json.classes.length,
      json.params.voting === 'soft' ? 'soft' : 'hard',
      paths,
    );
  }

  get classes(): readonly UsageClass[] {
    return this.json.classes;
  }

  get featureCount(): number {
    return this.json.featureCount;
  }

  get trees(): number {
    return this.json.params.trees;
  }

  static train(set: PreparedTrainingSet, options: RandomForestOptions = {}): RandomForestUsageClassifier {
    const n = set.vectors.length;
    const f = set.featureCount;
    const trees = options.trees ?? DEFAULT_TREES;
    if (!Number.isInteger(trees) || trees < 1) throw new RangeError(`trees must be a positive integer, not ${trees}`);
    const trainer = options.trainer ?? 'histogram';
    if (trainer !== 'histogram' && trainer !== 'ml-cart') throw new RangeError(`unknown trainer ${String(trainer)}`);
    const samplesPerTree = resolveMaxSamples(options.maxSamples, n, trainer === 'histogram' ? HISTOGRAM_MAX_SAMPLES : DEFAULT_MAX_SAMPLES);
    const featuresPerTree = resolveMaxFeatures(options.maxFeatures, f);
    const treeOptions: TreeOptionsJson = {
      minNumSamples: options.minNumSamples ?? (trainer === 'histogram' ? HISTOGRAM_MIN_NUM_SAMPLES : 3),
      maxDepth: options.maxDepth ?? null,
      gainThreshold: options.gainThreshold ?? (trainer === 'histogram' ? 0 : 0.01),
    };
    const libraryTreeOptions = {
      minNumSamples: treeOptions.minNumSamples,
      maxDepth: treeOptions.maxDepth ?? Infinity,
      gainThreshold: treeOptions.gainThreshold,
    };
    const rowWeights =
      set.classWeights === undefined && set.sampleWeights === undefined
        ? undefined
        : Float64Array.from(set.labels, (l, i) => (set.classWeights?.[l] ?? 1) * (set.sampleWeights?.[i] ?? 1));
    const grown = trainer === 'histogram'
      ? growHistogramForest(set, trees, samplesPerTree, featuresPerTree, libraryTreeOptions, rowWeights)
      : growLibraryForest(set, trees, samplesPerTree, featuresPerTree, libraryTreeOptions, rowWeights);
    const forest = {
      name: 'RFClassifier',
      baseModel: {
        indexes: grown.indexes,
        n: featuresPerTree,
        replacement: false,
        maxFeatures: featuresPerTree,
        nEstimators: trees,
        treeOptions: libraryTreeOptions,
        isClassifier: true,
        seed: set.seed | 0,
        estimators: grown.estimators,
        useSampleBagging: false,
      },
    } as unknown as RandomForestClassifierModel;
    return new RandomForestUsageClassifier(
      plain({
        format: 'cumma-classifier',
        version: 1,
        kind: 'random-forest',
        classes: [...set.classes],
        featureCount: f,
        params: {
          trees,
          trainer,
          voting: options.voting ?? (trainer === 'histogram' ? 'soft' : 'hard'),
          samplesPerTree,
          featuresPerTree,
          treeOptions,
          seed: set.seed,
          classWeights: set.classWeights === undefined ? null : [...set.classWeights],
          trainingSamples: n,
        },
        forest,
      }),
    );
  }

  /**
   * A forest read from a file, each member that prediction reads checked (InvalidMemberError
   * names the bad one under `path`): the tree count, one estimator and one column list per
   * tree, columns within featureCount (an out-of-range column reads `undefined`, which sends
   * every vector right: labels change, silently), and each tree's nodes (FlatForest.fromTrees).
   * Members that only record the training (samplesPerTree, seed, …) are not read, so not checked.
   */
  static load(value: unknown, path = 'classifier'): RandomForestUsageClassifier {
    const json = JsonObject.at(value, path, 'a classifier (an object)');
    json.literal('format', 'cumma-classifier');
    json.literal('version', 1);
    json.literal('kind', 'random-forest');
    json.choiceList('classes', USAGE_CLASSES);
    const featureCount = json.number('featureCount', { min: 1, integer: true });
    const params = json.object('params');
    const trees = params.number('trees', { min: 1, integer: true });
    if (params.has('trainer')) params.oneOf('trainer', ['histogram', 'ml-cart'] as const);
    if (params.has('voting')) params.oneOf('voting', ['hard', 'soft'] as const);
    const forest = json.object('forest');
    forest.literal('name', 'RFClassifier');
    const base = forest.object('baseModel');
    const perTree = { length: trees, why: `one per tree, params.trees = ${trees}` };
    const estimators = base.array('estimators', perTree);
    const indexes = base.array('indexes', perTree);
    const featureRange = { min: 0, max: featureCount - 1, integer: true };
    indexes.forEach((columns, t) => {
      const where = memberPath(base.pathOf('indexes'), t);
      if (checkNumbers(columns, where, featureRange).length === 0) invalid(where, 'a non-empty array of feature indexes', columns);
    });
    estimators.forEach((estimator, t) => JsonObject.at(estimator, memberPath(base.pathOf('estimators'), t), 'a tree { root } (an object)'));
    // Kept, not deep-copied: a copy of the 3.6 MB tree cost 50 ms per start and doubled the
    // model's heap. The caller (UsageModel) keeps the same parsed object and never mutates it;
    // toJSON() still hands out copies. Checked above, so the cast holds.
    return new RandomForestUsageClassifier(value as RandomForestJson, { tree: (t) => memberPath(memberPath(base.pathOf('estimators'), t), 'root') });
  }

  predictScores(vectors: readonly Float64Array[]): Float64Array[] {
    for (const x of vectors) {
      if (x.length !== this.json.featureCount) throw new RangeError(`vector of length ${x.length}, model expects ${this.json.featureCount}`);
    }
    return this.flat.predict(vectors);
  }

  /**
   * The same scores through the library (`predictionValues`, votes counted per tree): slower,
   * kept as the reference the compiled trees are tested against.
   */
  predictScoresWithLibrary(vectors: readonly Float64Array[]): Float64Array[] {
    if (vectors.length === 0) return [];
    this.library ??= RandomForestClassifier.load(plain(this.json.forest));
    const values = this.library.predictionValues(vectors.map((v) => Array.from(v)));
    const c = this.json.classes.length;
    const out: Float64Array[] = [];
    for (let i = 0; i < values.rows; i++) {
      const votes = new Float64Array(c);
      const row = values.getRow(i);
      for (const label of row) votes[label]! += 1;
      for (let k = 0; k < c; k++) votes[k]! /= row.length;
      out.push(votes);
    }
    return out;
  }

  toJSON(): RandomForestJson {
    return plain(this.json);
  }
}

interface GrownForest {
  readonly estimators: unknown[];
  readonly indexes: number[][];
}

interface LibraryTreeOptions {
  readonly minNumSamples: number;
  readonly maxDepth: number;
  readonly gainThreshold: number;
}

/** Each tree on its own seeded (class-weighted) bootstrap, grown by histogram-tree.ts. */
function growHistogramForest(
  set: PreparedTrainingSet,
  trees: number,
  samplesPerTree: number,
  featuresPerSplit: number,
  treeOptions: LibraryTreeOptions,
  rowWeights: Float64Array | undefined,
): GrownForest {
  const matrix = binFeatures(set.vectors);
  const identity = Array.from({ length: set.featureCount }, (_, j) => j);
  const estimators: unknown[] = [];
  const indexes: number[][] = [];
  for (let t = 0; t < trees; t++) {
    const treeSeed = deriveSeed(set.seed, t);
    const prng = new Prng(treeSeed);
    const draw = weightedBootstrap(set.vectors.length, samplesPerTree, prng, rowWeights);
    const tree = growTree(matrix, set.labels, set.classes.length, draw, { featuresPerSplit, ...treeOptions }, prng);
    estimators.push({ options: { ...treeOptions, kind: 'classifier', gainFunction: 'gini', splitFunction: 'mean' }, root: treeJson(tree, 0), name: 'DTClassifier' });
    // Features are drawn per split, so every tree reads every column.
    indexes.push(identity);
  }
  return { estimators, indexes };
}

/** A grown tree in ml-cart's JSON shape; class fractions rounded to 4 decimals. */
function treeJson(tree: GrownTree, id: number): TreeNodeJson {
  if (tree.feature[id]! < 0) {
    const c = tree.classCount;
    return { distribution: [Array.from(tree.distribution.subarray(id * c, id * c + c), (p) => Math.round(p * 1e4) / 1e4)] };
  }
  return {
    splitColumn: tree.feature[id]!,
    splitValue: tree.threshold[id]!,
    gain: Number(tree.gain[id]!.toPrecision(4)),
    left: treeJson(tree, tree.left[id]!),
    right: treeJson(tree, tree.right[id]!),
  };
}

/** Each tree on its own seeded bootstrap, fitted by ml-random-forest as a one-tree forest. */
function growLibraryForest(
  set: PreparedTrainingSet,
  trees: number,
  samplesPerTree: number,
  featuresPerTree: number,
  treeOptions: LibraryTreeOptions,
  rowWeights: Float64Array | undefined,
): GrownForest {
  const n = set.vectors.length;
  const rows: number[][] = set.vectors.map((v) => Array.from(v));
  const estimators: unknown[] = [];
  const indexes: number[][] = [];
  for (let t = 0; t < trees; t++) {
    const treeSeed = deriveSeed(set.seed, t);
    const draw = weightedBootstrap(n, samplesPerTree, new Prng(treeSeed), rowWeights);
    const x: number[][] = new Array(draw.length);
    const y: number[] = new Array(draw.length);
    for (let k = 0; k < draw.length; k++) {
      x[k] = rows[draw[k]!]!;
      y[k] = set.labels[draw[k]!]!;
    }
    const one = new RandomForestClassifier({
      nEstimators: 1,
      maxFeatures: featuresPerTree,
      replacement: false,
      useSampleBagging: false,
      noOOB: true,
      seed: treeSeed | 0,
      treeOptions,
    });
    one.train(x, y);
    const base = plain(one.toJSON()).baseModel as unknown as { estimators: EstimatorJson[]; indexes: number[][] };
    const estimator = base.estimators[0]!;
    estimators.push({ ...estimator, root: trimNode(estimator.root) });
    indexes.push(base.indexes[0]!);
  }
  return { estimators, indexes };
}

function resolveMaxSamples(option: number | undefined, n: number, fallback: number): number {
  if (option === undefined) return Math.min(fallback, n);
  if (!(option > 0) || !Number.isFinite(option)) throw new RangeError(`maxSamples must be > 0, not ${option}`);
  if (option < 1) return Math.max(1, Math.floor(option * n));
  if (!Number.isInteger(option)) throw new RangeError(`maxSamples must be a fraction in (0, 1) or an integer, not ${option}`);
  return Math.min(option, n);
}

/**
 * A feature count for the library, always ≥ 2 when F ≥ 2: the library reads the integer 1 as
 * the fraction 1.0 (all features).
 */
function resolveMaxFeatures(option: number | undefined, f: number): number {
  let count: number;
  if (option === undefined) count = Math.round(Math.sqrt(f));
  else if (!(option > 0) || !Number.isFinite(option)) throw new RangeError(`maxFeatures must be > 0, not ${option}`);
  else if (option <= 1) count = Math.round(option * f);
  else if (!Number.isInteger(option)) throw new RangeError(`maxFeatures must be a fraction or an integer, not ${option}`);
  else count = option;
  return Math.min(f, Math.max(Math.min(2, f), count));
}

/** Keep only what DecisionTreeClassifier.load reads (setNodeParameters). */
function trimNode(node: TreeNodeJson): TreeNodeJson {
  if (node.distribution !== undefined) return { distribution: node.distribution };
  return {
    splitColumn: node.splitColumn!,
    splitValue: node.splitValue!,
    gain: node.gain!,
    left: trimNode(node.left!),
    right: trimNode(node.right!),
  };
}

/** A deep plain-JSON copy (Matrix objects become arrays through their toJSON). */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
