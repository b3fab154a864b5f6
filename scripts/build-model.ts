// `npm run model`: rebuilds models/default.json from scratch — simulated captures for training
// (seeds TRAINING_SEEDS) and for evaluation (EVALUATION_SEEDS, never trained on), plus the
// labelled flows of the real captures in ../shared/real-captures/ndpi when they are there
// (model-recipe.ts says how); then the evaluation figures, written into the model:
//  - per-class P/R/F1 on the unseen simulated seeds through UsageModel.classify, with forward
//    filtering (the default), Viterbi over whole sessions and without the temporal model;
//  - coarse macro-F1 on the real captures by cross-validation over captures (--no-real-cv skips);
//  - training time and prediction rate (model-bench.ts).
// Options for experiments: --trees N, --dialog-gap S, --session-gap S, --training-seeds N,
// --evaluation-seeds N, --folds K, --no-real, --no-real-cv, --out PATH.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MetricsReport, evaluatePredictions, renderMetricsTable } from '../agent/src/model/metrics';
import { CaptureDialog } from '../agent/src/pipeline/capture-dialogs';
import { TemporalMode } from '../agent/src/pipeline/dialog-labeler';
import { predictPerCapture } from '../agent/src/pipeline/evaluation';
import { UsageModel } from '../agent/src/pipeline/usage-model';
import { DEFAULT_GAPS } from '../agent/src/segment/dialog';
import { measureModelBench, renderModelBench } from './lib/model-bench';
import { REAL_DIALOG_WEIGHT, RECIPE_BALANCES, RecipeBalance, describeRecipe, realTrainingDialogs, trainRecipe } from './lib/model-recipe';
import { REAL_CAPTURES_DIR, RealCapture, readRealCaptures, realCapturesAvailable } from './lib/real-captures';
import { crossValidateReal } from './lib/real-cross-validation';
import { CoarseConfusion } from './lib/real-evaluation';
import { EVALUATION_SEEDS, TRAINING_SEEDS, buildCorpusFlows, labelledDialogs } from './lib/training-corpus';

const ROOT = resolve(__dirname, '..');

const USAGE = `usage: npm run model -- [--out PATH] [--trees N] [--dialog-gap S] [--session-gap S]
                     [--training-seeds N] [--evaluation-seeds N] [--folds K] [--no-real] [--no-real-cv]
                     [--balance none|weights|under|over|both]

Rebuilds the shipped model (default: models/default.json) from scratch and writes its evaluation.`;

const NUMBER_OPTIONS = ['trees', 'dialog-gap', 'session-gap', 'training-seeds', 'evaluation-seeds', 'folds'] as const;

/**
 * The command line, checked: an unknown or misspelt option stops the run before anything is
 * built, since the default output is the shipped model file.
 */
function readOptions(): { values: ReturnType<typeof parseOptions>['values'] } | undefined {
  try {
    const parsed = parseOptions();
    if (parsed.values.help) {
      process.stdout.write(`${USAGE}\n`);
      return undefined;
    }
    if (!(RECIPE_BALANCES as readonly string[]).includes(parsed.values.balance)) {
      throw new Error(`--balance expects one of ${RECIPE_BALANCES.join(', ')}, got '${parsed.values.balance}'`);
    }
    for (const name of NUMBER_OPTIONS) {
      const text = parsed.values[name];
      if (text === undefined) continue;
      const value = Number(text);
      // Gaps are seconds (any finite duration); the rest are counts.
      const valid = name.endsWith('-gap') ? value > 0 && Number.isFinite(value) : Number.isInteger(value) && value > 0;
      if (!valid) throw new Error(`--${name} expects ${name.endsWith('-gap') ? 'a finite number of seconds > 0' : 'a whole number > 0'}, got '${text}'`);
    }
    return parsed;
  } catch (error) {
    process.stderr.write(`npm run model: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    process.exitCode = 2;
    return undefined;
  }
}

function parseOptions() {
  return parseArgs({
    args: process.argv.slice(2),
    options: {
      out: { type: 'string' },
      trees: { type: 'string' },
      'dialog-gap': { type: 'string' },
      'session-gap': { type: 'string' },
      'training-seeds': { type: 'string' },
      'evaluation-seeds': { type: 'string' },
      folds: { type: 'string' },
      balance: { type: 'string', default: 'none' },
      'no-real': { type: 'boolean', default: false },
      'no-real-cv': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
}

let options: NonNullable<ReturnType<typeof readOptions>>['values'];

function option(name: (typeof NUMBER_OPTIONS)[number], fallback: number): number {
  const text = options[name];
  return text === undefined ? fallback : Number(text);
}

function progress(label: string): (done: number, total: number) => void {
  return (done, total) => {
    if (done % 50 === 0 || done === total) process.stderr.write(`\r${label}: ${done}/${total} captures`);
    if (done === total) process.stderr.write('\n');
  };
}

function evaluate(model: UsageModel, dialogs: readonly CaptureDialog[], temporal: TemporalMode): MetricsReport {
  const { truth, predicted } = predictPerCapture(model, dialogs, temporal);
  return evaluatePredictions(truth, predicted, model.json.classes);
}

const round = (value: number): number => Number(value.toFixed(4));
/** An undefined figure (metrics.ts) stays null: 0 would pass an absent class for a missed one. */
const roundOrNull = (value: number | null): number | null => (value === null ? null : round(value));

function summary(report: MetricsReport) {
  return {
    macroF1: round(report.macroF1),
    accuracy: round(report.accuracy),
    dialogs: report.total,
    unknown: report.unknown,
    perClass: Object.fromEntries(report.perClass.map((c) => [c.class, { precision: roundOrNull(c.precision), recall: roundOrNull(c.recall), f1: roundOrNull(c.f1), support: c.support }])),
  };
}

function coarseSummary(confusion: CoarseConfusion) {
  return {
    macroF1: round(confusion.macroF1()),
    perGroup: Object.fromEntries(confusion.scores().map((s) => [s.group, { precision: round(s.precision), recall: round(s.recall), f1: round(s.f1), support: s.support }])),
  };
}

function perClassLine(report: MetricsReport): string {
  return report.perClass.map((c) => `${c.class} ${c.f1 === null ? '-' : c.f1.toFixed(2)}`).join(', ');
}

function main(): number {
  const trainingSeeds = option('training-seeds', TRAINING_SEEDS.count);
  const evaluationSeeds = option('evaluation-seeds', EVALUATION_SEEDS.count);
  const useReal = !options['no-real'];
  const realCv = useReal && !options['no-real-cv'];
  const scratch = join(ROOT, '.cache', 'corpus');
  const started = performance.now();
  const gaps = { dialogGapUs: option('dialog-gap', DEFAULT_GAPS.dialogGapUs / 1e6) * 1e6, sessionGapUs: option('session-gap', DEFAULT_GAPS.sessionGapUs / 1e6) * 1e6 };
  const trees = option('trees', 100);
  const training = labelledDialogs(buildCorpusFlows({ firstSeed: TRAINING_SEEDS.first, seeds: trainingSeeds, scratch, onProgress: progress('training corpus') }), gaps);
  const evaluation = labelledDialogs(buildCorpusFlows({ firstSeed: EVALUATION_SEEDS.first, seeds: evaluationSeeds, scratch, onProgress: progress('evaluation corpus') }), gaps);
  let captures: RealCapture[] = [];
  if (useReal) {
    if (realCapturesAvailable()) captures = readRealCaptures();
    else process.stderr.write(`model: ${REAL_CAPTURES_DIR} not found: training on simulated traffic only\n`);
  }
  const real = realTrainingDialogs(captures, gaps);
  process.stderr.write(
    `corpus: ${training.length} simulated training, ${evaluation.length} evaluation and ${real.length} real labelled dialogs in ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
  );

  const trainStarted = performance.now();
  const model = trainRecipe(training, real, { name: 'default', gaps, trees, balance: options.balance as RecipeBalance });
  const modelSeconds = (performance.now() - trainStarted) / 1000;
  const forward = evaluate(model, evaluation, 'forward');
  const viterbi = evaluate(model, evaluation, 'viterbi');
  const withoutTemporal = evaluate(model, evaluation, 'off');
  process.stdout.write(
    `Model trained on ${training.length} simulated + ${real.length} real dialogs in ${modelSeconds.toFixed(1)} s ` +
      `(two forests — calibration and final — outlier detector, temporal model).\n\n` +
      `Evaluation on unseen simulated seeds (${evaluation.length} dialogs), forward filtering (the default: cumma classify, the live agent):\n${renderMetricsTable(forward)}\n\n` +
      `Viterbi over whole sessions (--temporal viterbi): macro-F1 ${viterbi.macroF1.toFixed(3)} (${perClassLine(viterbi)})\n` +
      `Temporal model off: macro-F1 ${withoutTemporal.macroF1.toFixed(3)} (${perClassLine(withoutTemporal)})\n\n`,
  );

  const bench = measureModelBench(training, { trees, predict: evaluation, model });
  process.stdout.write(`Speed (one process):\n${renderModelBench(bench)}\n\n`);

  let realFigures: unknown;
  if (realCv && captures.length > 0) {
    const cv = crossValidateReal(training, captures, {
      gaps,
      folds: option('folds', 11),
      onFold: (fold, folds, seconds) => process.stderr.write(`\rreal captures: fold ${fold}/${folds} (${seconds.toFixed(0)} s)`),
    });
    process.stderr.write('\n');
    process.stdout.write(
      `Real captures, ${cv.folds}-fold cross-validation by capture (${cv.groups} capture groups): coarse macro-F1 ` +
        `${cv.flows.macroF1().toFixed(3)} per flow, ${cv.captures.macroF1().toFixed(3)} per capture (npm run eval:real prints the tables)\n`,
    );
    realFigures = { method: `${cv.folds}-fold cross-validation by capture group`, flows: coarseSummary(cv.flows), captures: coarseSummary(cv.captures) };
  }

  mkdirSync(join(ROOT, 'models'), { recursive: true });
  const output = options.out !== undefined ? resolve(options.out) : join(ROOT, 'models', 'default.json');
  model.save(output, {
    data: {
      simulated: `training seeds ${TRAINING_SEEDS.first}–${TRAINING_SEEDS.first + trainingSeeds - 1} (${training.length} dialogs), evaluation seeds ${EVALUATION_SEEDS.first}–${EVALUATION_SEEDS.first + evaluationSeeds - 1} (${evaluation.length} dialogs, never trained on)`,
      real:
        captures.length > 0
          ? {
              source: 'ndpi captures (../shared/real-captures/ndpi), flows.tsv labels',
              captures: new Set(real.map((d) => d.capture)).size,
              dialogs: real.length,
              weight: REAL_DIALOG_WEIGHT,
              perClass: Object.fromEntries([...new Set(real.map((d) => d.truth!))].map((c) => [c, real.filter((d) => d.truth === c).length])),
            }
          : 'none',
    },
    recipe: describeRecipe(options.balance as RecipeBalance),
    gaps,
    modelSeconds: Number(modelSeconds.toFixed(1)),
    bench: {
      trainingSeconds: Number(bench.trainingSeconds.toFixed(1)),
      trainingDialogs: bench.trainingDialogs,
      trees: bench.trees,
      scoresPerSecond: Math.round(bench.scoresPerSecond),
      verdictsPerSecond: bench.verdictsPerSecond === undefined ? null : Math.round(bench.verdictsPerSecond),
    },
    temporalForward: summary(forward),
    temporalViterbi: summary(viterbi),
    temporalOff: summary(withoutTemporal),
    ...(realFigures !== undefined ? { realCaptures: realFigures } : {}),
  });
  process.stdout.write(`Wrote ${output}\n`);
  return 0;
}

const parsed = readOptions();
if (parsed !== undefined) {
  options = parsed.values;
  process.exitCode = main();
}
