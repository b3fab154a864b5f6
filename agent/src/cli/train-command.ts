/**
 * `cumma train CAPTURES... -o MODEL.json`: trains a usage model on labelled captures — truth
 * from packet comments (simulator, recorder and analysts alike) or from truth sidecars.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClassifierKind } from '../model/classifier';
import { ResampleMode } from '../model/imbalance';
import { CaptureDialog, captureDialogs } from '../pipeline/capture-dialogs';
import { withSidecarTruth } from '../pipeline/sidecar-truth';
import { UsageModel } from '../pipeline/usage-model';
import { DEFAULT_GAPS, SegmentationGaps } from '../segment/dialog';
import { CommandIo } from './flows-command';
import { UsageError, parseChoice, parsePositiveInteger } from './usage-error';

const KINDS: readonly ClassifierKind[] = ['random-forest', 'knn'];
const BALANCES = ['none', 'weights', 'under', 'over', 'both'] as const;

export const TRAIN_USAGE = `usage: cumma train CAPTURES... -o MODEL.json [--kind random-forest|knn] [--balance none|weights|under|over|both] [--trees N] [--seed N] [--name NAME]

Trains a model on captures whose packets carry cumma:usage=<label> comments (or that have a
CAPTURE.truth.jsonl sidecar).
  --kind     classifier (default random-forest)
  --balance  class imbalance: none (default; the temporal filter divides the class mix out),
             inverse-frequency class weights, or resampling (under, over, both)
  --trees    trees of the random forest (default 100)
  --seed     seed of the forest's random choices: the same captures and seed give the same
             model (default 1)
  --name     the model's name, printed in every record's model field (default: the file name
             of -o without .json)`;

/**
 * Labelled dialogs of every capture, cut with `gaps`, with sidecar truth where comments give
 * none; `onWarning` hears of packets that could not be decoded.
 */
export function labelledDialogs(captures: readonly string[], onWarning?: (message: string) => void, gaps: SegmentationGaps = DEFAULT_GAPS): CaptureDialog[] {
  return captures.flatMap((path) => withSidecarTruth(path, captureDialogs(path, { gaps, ...(onWarning === undefined ? {} : { onWarning }) })));
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
  // Checked before training, which can take minutes, rather than when the model is written.
  if (existsSync(values.output) && statSync(values.output).isDirectory()) {
    throw new UsageError(`-o ${values.output} is a directory: give the model file's name, e.g. ${join(values.output, 'model.json')}`);
  }
  const kind = parseChoice('kind', values.kind, KINDS, 'random-forest');
  const balance = parseChoice('balance', values.balance, BALANCES, 'none');
  const trees = parsePositiveInteger('trees', values.trees, 100);
  const seed = parsePositiveInteger('seed', values.seed, 1);
  const dialogs = labelledDialogs(positionals, (message) => io.stderr.write(`cumma: ${message}\n`));
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
  io.stdout.write(`${values.output}: ${kind} trained on ${labelled} labelled dialogs of ${positionals.length} capture${positionals.length === 1 ? '' : 's'} (${dialogs.length - labelled} unlabelled left out); classes ${model.json.classes.join(', ')}\n`);
  return 0;
}
