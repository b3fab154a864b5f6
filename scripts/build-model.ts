// `npm run model`: rebuilds models/default.json from scratch — simulated captures for training
// (seeds TRAINING_SEEDS) and for evaluation (EVALUATION_SEEDS, never trained on), a random
// forest with class-weighted bootstraps, then the evaluation figures written into the model.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { evaluatePredictions, renderMetricsTable } from '../agent/src/model/metrics';
import { CaptureDialog } from '../agent/src/pipeline/capture-dialogs';
import { predictPerCapture } from '../agent/src/pipeline/evaluation';
import { UsageModel } from '../agent/src/pipeline/usage-model';
import { DEFAULT_GAPS } from '../agent/src/segment/dialog';
import { EVALUATION_SEEDS, TRAINING_SEEDS, buildCorpus } from './lib/training-corpus';

const ROOT = resolve(__dirname, '..');

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

function progress(label: string): (done: number, total: number) => void {
  return (done, total) => {
    if (done % 50 === 0 || done === total) process.stderr.write(`\r${label}: ${done}/${total} captures`);
    if (done === total) process.stderr.write('\n');
  };
}

function evaluate(model: UsageModel, dialogs: readonly CaptureDialog[], temporal: boolean) {
  const { truth, predicted } = predictPerCapture(model, dialogs, temporal);
  return evaluatePredictions(truth, predicted, model.json.classes);
}

function main(): void {
  const trainingSeeds = option('--training-seeds', TRAINING_SEEDS.count);
  const evaluationSeeds = option('--evaluation-seeds', EVALUATION_SEEDS.count);
  const scratch = join(ROOT, '.cache', 'corpus');
  const started = performance.now();
  const gaps = { dialogGapUs: option('--dialog-gap', DEFAULT_GAPS.dialogGapUs / 1e6) * 1e6, sessionGapUs: option('--session-gap', DEFAULT_GAPS.sessionGapUs / 1e6) * 1e6 };
  const training = buildCorpus({ firstSeed: TRAINING_SEEDS.first, seeds: trainingSeeds, scratch, gaps, onProgress: progress('training corpus') });
  const evaluation = buildCorpus({ firstSeed: EVALUATION_SEEDS.first, seeds: evaluationSeeds, scratch, gaps, onProgress: progress('evaluation corpus') });
  process.stderr.write(`corpus: ${training.length} training and ${evaluation.length} evaluation dialogs in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  const trainStarted = performance.now();
  const randomForest = { trees: option('--trees', 100), maxSamples: option('--samples-per-tree', 600) };
  const model = UsageModel.train(training, { name: 'default', gaps, train: { classWeights: true, seed: 1, randomForest } });
  const trainSeconds = (performance.now() - trainStarted) / 1000;
  const withTemporal = evaluate(model, evaluation, true);
  const withoutTemporal = evaluate(model, evaluation, false);
  process.stdout.write(`Trained on ${training.length} dialogs in ${trainSeconds.toFixed(1)} s.\n\nEvaluation on unseen seeds, temporal smoothing on:\n${renderMetricsTable(withTemporal)}\n\nTemporal smoothing off: macro-F1 ${withoutTemporal.macroF1.toFixed(3)}\n`);
  mkdirSync(join(ROOT, 'models'), { recursive: true });
  const summary = (report: typeof withTemporal) => ({
    macroF1: Number(report.macroF1.toFixed(4)),
    accuracy: Number(report.accuracy.toFixed(4)),
    unknown: report.unknown,
    perClass: Object.fromEntries(report.perClass.map((c) => [c.class, { precision: Number(c.precision.toFixed(4)), recall: Number(c.recall.toFixed(4)), f1: Number(c.f1.toFixed(4)), support: c.support }])),
  });
  const output = process.argv.includes('--out') ? resolve(process.argv[process.argv.indexOf('--out') + 1]!) : join(ROOT, 'models', 'default.json');
  model.save(output, {
    data: `simulated captures, training seeds ${TRAINING_SEEDS.first}–${TRAINING_SEEDS.first + trainingSeeds - 1}, evaluation seeds ${EVALUATION_SEEDS.first}–${EVALUATION_SEEDS.first + evaluationSeeds - 1}`,
    trainingSeconds: Number(trainSeconds.toFixed(1)),
    randomForest,
    gaps,
    temporalOn: summary(withTemporal),
    temporalOff: summary(withoutTemporal),
  });
}

main();
