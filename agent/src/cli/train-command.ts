/**
 * `cumma train CAPTURES... -o MODEL.json`: trains a usage model on labelled captures — truth
 * from packet comments (simulator, recorder and analysts alike) or from truth sidecars.
 */
import { accessSync, constants } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ClassifierKind } from '../model/classifier';
import { ResampleMode } from '../model/imbalance';
import { CalibrationSplit, MODEL_FORMAT, ModelTrainOptions, UsageModel } from '../pipeline/usage-model';
import { fileKind, NotRegularFileError, readFileHead, statOrUndefined } from '../common/file-kind';
import { CommandIo } from './flows-command';
import { groupSharedTraffic, namesText, noLabelsWarning, readLabelledCaptures } from './labelled-captures';
import { UsageError, parseChoice, parsePositiveInteger } from './usage-error';

const KINDS: readonly ClassifierKind[] = ['random-forest', 'knn'];
const BALANCES = ['none', 'weights', 'under', 'over', 'both'] as const;
type Balance = (typeof BALANCES)[number];

/**
 * The options that say how a model is trained. `cumma train` and `cumma evaluate --folds` share
 * them (and parseModelRecipe, modelTrainOptions), so that cross-validation scores exactly what
 * train would ship with the same options.
 */
export const MODEL_OPTIONS = {
  kind: { type: 'string' },
  balance: { type: 'string' },
  trees: { type: 'string' },
  seed: { type: 'string' },
} as const;

/**
 * Most trees a forest may have: ten times the shipped model's 100 (≈ 1.5 min of training on its
 * 100 k dialogs, a 70 MB model file). Far more only ends, after a silent wait, in an
 * out-of-memory abort.
 */
export const MAX_TREES = 1000;

const MODEL_OPTION_HELP: readonly (readonly [string, string])[] = [
  ['--kind', 'classifier (default random-forest)'],
  ['--balance', 'class imbalance: none (default; the temporal filter divides the class mix\nout), inverse-frequency class weights, or resampling (under, over, both)'],
  ['--trees', `trees of the random forest, 1…${MAX_TREES} (default 100; not with --kind knn)`],
  ['--seed', "seed of the random choices of training (the outlier check's included),\n0…4294967295: the same captures and seed give the same model (default 1)"],
];

/** The model options' help, descriptions starting at `column` (each command aligns its own). */
export function modelOptionsHelp(column: number): string {
  return MODEL_OPTION_HELP.map(([name, text]) => `  ${name.padEnd(column - 2)}${text.split('\n').join(`\n${' '.repeat(column)}`)}`).join('\n');
}

export const TRAIN_USAGE = `usage: cumma train CAPTURES... -o MODEL.json [--kind random-forest|knn] [--balance none|weights|under|over|both] [--trees N] [--seed N] [--name NAME]

Trains a model on captures whose packets carry cumma:usage=<label> comments (or that have a
CAPTURE.truth.jsonl sidecar). Each capture is read once: the same file given twice (under any
spelling: ./x, d/../x, a link) is refused. Training needs at least 2 labelled dialogs.
  -o         the model file to write. Checked before training: its folder must exist and be
             writable, and it must not be one of the captures nor an existing file other than a
             Cumma model (which it replaces)
${modelOptionsHelp(13)}
  --name     the model's name, printed in every record's model field (default: the file name
             of -o without .json; not empty)

About a fifth of the captures, picked by a hash of their file names (the same names always give
the same split, wherever the files are), are held out to calibrate the outlier check ('unknown');
the classifier is then trained again on every capture. train prints which were held out. When
the names split no capture off (too few captures), every 5th labelled dialog is held out instead.
On stderr it warns of a capture with no labelled dialog, a model that knows one class only, or
an outlier check calibrated on fewer than 100 held-out dialogs, and notes captures that hold the
same traffic.`;

/** Largest seed: every random choice of training runs on a 32-bit PRNG (common/prng.ts). */
const MAX_SEED = 0xffffffff;

/** How a model is trained, as the command line says it (MODEL_OPTIONS). */
export interface ModelRecipe {
  readonly kind: ClassifierKind;
  readonly balance: Balance;
  readonly trees: number;
  readonly seed: number;
}

export function parseModelRecipe(values: { readonly kind?: string; readonly balance?: string; readonly trees?: string; readonly seed?: string }): ModelRecipe {
  const kind = parseChoice('kind', values.kind, KINDS, 'random-forest');
  const balance = parseChoice('balance', values.balance, BALANCES, 'none');
  // Refused rather than ignored: someone giving --trees expects it to change the model.
  if (kind === 'knn' && values.trees !== undefined) throw new UsageError('--trees sets the size of a random forest; --kind knn has no trees');
  const trees = parsePositiveInteger('trees', values.trees, 100, { max: MAX_TREES });
  // Seed 0 is as good a seed as any (`cumma simulate` takes it too); past 2³²−1 seeds would
  // alias, since the PRNG keeps 32 bits.
  const seedText = values.seed;
  if (seedText !== undefined && (!/^\d+$/.test(seedText) || Number(seedText) > MAX_SEED)) {
    throw new UsageError(`--seed expects an integer 0…${MAX_SEED}, got '${seedText}'`);
  }
  return { kind, balance, trees, seed: seedText === undefined ? 1 : Number(seedText) };
}

/** "random-forest, 100 trees, balance none, seed 1": a recipe, for what evaluate prints. */
export function describeRecipe(recipe: ModelRecipe): string {
  return `${recipe.kind}${recipe.kind === 'random-forest' ? `, ${recipe.trees} trees` : ''}, balance ${recipe.balance}, seed ${recipe.seed}`;
}

/** A recipe as evaluate --format json records it: the options that apply to its kind only. */
export function recipeRecord(recipe: ModelRecipe): { kind: ClassifierKind; balance: Balance; trees?: number; seed: number } {
  const { kind, balance, trees, seed } = recipe;
  return kind === 'random-forest' ? { kind, balance, trees, seed } : { kind, balance, seed };
}

/** UsageModel.train's options for a recipe: built here only, for train and cross-validation alike. */
export function modelTrainOptions(recipe: ModelRecipe, name: string, onWarning?: (message: string) => void): ModelTrainOptions {
  const { kind, balance, trees, seed } = recipe;
  return {
    name,
    kind,
    // Member order as before: training.options records this object as JSON, so it holds only
    // what applies to the kind trained (a knn model recording 100 trees would misinform).
    train: {
      seed,
      classWeights: balance === 'weights',
      ...(balance === 'under' || balance === 'over' || balance === 'both' ? { balance: { mode: balance as ResampleMode } } : {}),
      ...(kind === 'random-forest' ? { randomForest: { trees } } : {}),
    },
    ...(onWarning === undefined ? {} : { onWarning }),
  };
}

/** A capture argument: as typed (for messages) and which file it is. */
export interface CaptureInput {
  readonly given: string;
  /** Device and inode when the file exists (links and other spellings agree), else the resolved path. */
  readonly identity: string;
}

function identityOf(path: string, stats = statOrUndefined(path)): string {
  return stats === undefined ? `path:${resolve(path)}` : `file:${stats.dev}:${stats.ino}`;
}

/**
 * The capture arguments, each file once. The same file twice (x and x, ./x, d/../x, a link to
 * it) is a usage mistake: read twice, its dialogs would count double in training and in every
 * figure evaluate prints, and silently dropping one would hide a mistaken list of files.
 * A missing file passes here: reading it reports it, with its code (CAPTURE_IO).
 */
export function distinctCaptures(paths: readonly string[]): CaptureInput[] {
  const seen = new Map<string, string>();
  return paths.map((given) => {
    const identity = identityOf(given);
    const first = seen.get(identity);
    if (first !== undefined) {
      throw new UsageError(
        first === given
          ? `capture ${given} is given twice: give each capture once (its dialogs would count twice)`
          : `${first} and ${given} are the same capture: give each capture once (its dialogs would count twice)`,
      );
    }
    seen.set(identity, given);
    return { given, identity };
  });
}

/** Bytes of an existing -o read to tell a Cumma model from anything else. */
const HEAD_BYTES = 64 * 1024;


/** What a file that is not a model looks like, when its first bytes say ("a pcapng capture"). */
function describeContent(head: Buffer): string | undefined {
  if (head.length < 4) return undefined;
  const magic = head.readUInt32BE(0);
  if (magic === 0x0a0d0d0a) return 'a pcapng capture';
  if ([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0xa1b2cd34, 0x34cdb2a1].includes(magic)) return 'a pcap capture';
  return undefined;
}

/**
 * A model as UsageModel.save writes it: JSON whose first member is "format": "cumma-model".
 * Only the head is read: -o may be a capture of gigabytes.
 */
function looksLikeModel(head: Buffer): boolean {
  const text = head.toString('utf8').replace(/^\uFEFF/, '').trimStart();
  return text.startsWith('{') && new RegExp(`^\\{\\s*"format"\\s*:\\s*"${MODEL_FORMAT}"`).test(text);
}

/** What is at an existing -o that train must not replace. */
type ExistingOutput =
  | { readonly kind: 'folder' }
  | { readonly kind: 'input'; readonly given: string }
  | { readonly kind: 'special'; readonly what: string }
  | { readonly kind: 'unreadable'; readonly code: string }
  | { readonly kind: 'not-model'; readonly content: string | undefined };

/**
 * What exists at `output` that train must not replace, or undefined when nothing does (no file,
 * an empty file, a Cumma model). Asked before training and again just before the model is
 * renamed into place, minutes later, when something else may have been put there.
 */
function existingOutput(output: string, inputs: readonly CaptureInput[]): ExistingOutput | undefined {
  const existing = statOrUndefined(output);
  if (existing === undefined) return undefined;
  if (existing.isDirectory()) return { kind: 'folder' };
  const identity = identityOf(output, existing);
  const input = inputs.find((capture) => capture.identity === identity);
  if (input !== undefined) return { kind: 'input', given: input.given };
  if (!existing.isFile()) return { kind: 'special', what: fileKind(existing) };
  if (existing.size === 0) return undefined;
  let head: Buffer;
  try {
    head = readFileHead(output, HEAD_BYTES);
  } catch (error) {
    // Swapped for a FIFO or a device since the stat: judged on what was opened.
    if (error instanceof NotRegularFileError) return { kind: 'special', what: error.kind };
    return { kind: 'unreadable', code: errorCode(error) };
  }
  if (head.length === 0 || looksLikeModel(head)) return undefined;
  return { kind: 'not-model', content: describeContent(head) };
}

/**
 * Refuses an -o that training would wreck or could not write, before the minutes of training:
 * a directory; one of the input captures; an existing file that is not a Cumma model (a capture
 * the shell put after -o, say) or not a regular file (the rename would replace a device node);
 * a folder that is missing, not a folder, or not writable. An empty file may be replaced: it
 * holds nothing to lose. Messages name -o as given, never the temporary file save() writes.
 */
export function checkModelOutput(output: string, inputs: readonly CaptureInput[]): void {
  const existing = existingOutput(output, inputs);
  switch (existing?.kind) {
    case undefined:
      break;
    case 'folder':
      throw new UsageError(`-o ${output} is a directory: give the model file's name, e.g. ${join(output, 'model.json')}`);
    case 'input':
      throw new UsageError(`-o ${output} is the input capture ${existing.given}: the model would replace it; give the model a file of its own, e.g. model.json`);
    case 'special':
      throw new UsageError(`-o ${output} exists and is not a regular file: give the model a file of its own`);
    case 'unreadable':
      throw new UsageError(`-o ${output} exists and cannot be read to check that it is a Cumma model (${existing.code}): remove it or give another name`);
    case 'not-model': {
      const content = existing.content;
      throw new UsageError(
        `-o ${output} exists and is not a Cumma model${content === undefined ? '' : ` but ${content}${content.endsWith('capture') ? ' (did the shell expand a pattern right after -o?)' : ''}`}: ` +
          'train replaces only model files; remove it first or give another name',
      );
    }
  }
  const folderGiven = dirname(output);
  const folder = statOrUndefined(dirname(resolve(output)));
  if (folder === undefined) throw new UsageError(`-o ${output}: folder ${folderGiven} does not exist`);
  if (!folder.isDirectory()) throw new UsageError(`-o ${output}: ${folderGiven} is not a folder`);
  try {
    // Write to make the temporary file, search (X) to rename it into place.
    accessSync(dirname(resolve(output)), constants.W_OK | constants.X_OK);
  } catch (error) {
    // Not a mistake on the command line but the folder's permissions: exit 1, without the usage.
    throw new Error(`-o ${output}: cannot write in folder ${folderGiven} (${errorCode(error)})`);
  }
}

/**
 * checkModelOutput again, as the model is about to be renamed over -o: what was put there while
 * training (a capture saved under that name, a folder) is refused as it would have been before,
 * rather than replaced. The model is not written then: a MODEL_OUTPUT error (exit 1, not a usage
 * mistake: the command line was right when it was checked) says what took -o's place.
 */
export function modelOutputRefusal(output: string, inputs: readonly CaptureInput[]): string | undefined {
  const existing = existingOutput(output, inputs);
  if (existing === undefined) return undefined;
  return `it became ${describeExisting(existing)} while training, and train replaces only model files: the model was not written; remove it or give another name`;
}

/** What took -o's place, as modelOutputRefusal says it. */
function describeExisting(existing: ExistingOutput): string {
  switch (existing.kind) {
    case 'folder':
      return 'a folder';
    case 'input':
      return `the input capture ${existing.given}`;
    case 'special':
      return existing.what;
    case 'unreadable':
      return `a file that cannot be read to check that it is a Cumma model (${existing.code})`;
    case 'not-model':
      return `a file that is not a Cumma model${existing.content === undefined ? '' : ` but ${existing.content}`}`;
  }
}

function errorCode(error: unknown): string {
  return error instanceof Error && 'code' in error ? String(error.code) : String(error);
}

/** The model's name: --name, else -o's file name without .json; never empty (records print it). */
function modelName(name: string | undefined, output: string): string {
  if (name !== undefined) {
    if (name.trim() === '') throw new UsageError(`--name must not be empty: records print it as the model (e.g. "model":"${name}@1")`);
    return name;
  }
  const fromFile = output.replace(/^.*[\\/]/, '').replace(/\.json$/, '');
  if (fromFile === '') throw new UsageError(`-o ${output} gives the model no name: add --name NAME`);
  return fromFile;
}

/** Names (as given) of the first `shown` of `names`, then how many more. */
function shortList(names: readonly string[], shown = 4): string {
  return names.length <= shown ? names.join(', ') : `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`;
}

/** One line on which dialogs calibrated the outlier check, captures named as the user gave them. */
export function describeCalibration(split: CalibrationSplit, captures: number, given: (key: string) => string): string {
  const dialogs = `${split.heldOutDialogs} labelled dialog${split.heldOutDialogs === 1 ? '' : 's'}`;
  if (!split.byCapture) {
    return `outlier check calibrated on every 5th labelled dialog (${split.heldOutDialogs} of ${split.heldOutDialogs + split.trainingDialogs}): the capture names split no capture off`;
  }
  const held = split.captures.length;
  return `outlier check calibrated on ${dialogs} of ${held} held-out capture${held === 1 ? '' : 's'} of ${captures} (${shortList(split.captures.map(given))}), picked by file name`;
}

export async function runTrain(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      ...MODEL_OPTIONS,
      name: { type: 'string' },
    },
  });
  if (positionals.length === 0) throw new UsageError('train needs at least one capture');
  if (values.output === undefined) throw new UsageError('-o MODEL.json is required');
  const recipe = parseModelRecipe(values);
  // Checked before training, which can take minutes, rather than when the model is written.
  const inputs = distinctCaptures(positionals);
  checkModelOutput(values.output, inputs);
  const name = modelName(values.name, values.output);
  const warn = (message: string): void => void io.stderr.write(`cumma: ${message}\n`);
  const warnTrain = (message: string): void => void io.stderr.write(`cumma train: warning: ${message}\n`);
  const captures = readLabelledCaptures(positionals, warn);
  for (const capture of captures) if (capture.labelled === 0) warnTrain(noLabelsWarning(capture, 'it adds nothing to the model'));
  const learnt = captures.filter((capture) => capture.labelled > 0);
  const groups = groupSharedTraffic(learnt, 'their shared dialogs count once per capture in training', (message) => void io.stderr.write(`cumma train: note: ${message}\n`));
  const dialogs = captures.flatMap((capture) => capture.dialogs);
  const labelled = captures.reduce((sum, capture) => sum + capture.labelled, 0);
  const model = UsageModel.train(dialogs, modelTrainOptions(recipe, name, warnTrain));
  model.save(values.output, undefined, { mayReplace: (path) => modelOutputRefusal(path, inputs) });
  // The captures counted are those the model learnt from, as training.captures records them.
  const used = model.json.training.captures;
  const idle = captures.length - used;
  io.stdout.write(
    `${values.output}: ${recipe.kind} trained on ${labelled} labelled dialogs of ${used} capture${used === 1 ? '' : 's'} ` +
      `(${dialogs.length - labelled} unlabelled left out${idle === 0 ? '' : `; ${idle} capture${idle === 1 ? '' : 's'} given had no labelled dialog`}); classes ${model.json.classes.join(', ')}\n`,
  );
  const given = new Map(inputs.map((capture) => [resolve(capture.given), capture.given] as const));
  if (model.calibration !== undefined) {
    io.stdout.write(`${describeCalibration(model.calibration, model.json.training.captures, (key) => given.get(key) ?? key)}\n`);
    const heldOut = new Set(model.calibration.captures);
    for (const group of groups) {
      const members = group.members.map((index) => learnt[index]!);
      const held = members.filter((capture) => heldOut.has(capture.key));
      if (held.length === 0 || held.length === members.length) continue;
      warnTrain(
        `${namesText(held.map((capture) => capture.given))} held out to calibrate the outlier check, but ${namesText(members.filter((capture) => !heldOut.has(capture.key)).map((capture) => capture.given))}, ` +
          'which holds the same traffic, trained on: the check is calibrated on dialogs its classifier has seen, and its thresholds are too tight; give each capture once',
      );
    }
  }
  return 0;
}
