/**
 * Model speed figures for the issue 4 targets (benchmark output, not timed tests): training 100
 * trees on 20 k dialogs ≤ 60 s on this 2-core machine, and ≥ 20 k dialogs/s of prediction once
 * features are computed.
 *
 * - Training: the classifier alone (trainClassifier with the shipped recipe's forest options,
 *   model-recipe.ts), one process, one thread — what `npm run model` spends per forest.
 * - Prediction: class scores (UsageClassifier.predictScores) for every given vector, and the
 *   whole per-dialog verdict the live agent and `cumma classify` compute after features: scores,
 *   forward filtering along sessions and the outlier check (UsageModel.classify).
 */
import { TrainingSample, trainClassifier } from '../../agent/src/model/classifier';
import { CaptureDialog } from '../../agent/src/pipeline/capture-dialogs';
import { UsageModel } from '../../agent/src/pipeline/usage-model';
import { FOREST_OPTIONS } from './model-recipe';

export interface ModelBenchFigures {
  /** Labelled dialogs the forest was trained on. */
  readonly trainingDialogs: number;
  readonly trees: number;
  readonly trainingSeconds: number;
  /** Vectors scored per second by the classifier (predictScores), best of `repeats`. */
  readonly scoresPerSecond: number;
  /** Dialogs labelled per second by UsageModel.classify (scores, temporal filter, outliers), when a model is given. */
  readonly verdictsPerSecond?: number;
  readonly predictedDialogs: number;
}

export interface ModelBenchOptions {
  /** Dialogs to score; default: the training dialogs. */
  readonly predict?: readonly CaptureDialog[];
  /** A trained model for the full verdict rate. */
  readonly model?: UsageModel;
  readonly trees?: number;
  /** Prediction passes; the fastest counts (default 3). */
  readonly repeats?: number;
}

/** Trains one forest on `training` (labelled dialogs) and measures training time and prediction rates. */
export function measureModelBench(training: readonly CaptureDialog[], options: ModelBenchOptions = {}): ModelBenchFigures {
  const samples: TrainingSample[] = training.filter((d) => d.truth !== undefined).map((d) => ({ features: d.features, label: d.truth! }));
  const trees = options.trees ?? FOREST_OPTIONS.trees;
  const started = performance.now();
  const classifier = trainClassifier('random-forest', samples, { seed: 1, randomForest: { ...FOREST_OPTIONS, trees } });
  const trainingSeconds = (performance.now() - started) / 1000;
  const predict = options.predict ?? training;
  const vectors = predict.map((d) => d.features);
  const repeats = options.repeats ?? 3;
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    classifier.predictScores(vectors);
    best = Math.min(best, performance.now() - t);
  }
  let verdictsPerSecond: number | undefined;
  if (options.model !== undefined) {
    let bestVerdicts = Infinity;
    for (let r = 0; r < repeats; r++) {
      const t = performance.now();
      options.model.classify(predict);
      bestVerdicts = Math.min(bestVerdicts, performance.now() - t);
    }
    verdictsPerSecond = predict.length / (bestVerdicts / 1000);
  }
  return {
    trainingDialogs: samples.length,
    trees,
    trainingSeconds,
    scoresPerSecond: vectors.length / (best / 1000),
    ...(verdictsPerSecond !== undefined ? { verdictsPerSecond } : {}),
    predictedDialogs: predict.length,
  };
}

export function renderModelBench(figures: ModelBenchFigures): string {
  const lines = [
    `training: ${figures.trees} trees on ${figures.trainingDialogs} dialogs in ${figures.trainingSeconds.toFixed(1)} s (target ≤ 60 s)`,
    `prediction: ${Math.round(figures.scoresPerSecond)} dialogs/s class scores (target ≥ 20000), on ${figures.predictedDialogs} dialogs`,
  ];
  if (figures.verdictsPerSecond !== undefined) lines.push(`verdicts: ${Math.round(figures.verdictsPerSecond)} dialogs/s with temporal filter and outlier check`);
  return lines.join('\n');
}
