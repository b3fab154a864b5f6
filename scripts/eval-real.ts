// `npm run eval:real`: scores the classifier on the real captures of ../shared/real-captures/ndpi,
// which are development material and never part of the tests, in DESIGN.md's coarse groups:
//  1. flow level: each flow's group (the coarse group carrying most of its bytes among its
//     dialogs) against flows.tsv's reference label (blank and call_signalling rows left out);
//  2. capture level: for captures labelled as one usage, the group carrying most bytes among
//     dialogs not classed `other` (nor `unknown`) against the capture's own group.
//
// By default the shipped model's recipe (scripts/lib/model-recipe.ts) is cross-validated by
// capture: the simulated training corpus is rebuilt, and each fold of captures is scored by a
// model trained on it plus the labelled flows of the other folds only — the shipped model itself
// has seen every real capture, so its own scores on them would not be an estimate.
// `--model M` scores a given model on every capture instead (right for a model that never saw
// them, e.g. one trained with `npm run model -- --no-real`). `--folds K` (default 11).
import { join, resolve } from 'node:path';
import { UsageModel } from '../agent/src/pipeline/usage-model';
import { DEFAULT_GAPS } from '../agent/src/segment/dialog';
import { REAL_CAPTURES_DIR, readRealCaptures, realCapturesAvailable } from './lib/real-captures';
import { crossValidateReal } from './lib/real-cross-validation';
import { RealScores, emptyRealScores, scoreRealCapture } from './lib/real-evaluation';
import { TRAINING_SEEDS, buildCorpusFlows, labelledDialogs } from './lib/training-corpus';

const ROOT = resolve(__dirname, '..');

function option(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

function print(title: string, scores: RealScores): void {
  process.stdout.write(`${title}\n\n`);
  process.stdout.write(
    `${scores.flows.render(`1. Flows against flows.tsv (coarse groups; call_signalling and blank labels left out, and ${scores.skippedNonTransport.count} ICMP/IGMP rows: flows are TCP/UDP)`)}\n\n`,
  );
  process.stdout.write(`${scores.captures.render('2. Captures labelled as one usage: dominant group among dialogs not classed other or unknown')}\n\n`);
  process.stdout.write(`${[...scores.captureLines].sort().join('\n')}\n`);
}

function main(): number {
  if (!realCapturesAvailable()) {
    process.stderr.write(`eval:real: ${REAL_CAPTURES_DIR} not found (the real captures live beside the repository, in ../shared)\n`);
    return 2;
  }
  const captures = readRealCaptures();
  const modelPath = option('--model');
  if (modelPath !== undefined) {
    const model = UsageModel.load(modelPath);
    const scores = emptyRealScores();
    for (const capture of captures) scoreRealCapture(model, capture, scores);
    print(`Model ${modelPath} on every capture of ${REAL_CAPTURES_DIR} (valid only for a model that never saw them)`, scores);
    return 0;
  }
  const gaps = DEFAULT_GAPS;
  const started = performance.now();
  const simulated = labelledDialogs(
    buildCorpusFlows({
      firstSeed: TRAINING_SEEDS.first,
      seeds: TRAINING_SEEDS.count,
      scratch: join(ROOT, '.cache', 'eval-real-corpus'),
      onProgress: (done, total) => {
        if (done % 50 === 0 || done === total) process.stderr.write(`\rsimulated corpus: ${done}/${total} captures${done === total ? '\n' : ''}`);
      },
    }),
    gaps,
  );
  const cv = crossValidateReal(simulated, captures, {
    gaps,
    folds: Number(option('--folds') ?? 11),
    onFold: (fold, folds, seconds) => process.stderr.write(`\rfold ${fold}/${folds} (${seconds.toFixed(0)} s)${fold === folds ? '\n' : ''}`),
  });
  print(
    `Shipped recipe, ${cv.folds}-fold cross-validation by capture over ${captures.length} captures (${cv.groups} groups of near-duplicates), ` +
      `${simulated.length} simulated dialogs, gaps ${gaps.dialogGapUs / 1e6} s / ${gaps.sessionGapUs / 1e6} s, ${((performance.now() - started) / 1000).toFixed(0)} s`,
    cv,
  );
  return 0;
}

process.exitCode = main();
