/**
 * `cumma train CAPTURES... -o MODEL.json`: trains a usage model on labelled captures — truth
 * from packet comments (simulator, recorder and analysts alike) or from truth sidecars.
 */
import { parseArgs } from 'node:util';
import { ClassifierKind } from '../model/classifier';
import { ResampleMode } from '../model/imbalance';
import { CaptureDialog, captureDialogs } from '../pipeline/capture-dialogs';
import { withSidecarTruth } from '../pipeline/sidecar-truth';
import { UsageModel } from '../pipeline/usage-model';
import { CommandIo } from './flows-command';
import { UsageError, parseChoice, parsePositiveNumber } from './usage-error';

const KINDS: readonly ClassifierKind[] = ['random-forest', 'knn'];
const BALANCES = ['none', 'weights', 'under', 'over', 'both'] as const;

export const TRAIN_USAGE = `usage: cumma train CAPTURES... -o MODEL.json [--kind random-forest|knn] [--balance none|weights|under|over|both] [--trees N] [--seed N] [--name NAME]

Trains a model on captures whose packets carry cumma:usage=<label> comments (or that have a
CAPTURE.truth.jsonl sidecar).
  --kind     classifier (default random-forest)
  --balance  class imbalance: none (default; the temporal filter divides the class mix out),
             inverse-frequency class weights, or resampling (under, over, both)
  --trees    trees of the random forest (default 100)`;

/** Labelled dialogs of every capture, with sidecar truth where comments give none. */
export function labelledDialogs(captures: readonly string[]): CaptureDialog[] {
  return captures.flatMap((path) => withSidecarTruth(path, captureDialogs(path)));
}

export async function runTrain(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      kind: { type: 'string' },
      balance: { type: 'string' },
      trees: { type: 'string' },
      seed: { type: 'string' },
      name: { type: 'string' },
    },
  });
  if (positionals.length === 0) throw new UsageError('train needs at least one capture');
  if (values.output === undefined) throw new UsageError('-o MODEL.json is required');
  const kind = parseChoice('kind', values.kind, KINDS, 'random-forest');
  const balance = parseChoice('balance', values.balance, BALANCES, 'none');
  const trees = Math.floor(parsePositiveNumber('trees', values.trees, 100));
  const seed = Math.floor(parsePositiveNumber('seed', values.seed, 1));
  const dialogs = labelledDialogs(positionals);
  const labelled = dialogs.filter((dialog) => dialog.truth !== undefined).length;
  const model = UsageModel.train(dialogs, {
    name: values.name ?? values.output.replace(/^.*[\\/]/, '').replace(/\.json$/, ''),
    kind,
    train: {
      seed,
      classWeights: balance === 'weights',
      ...(balance === 'under' || balance === 'over' || balance === 'both' ? { balance: { mode: balance as ResampleMode } } : {}),
      randomForest: { trees },
    },
  });
  model.save(values.output);
  io.stdout.write(`${values.output}: ${kind} trained on ${labelled} labelled dialogs of ${positionals.length} captures (${dialogs.length - labelled} unlabelled left out); classes ${model.json.classes.join(', ')}\n`);
  return 0;
}
