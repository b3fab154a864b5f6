/**
 * k-nearest neighbours (ml-knn 3.0.0) on standardised features (scaler.ts; mean and std from the
 * training set are stored in the model). Scores are the neighbours' vote fractions, optionally
 * weighted by 1/distance and by class weights.
 *
 * Keep it off hot paths: ml-knn answers one query in ≈ 5 ms at 5 000 points × 40 features (its
 * KD-tree is no faster than brute force at that dimension), i.e. ~200 vectors/s, far from the
 * 20 k dialogs/s target. It is a second opinion for evaluation, not the live classifier.
 */

import KNN from 'ml-knn';

import { checkNumber, checkNumbers, invalid, InvalidMemberError, JsonObject, memberPath, NON_NEGATIVE } from '../common/json-checks';
import { USAGE_CLASSES, type UsageClass } from '../labels';
import type { PreparedTrainingSet, UsageClassifier } from './classifier';
import { StandardScaler, type ScalerJson } from './scaler';

export const DEFAULT_K = 5;

export interface KnnOptions {
  /** Neighbours per query (default 5). */
  readonly k?: number;
  /** Weight each neighbour's vote by 1/distance (default false: one vote each). */
  readonly distanceWeighted?: boolean;
}

export interface KnnClassifierJson {
  readonly format: 'cumma-classifier';
  readonly version: 1;
  readonly kind: 'knn';
  readonly classes: UsageClass[];
  readonly featureCount: number;
  readonly k: number;
  readonly distanceWeighted: boolean;
  readonly classWeights: number[] | null;
  readonly scaler: ScalerJson;
  /** ml-knn's own model (KNN.toJSON()). */
  readonly model: ReturnType<KNN['toJSON']>;
}

export class KnnClassifier implements UsageClassifier {
  readonly kind = 'knn' as const;

  private constructor(
    private readonly json: KnnClassifierJson,
    private readonly knn: KNN,
    private readonly scaler: StandardScaler,
  ) {}

  get classes(): readonly UsageClass[] {
    return this.json.classes;
  }

  get featureCount(): number {
    return this.json.featureCount;
  }

  static train(set: PreparedTrainingSet, options: KnnOptions = {}): KnnClassifier {
    const k = options.k ?? DEFAULT_K;
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, not ${k}`);
    const scaler = StandardScaler.fit(set.vectors);
    const rows = set.vectors.map((v) => Array.from(scaler.transform(v)));
    const knn = new KNN(rows, Array.from(set.labels), { k });
    const json: KnnClassifierJson = {
      format: 'cumma-classifier',
      version: 1,
      kind: 'knn',
      classes: [...set.classes],
      featureCount: set.featureCount,
      k,
      distanceWeighted: options.distanceWeighted ?? false,
      classWeights: set.classWeights === undefined ? null : [...set.classWeights],
      scaler: scaler.toJSON(),
      model: JSON.parse(JSON.stringify(knn.toJSON())) as KnnClassifierJson['model'],
    };
    return new KnnClassifier(json, knn, scaler);
  }

  /**
   * A k-NN model read from a file, each member that prediction reads checked (InvalidMemberError
   * names the bad one under `path`), its k-d tree included (checkKdTree).
   */
  static load(value: unknown, path = 'classifier'): KnnClassifier {
    const json = JsonObject.at(value, path, 'a classifier (an object)');
    json.literal('format', 'cumma-classifier');
    json.literal('version', 1);
    json.literal('kind', 'knn');
    const classes = json.choiceList('classes', USAGE_CLASSES);
    const featureCount = json.number('featureCount', { min: 1, integer: true });
    json.number('k', { min: 1, integer: true });
    json.boolean('distanceWeighted');
    if (json.get('classWeights') !== null) json.numbers('classWeights', NON_NEGATIVE, { length: classes.length, why: 'one per class, or null' });
    const scaler = StandardScaler.fromJSON(json.get('scaler'), json.pathOf('scaler'), featureCount);
    const model = json.object('model', "ml-knn's model (an object)");
    model.literal('name', 'KNN');
    // Loaded with the Euclidean distance, as trained (knn.ts never passes another).
    model.literal('isEuclidean', true);
    checkKdTree(model.get('kdTree'), model.pathOf('kdTree'), featureCount, classes.length);
    // Checked above, so the cast holds. KNN.load rebuilds the tree in place (it restores parent
    // links), so it gets a copy of its own.
    const copy = JSON.parse(JSON.stringify(value)) as KnnClassifierJson;
    const knn = KNN.load(JSON.parse(JSON.stringify(copy.model)) as KnnClassifierJson['model']);
    return new KnnClassifier(copy, knn, scaler);
  }

  predictScores(vectors: readonly Float64Array[]): Float64Array[] {
    const c = this.json.classes.length;
    const weights = this.json.classWeights;
    const f = this.json.featureCount;
    const scaled = new Float64Array(f);
    return vectors.map((v) => {
      this.scaler.transformInto(v, scaled);
      const neighbours = this.knn.kdTree.nearest(scaled, this.json.k);
      const votes = new Float64Array(c);
      let total = 0;
      for (const [point, distance] of neighbours) {
        const label = point[point.length - 1]!;
        let w = this.json.distanceWeighted ? 1 / (distance + 1e-9) : 1;
        if (weights !== null) w *= weights[label]!;
        votes[label]! += w;
        total += w;
      }
      if (total > 0) for (let k = 0; k < c; k++) votes[k]! /= total;
      else votes.fill(1 / c);
      return votes;
    });
  }

  toJSON(): KnnClassifierJson {
    return JSON.parse(JSON.stringify(this.json)) as KnnClassifierJson;
  }
}

/** Deepest k-d tree loaded: a balanced tree of 2^60 points is 60 deep; ml-knn walks it recursively. */
const MAX_KD_DEPTH = 1000;

/**
 * ml-knn's k-d tree as its search reads it: `dimensions` the identity over a point's
 * featureCount + 1 coordinates (the features, then the label); per node, `obj` the training
 * point (featureCount finite numbers and a class index), `dimension` a position in
 * `dimensions`, `left` and `right` a node or null. Walked with an explicit stack.
 */
function checkKdTree(value: unknown, path: string, featureCount: number, classCount: number): void {
  const root = JsonObject.at(value, path, 'a k-d tree (an object)');
  const dimensions = root.numbers('dimensions', { min: 0, integer: true }, { length: featureCount + 1, why: 'the features, then the label' });
  dimensions.forEach((d, i) => {
    if (d !== i) invalid(memberPath(root.pathOf('dimensions'), i), String(i), d);
  });
  const label = { min: 0, max: classCount - 1, integer: true };
  const pending: { readonly value: unknown; readonly path: string; readonly depth: number }[] = [{ value, path, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const node = JsonObject.at(next.value, next.path, next.depth === 0 ? 'a k-d tree (an object)' : 'a k-d tree node (an object), or null for none');
    if (next.depth > MAX_KD_DEPTH) throw new InvalidMemberError(path, `the k-d tree is deeper than ${MAX_KD_DEPTH} levels`);
    const point = node.array('obj', { length: featureCount + 1, why: 'the features, then the class index' });
    checkNumbers(point.slice(0, featureCount), node.pathOf('obj')); // from index 0: the paths hold
    checkNumber(point[featureCount], memberPath(node.pathOf('obj'), featureCount), label);
    node.number('dimension', { min: 0, max: featureCount, integer: true });
    for (const side of ['left', 'right'] as const) {
      if (node.get(side) !== null) pending.push({ value: node.get(side), path: node.pathOf(side), depth: next.depth + 1 });
    }
  }
}
