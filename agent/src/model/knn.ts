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

import { isUsageClass, type UsageClass } from '../labels';
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

  static load(json: KnnClassifierJson): KnnClassifier {
    if (json.format !== 'cumma-classifier' || json.version !== 1 || json.kind !== 'knn') {
      throw new RangeError('not a cumma knn model (format/version/kind)');
    }
    if (!Array.isArray(json.classes) || !json.classes.every((c) => isUsageClass(c))) {
      throw new RangeError('knn model: bad classes');
    }
    const copy = JSON.parse(JSON.stringify(json)) as KnnClassifierJson;
    // KNN.load rebuilds the tree in place (it restores parent links), so give it its own copy.
    const knn = KNN.load(JSON.parse(JSON.stringify(copy.model)) as KnnClassifierJson['model']);
    return new KnnClassifier(copy, knn, StandardScaler.fromJSON(copy.scaler));
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
