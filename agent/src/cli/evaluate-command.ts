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
import { LabelledCapture, groupSharedTraffic, noLabelsWarning, readLabelledCaptures, unknownClassesText } from './labelled-captures';
import { MODEL_OPTIONS, ModelRecipe, describeRecipe, distinctCaptures, modelOptionsHelp, modelTrainOptions, parseModelRecipe, recipeRecord } from './train-command';
import { TEMPORAL_HELP, TEMPORAL_OPTIONS, parseTemporal } from './temporal-option';
import { UsageError, parseChoice, parsePositiveInteger } from './usage-error';

/** Most folds: each trains a model, so K folds take K trainings (leave-one-out of 100 captures). */
const MAX_FOLDS = 100;

export const EVALUATE_USAGE = `usage: cumma evaluate CAPTURES... [--model MODEL.json | --folds K [--kind random-forest|knn] [--balance none|weights|under|over|both] [--trees N] [--seed N]] [--format table|json] [--temporal forward|viterbi|off]

Scores a model on captures labelled with cumma:usage=<label> comments (or truth sidecars):
per-class precision, recall, F1, support and predicted count ('-' where a figure is undefined),
macro-F1, accuracy and the confusion matrix. Each capture is read once (the same file given
twice, under any spelling, is refused) and scored on its own: a/x.pcapng and b/x.pcapng are two
captures. Every dialog of a capture is classified as 'cumma classify' classifies it, and its
labelled dialogs are scored; a capture with no labelled dialog is a warning, and left out.
  --model        the model to score (default: the shipped models/default.json)
  --folds        instead, K-fold cross-validation by capture (K from 2 to ${MAX_FOLDS}, and at most the
                 number of captures): train on K-1 folds, score the other;
                 captures that hold the same traffic (a copy, a pcap conversion) stay in one
                 fold; each fold is trained as 'cumma train' trains with the same options:
${modelOptionsHelp(17)}
  --format       table (default) or json
${TEMPORAL_HELP}

The table ends with what was scored (the model's name, version and file, or the folds and
their training options), the --temporal mode and the segmentation gaps; --format json has them
as scored, model (null with --folds), recipe (with --folds), temporal and gaps.`;

export async function runEvaluate(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      folds: { type: 'string' },
      format: { type: 'string' },
      ...MODEL_OPTIONS,
      ...TEMPORAL_OPTIONS,
    },
  });
  if (positionals.length === 0) throw new UsageError('evaluate needs at least one labelled capture');
  if (values.model !== undefined && values.folds !== undefined) throw new UsageError('give --model or --folds, not both');
  const format = parseChoice('format', values.format, ['table', 'json'] as const, 'table');
  const temporal = parseTemporal(values);
  const crossValidate = values.folds !== undefined;
  // Training options mean nothing to a model that is already trained: refused, not ignored.
  const trainingOptions = (Object.keys(MODEL_OPTIONS) as (keyof typeof MODEL_OPTIONS)[]).filter((option) => values[option] !== undefined);
  if (!crossValidate && trainingOptions.length > 0) {
    throw new UsageError(`${trainingOptions.map((option) => `--${option}`).join(', ')} say${trainingOptions.length === 1 ? 's' : ''} how to train: give with --folds K; --model scores a model as it was trained`);
  }
  const recipe: ModelRecipe | undefined = crossValidate ? parseModelRecipe(values) : undefined;
  // Checked against the captures too, but only once they are read: a K out of range is refused now.
  const folds = crossValidate ? parsePositiveInteger('folds', values.folds, 5, { min: 2, max: MAX_FOLDS }) : undefined;
  // Refuses the same file given twice (its dialogs would count double).
  distinctCaptures(positionals);
  // A given model is scored on dialogs cut with its own gaps; cross-validation uses the defaults.
  const modelPath = crossValidate ? undefined : (values.model ?? DEFAULT_MODEL);
  const given = modelPath === undefined ? undefined : UsageModel.load(modelPath);
  const gaps = given?.gaps ?? DEFAULT_GAPS;
  const warn = (message: string): void => void io.stderr.write(`cumma evaluate: warning: ${message}\n`);
  const note = (message: string): void => void io.stderr.write(`cumma evaluate: note: ${message}\n`);
  const captures = readLabelledCaptures(positionals, (message) => io.stderr.write(`cumma: ${message}\n`), gaps);
  for (const capture of captures) if (capture.labelled === 0) warn(noLabelsWarning(capture, 'it is not scored'));
  // Captures without labels are left out whole: nothing of theirs can be scored, and training
  // learns nothing from them.
  const scoredCaptures = captures.filter((capture) => capture.labelled > 0);
  // Not a command-line mistake: the captures hold nothing to score (exit 1, no usage text).
  if (scoredCaptures.length === 0) throw new Error('no labelled dialogs in these captures: label packets with cumma:usage=<label> comments, or give each capture a CAPTURE.truth.jsonl sidecar');
  const groups = groupSharedTraffic(scoredCaptures, crossValidate ? 'they are kept in one fold' : 'the dialogs they share are scored once per capture', note);
  let report: MetricsReport;
  if (recipe !== undefined && folds !== undefined) {
    if (folds < 2 || folds > groups.length) {
      throw new UsageError(
        groups.length === scoredCaptures.length
          ? `--folds must be between 2 and the number of captures with labelled dialogs (${groups.length})`
          : `--folds must be between 2 and the number of groups of captures with labelled dialogs (${groups.length}): ` +
              `captures that hold the same traffic stay in one fold (the note above), so the ${scoredCaptures.length} captures make ${groups.length} groups`,
      );
    }
    const truth: UsageClass[] = [];
    const predicted: UsageVerdict[] = [];
    let classes: UsageClass[] = [];
    // Groups are dealt round-robin in order of appearance: with no shared traffic, capture k is
    // in fold k mod K.
    const foldOf = new Map<LabelledCapture, number>();
    groups.forEach((group, index) => group.members.forEach((member) => foldOf.set(scoredCaptures[member]!, index % folds)));
    for (let fold = 0; fold < folds; fold++) {
      const test = scoredCaptures.filter((capture) => foldOf.get(capture) === fold);
      const where = `fold ${fold + 1} of ${folds}`;
      let model: UsageModel;
      try {
        model = UsageModel.train(
          scoredCaptures.filter((capture) => foldOf.get(capture) !== fold).flatMap((capture) => capture.dialogs),
          modelTrainOptions(recipe, `fold${fold}`, (message) => warn(`${where}: ${message}`)),
        );
      } catch (error) {
        // Which fold could not be trained, and on what, is what the user can act on.
        throw new Error(`${where} (trained without ${test.map((capture) => capture.given).join(', ')}): ${error instanceof Error ? error.message : String(error)}`);
      }
      const result = predictPerCapture(model, test.flatMap((capture) => capture.dialogs), temporal);
      const unknownClasses = unknownClassesText(result.truth, model.json.classes);
      if (unknownClasses !== undefined) {
        warn(`${where}: its captures' truth holds classes its model, trained without them, does not know: ${unknownClasses}; they can only count as misses`);
      }
      truth.push(...result.truth);
      predicted.push(...result.predicted);
      classes = [...new Set([...classes, ...model.json.classes])];
    }
    report = evaluatePredictions(truth, predicted, [...new Set([...classes, ...truth])]);
  } else {
    const model = given!;
    const result = predictPerCapture(model, scoredCaptures.flatMap((capture) => capture.dialogs), temporal);
    const unknownClasses = unknownClassesText(result.truth, model.json.classes);
    if (unknownClasses !== undefined) {
      warn(`the truth holds classes model ${model.header.name}@${model.header.version} (${modelPath!}) does not know: ${unknownClasses}; they can only count as misses`);
    }
    const classes = [...model.json.classes, ...new Set(result.truth.filter((label) => !model.json.classes.includes(label)))];
    report = evaluatePredictions(result.truth, result.predicted, classes);
  }
  // DESIGN.md: the gaps are printed with every result; and so are the model (its file too) and
  // the temporal mode, without which the figures cannot be reproduced.
  const scored = given === undefined ? `${values.folds}-fold cross-validation by capture` : `model ${given.header.name}@${given.header.version}`;
  const what = given === undefined ? `${scored}, each fold trained as cumma train would (${describeRecipe(recipe!)})` : `${scored} (${modelPath!})`;
  io.stdout.write(
    format === 'json'
      ? `${JSON.stringify({ ...report, gaps, scored, model: modelPath ?? null, ...(recipe === undefined ? {} : { recipe: recipeRecord(recipe) }), temporal })}\n`
      : `${renderMetricsTable(report)}\n\n${what}; temporal ${temporal}; dialogs cut with gaps of ${gaps.sessionGapUs / 1e6} s (session) and ${gaps.dialogGapUs / 1e6} s (dialog)\n`,
  );
  return 0;
}
