/**
 * One interface over the two classifiers of issue 4: the random forest (default,
 * ml-random-forest) and k-NN (ml-knn). Both answer, per feature vector, a probability per class
 * (summing to 1) in the order of `classes`, and both save to and load from plain JSON.
 *
 * Class labels are mapped to integer indices into `classes` for the libraries. `unknown` is a
 * verdict given later (outliers.ts), never a trained class.
 */

import { JsonObject } from '../common/json-checks';
import { USAGE_CLASSES, type UsageClass } from '../labels';
import { classWeights, resampleBalanced, type BalanceOptions, type LabelledVector } from './imbalance';
import { KnnClassifier, type KnnClassifierJson, type KnnOptions } from './knn';
import { RandomForestUsageClassifier, type RandomForestJson, type RandomForestOptions } from './random-forest';

export const CLASSIFIER_KINDS = ['random-forest', 'knn'] as const;
export type ClassifierKind = (typeof CLASSIFIER_KINDS)[number];

export type TrainingSample = LabelledVector;

export interface UsageClassifier {
  readonly kind: ClassifierKind;
  /** The classes the model can answer, in score order. */
  readonly classes: readonly UsageClass[];
  /** Length of the feature vectors the model was trained on. */
  readonly featureCount: number;
  /** Per vector, a probability per class of `classes`, summing to 1. */
  predictScores(vectors: readonly Float64Array[]): Float64Array[];
  toJSON(): ClassifierJson;
}

export type ClassifierJson = RandomForestJson | KnnClassifierJson;

export interface TrainOptions {
  /**
   * Classes of the model, in score order. Default: the classes present in `samples`, in
   * USAGE_CLASSES order. Samples of other classes are dropped.
   */
  readonly classes?: readonly UsageClass[];
  /** Seed for every random choice of training (default 1). */
  readonly seed?: number;
  /** Balanced resampling of the training set before fitting (imbalance.ts). */
  readonly balance?: BalanceOptions;
  /**
   * Inverse-frequency class weights (imbalance.ts). Random forest: each tree's bootstrap draws
   * samples with probability ∝ their class weight. k-NN: neighbour votes are multiplied by it.
   */
  readonly classWeights?: boolean;
  readonly randomForest?: RandomForestOptions;
  readonly knn?: KnnOptions;
}

/** What the concrete trainers receive: samples filtered, resampled and indexed. */
export interface PreparedTrainingSet {
  readonly classes: readonly UsageClass[];
  readonly vectors: readonly Float64Array[];
  /** Index into `classes` per vector. */
  readonly labels: Int32Array;
  /** Weight per class (order of `classes`), or undefined when class weights are off. */
  readonly classWeights: readonly number[] | undefined;
  /** Importance per vector (LabelledVector.weight), or undefined when every sample weighs 1. */
  readonly sampleWeights: Float64Array | undefined;
  readonly featureCount: number;
  readonly seed: number;
}

export function prepareTrainingSet(samples: readonly TrainingSample[], options: TrainOptions = {}): PreparedTrainingSet {
  const present = new Set(samples.map((s) => s.label));
  const classes = options.classes ?? USAGE_CLASSES.filter((c) => present.has(c));
  if (classes.length === 0) {
    // Said in full: this is what a caller that did not check its training set first shows.
    throw new RangeError(
      samples.length === 0
        ? 'trainClassifier: no training samples (0 labelled vectors): a classifier needs at least one labelled sample'
        : `trainClassifier: no classes to train: options.classes is empty (${samples.length} samples given)`,
    );
  }
  if (new Set(classes).size !== classes.length) throw new RangeError('trainClassifier: duplicate classes');
  const allowed = new Set(classes);
  let kept: readonly TrainingSample[] = samples.filter((s) => allowed.has(s.label));
  if (kept.length === 0) throw new RangeError('trainClassifier: no samples of the requested classes');
  if (options.balance !== undefined) {
    kept = resampleBalanced(kept, { seed: options.seed ?? 1, ...options.balance });
  }
  const featureCount = kept[0]!.features.length;
  const index = new Map(classes.map((c, i) => [c, i] as const));
  const labels = new Int32Array(kept.length);
  const vectors: Float64Array[] = new Array(kept.length);
  kept.forEach((s, i) => {
    if (s.features.length !== featureCount) {
      throw new RangeError(`trainClassifier: sample ${i} has ${s.features.length} features, expected ${featureCount}`);
    }
    vectors[i] = s.features;
    labels[i] = index.get(s.label)!;
  });
  const weights = options.classWeights === true ? classWeights(kept.map((s) => s.label), classes) : undefined;
  const sampleWeights = kept.some((s) => s.weight !== undefined && s.weight !== 1) ? Float64Array.from(kept, (s) => s.weight ?? 1) : undefined;
  if (sampleWeights?.some((w) => !(w >= 0) || !Number.isFinite(w))) throw new RangeError('trainClassifier: sample weights must be finite and ≥ 0');
  return { classes, vectors, labels, classWeights: weights, sampleWeights, featureCount, seed: options.seed ?? 1 };
}

export function trainClassifier(
  kind: ClassifierKind,
  samples: readonly TrainingSample[],
  options: TrainOptions = {},
): UsageClassifier {
  const prepared = prepareTrainingSet(samples, options);
  switch (kind) {
    case 'random-forest':
      return RandomForestUsageClassifier.train(prepared, options.randomForest);
    case 'knn':
      return KnnClassifier.train(prepared, options.knn);
  }
}

/**
 * A classifier read from a file (ClassifierJson), checked by its kind's loader: a damaged one
 * throws InvalidMemberError naming the bad member under `path`.
 */
export function loadClassifier(value: unknown, path = 'classifier'): UsageClassifier {
  const kind = JsonObject.at(value, path, 'a classifier (an object)').oneOf('kind', CLASSIFIER_KINDS);
  switch (kind) {
    case 'random-forest':
      return RandomForestUsageClassifier.load(value, path);
    case 'knn':
      return KnnClassifier.load(value, path);
  }
}

/** Index of the highest score (first on ties). */
export function argMax(scores: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  return best;
}

/** The class with the highest score per vector. */
export function predictClasses(classifier: UsageClassifier, vectors: readonly Float64Array[]): UsageClass[] {
  return classifier.predictScores(vectors).map((s) => classifier.classes[argMax(s)]!);
}
