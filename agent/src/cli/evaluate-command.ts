/**
 * `cumma evaluate CAPTURES... --model M`: per-class precision, recall, F1 and support, macro-F1
 * and the confusion matrix of a model on labelled captures; or, with --folds K, k-fold
 * cross-validation by capture (never a random split of dialogs: dialogs of one capture are
 * alike, and splitting them would flatter the model).
 */
import { parseArgs } from 'node:util';
import { UsageClass, UsageVerdict } from '../labels';
import { MetricsReport, evaluatePredictions, renderMetricsTable } from '../model/metrics';
import { predictPerCapture } from '../pipeline/evaluation';
import { UsageModel } from '../pipeline/usage-model';
import { DEFAULT_GAPS } from '../segment/dialog';
import { DEFAULT_MODEL } from './classify-command';
import { CommandIo } from './flows-command';
import { labelledDialogs } from './train-command';
import { TEMPORAL_HELP, TEMPORAL_OPTIONS, parseTemporal } from './temporal-option';
import { UsageError, parseChoice, parsePositiveInteger } from './usage-error';

export const EVALUATE_USAGE = `usage: cumma evaluate CAPTURES... [--model MODEL.json | --folds K] [--format table|json] [--temporal forward|viterbi|off]

Scores a model on captures labelled with cumma:usage=<label> comments (or truth sidecars):
per-class precision, recall, F1 and support, macro-F1, accuracy and the confusion matrix.
  --model        the model to score (default: the shipped models/default.json)
  --folds        instead, K-fold cross-validation by capture: train on K-1 folds, score the other
  --format       table (default) or json
${TEMPORAL_HELP}`;

export async function runEvaluate(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      folds: { type: 'string' },
      format: { type: 'string' },
      ...TEMPORAL_OPTIONS,
    },
  });
  if (positionals.length === 0) throw new UsageError('evaluate needs at least one labelled capture');
  if (values.model !== undefined && values.folds !== undefined) throw new UsageError('give --model or --folds, not both');
  const format = parseChoice('format', values.format, ['table', 'json'] as const, 'table');
  const temporal = parseTemporal(values);
  // A given model is scored on dialogs cut with its own gaps; cross-validation uses the defaults.
  const given = values.model !== undefined || values.folds === undefined ? UsageModel.load(values.model ?? DEFAULT_MODEL) : undefined;
  const gaps = given?.gaps ?? DEFAULT_GAPS;
  const dialogs = labelledDialogs(positionals, (message) => io.stderr.write(`cumma: ${message}\n`), gaps).filter((dialog) => dialog.truth !== undefined);
  // Not a command-line mistake: the captures hold nothing to score (exit 1, no usage text).
  if (dialogs.length === 0) throw new Error('no labelled dialogs in these captures: label packets with cumma:usage=<label> comments, or give each capture a CAPTURE.truth.jsonl sidecar');
  let report: MetricsReport;
  if (values.folds !== undefined) {
    const folds = parsePositiveInteger('folds', values.folds, 5);
    const captures = [...new Set(dialogs.map((dialog) => dialog.capture))];
    if (folds < 2 || folds > captures.length) throw new UsageError(`--folds must be between 2 and the number of captures (${captures.length})`);
    const truth: UsageClass[] = [];
    const predicted: UsageVerdict[] = [];
    let classes: UsageClass[] = [];
    for (let fold = 0; fold < folds; fold++) {
      const test = new Set(captures.filter((_, index) => index % folds === fold));
      const model = UsageModel.train(
        dialogs.filter((dialog) => !test.has(dialog.capture)),
        { name: `fold${fold}`, train: { classWeights: true } },
      );
      const result = predictPerCapture(model, dialogs.filter((dialog) => test.has(dialog.capture)), temporal);
      truth.push(...result.truth);
      predicted.push(...result.predicted);
      classes = [...new Set([...classes, ...model.json.classes])];
    }
    report = evaluatePredictions(truth, predicted, [...new Set([...classes, ...truth])]);
  } else {
    const model = given!;
    const result = predictPerCapture(model, dialogs, temporal);
    const classes = [...model.json.classes, ...new Set(result.truth.filter((label) => !model.json.classes.includes(label)))];
    report = evaluatePredictions(result.truth, result.predicted, classes);
  }
  // DESIGN.md: the gaps are printed with every result.
  const scored = given === undefined ? `${values.folds}-fold cross-validation by capture` : `model ${given.header.name}@${given.header.version}`;
  io.stdout.write(
    format === 'json'
      ? `${JSON.stringify({ ...report, gaps, scored })}\n`
      : `${renderMetricsTable(report)}\n\n${scored}; dialogs cut with gaps of ${gaps.sessionGapUs / 1e6} s (session) and ${gaps.dialogGapUs / 1e6} s (dialog)\n`,
  );
  return 0;
}
