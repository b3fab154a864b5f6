/**
 * A trained usage model as one file: the classifier, the outlier detector, the temporal model
 * of dialog sequences, the segmentation gaps and feature schema it was trained with, and a
 * summary of its training data and evaluation. Classifies the dialogs of a capture into
 * DESIGN.md's dialog records.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFailureText, readRegularFile } from '../common/file-kind';
import { removeStaleTemporaries, unguessableTemporary } from '../common/stale-temporaries';
import { FEATURES, FEATURE_SCHEMA_VERSION } from '../features/feature-schema';
import { describeValue, invalid, InvalidMemberError, JsonObject, memberPath } from '../common/json-checks';
import { USAGE_CLASSES, UsageClass } from '../labels';
import { ClassifierJson, ClassifierKind, TrainOptions, UsageClassifier, loadClassifier, trainClassifier } from '../model/classifier';
import { OutlierDetector, OutlierDetectorJson } from '../model/outliers';
import { TemporalModel, TemporalModelJson } from '../model/temporal';
import { DEFAULT_GAPS, SegmentationGaps, checkSegmentationGaps } from '../segment/dialog';
import { CaptureDialog, captureKeyOf } from './capture-dialogs';
import { DEFAULT_TEMPORAL, DialogLabeler, TemporalMode } from './dialog-labeler';
import { DialogRecord } from './dialog-record';

export const MODEL_FORMAT = 'cumma-model';
export const MODEL_VERSION = 1;

export interface ModelTrainingSummary {
  readonly dialogs: number;
  readonly perClass: Readonly<Partial<Record<UsageClass, number>>>;
  readonly captures: number;
  readonly options: string;
}

export interface UsageModelJson {
  readonly format: typeof MODEL_FORMAT;
  readonly version: typeof MODEL_VERSION;
  readonly name: string;
  readonly featureSchemaVersion: string;
  readonly featureNames: readonly string[];
  readonly gaps: SegmentationGaps;
  readonly classes: readonly UsageClass[];
  readonly training: ModelTrainingSummary;
  /** Free-form evaluation figures written by whoever evaluated the model. */
  readonly evaluation?: unknown;
  readonly classifier: ClassifierJson;
  readonly outliers: OutlierDetectorJson;
  readonly temporal: TemporalModelJson;
}

/**
 * What the thread that prints records needs of a model while another thread labels with it:
 * the gaps to segment with, the classes the verdicts index, and the name records carry.
 */
export interface ModelHeader {
  readonly name: string;
  readonly version: number;
  readonly classes: readonly UsageClass[];
  readonly gaps: SegmentationGaps;
}

export class ModelError extends Error {
  override readonly name = 'ModelError';
  constructor(
    readonly code: 'MODEL_MISSING' | 'MODEL_INVALID' | 'MODEL_SCHEMA_MISMATCH' | 'MODEL_TOO_FEW_DIALOGS' | 'MODEL_OUTPUT',
    detail: string,
  ) {
    super(`${detail} [${code}]`);
  }
}

export interface ModelSaveOptions {
  /**
   * Asked, just before the model is renamed over `path`, whether what is there now may be
   * replaced: undefined when it may, else why not (the save then fails with MODEL_OUTPUT, the
   * reason after "cannot write model PATH: ", and leaves `path` as it is).
   */
  readonly mayReplace?: (path: string) => string | undefined;
}

export interface ModelTrainOptions {
  readonly name: string;
  readonly kind?: ClassifierKind;
  readonly gaps?: SegmentationGaps;
  readonly train?: TrainOptions;
  /** Fraction of captures held out to calibrate the outlier detector (default 0.2). */
  readonly heldOutFraction?: number;
  /** k-means centres per class that outlier distances are measured to (default 24: speed). */
  readonly outlierCentresPerClass?: number;
  /**
   * Train the shipped classifier again on every labelled dialog once the outlier detector is
   * calibrated on the held-out captures (default true). Off: the classifier is the one trained
   * without the held-out captures (half the training time).
   */
  readonly refit?: boolean;
  /** Importance of a dialog in the forest's bootstraps (default 1 each); see LabelledVector.weight. */
  readonly dialogWeight?: (dialog: CaptureDialog) => number;
  /**
   * The source of a dialog (e.g. `simulated`, `real`): outlier thresholds are calibrated per
   * source and the loosest kept (OutlierOptions.heldOutGroups). Default: one source.
   */
  readonly dialogSource?: (dialog: CaptureDialog) => string;
  /**
   * Told of a model that trains but may disappoint: one class only, or an outlier check
   * calibrated on few held-out dialogs. Nothing about the model changes.
   */
  readonly onWarning?: (message: string) => void;
}

/** Fewest labelled dialogs a model trains on: one to learn from, one held out to calibrate on. */
export const MIN_TRAINING_DIALOGS = 2;

/**
 * Held-out dialogs below which the outlier check's thresholds (the 99th percentile of their
 * distances, the 0.005 quantile of their confidences) are little more than the most extreme
 * held-out dialog: trainers are warned. outliers.ts asks for ≥ 1 000 for a steady estimate.
 */
export const FEW_HELD_OUT_DIALOGS = 100;

/** Which labelled dialogs calibrated the outlier check (UsageModel.calibration). */
export interface CalibrationSplit {
  /**
   * True: whole captures were held out (`captures`, by captureKeyOf, in order of appearance).
   * False: the captures could not be split (all on one side), so every 5th labelled dialog was.
   */
  readonly byCapture: boolean;
  readonly captures: readonly string[];
  /** Labelled dialogs held out, and left to train the calibration classifier. */
  readonly heldOutDialogs: number;
  readonly trainingDialogs: number;
}

/** Share of each class among `labels`, in the order of `classes`. */
function classFrequencies(labels: readonly UsageClass[], classes: readonly UsageClass[]): number[] {
  const counts = classes.map(() => 0);
  const index = new Map(classes.map((c, i) => [c, i] as const));
  for (const label of labels) {
    const i = index.get(label);
    if (i !== undefined) counts[i]!++;
  }
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((n) => (total > 0 ? n / total : 0));
}

/**
 * Stable split by capture name, so dialogs of one capture never sit on both sides. It hashes the
 * file name (`capture`), not the path: the same captures give the same model wherever they lie,
 * and the shipped model's recipe keeps the split it was built with. Captures sharing a name
 * therefore land on the same side, which still keeps each capture whole.
 */
export function isHeldOut(capture: string, fraction: number): boolean {
  let h = 2166136261;
  for (let i = 0; i < capture.length; i++) h = Math.imul(h ^ capture.charCodeAt(i), 16777619);
  return ((h >>> 0) % 1000) / 1000 < fraction;
}

/**
 * Each session's labels in dialog order, for the temporal model, with a hole (undefined) for
 * every dialog it cannot learn from: unlabelled, of a class the classifier does not know, or not
 * among `dialogs` at all (dialog numbers run on through a flow's sessions, so a gap in them is a
 * dialog the caller left out). A session whose first given dialog may not be its first (the one
 * numbered before it is not given) opens with a hole: what began the session is not known.
 * Without the holes, labels on either side of an unlabelled dialog would be learnt as neighbours,
 * which the classifier never sees them as.
 */
function sessionLabels(dialogs: readonly CaptureDialog[], known: ReadonlySet<UsageClass>): (UsageClass | undefined)[][] {
  const flows = new Map<string, CaptureDialog[]>();
  for (const dialog of dialogs) {
    // By captureKeyOf: flow ids restart in every capture, same-named ones included.
    const key = `${captureKeyOf(dialog)}\u0000${dialog.flowId}`;
    const flow = flows.get(key);
    if (flow) flow.push(dialog);
    else flows.set(key, [dialog]);
  }
  const sessions: (UsageClass | undefined)[][] = [];
  for (const flow of flows.values()) {
    flow.sort((a, b) => a.dialog - b.dialog);
    let labels: (UsageClass | undefined)[] = [];
    flow.forEach((dialog, k) => {
      const previous = k > 0 ? flow[k - 1] : undefined;
      const adjacent = previous !== undefined && previous.dialog === dialog.dialog - 1;
      if (previous === undefined || previous.session !== dialog.session) {
        labels = [];
        sessions.push(labels);
        if (dialog.dialog !== 1 && !adjacent) labels.push(undefined);
      } else if (!adjacent) {
        labels.push(undefined);
      }
      labels.push(dialog.truth !== undefined && known.has(dialog.truth) ? dialog.truth : undefined);
    });
  }
  return sessions;
}

/** "3 (2 classes: text, photo) in 1 capture": what training found, for its errors. */
function describeLabelled(labelled: readonly (CaptureDialog & { truth: UsageClass })[]): string {
  const classes = USAGE_CLASSES.filter((c) => labelled.some((dialog) => dialog.truth === c));
  const captures = new Set(labelled.map(captureKeyOf)).size;
  return `${labelled.length} (${classes.length} class${classes.length === 1 ? '' : 'es'}: ${classes.join(', ')}) in ${captures} capture${captures === 1 ? '' : 's'}`;
}

/**
 * A system error's code and description without the path Node appends ("ENOENT: no such file or
 * directory, open 'm.json.123.tmp'" → "ENOENT: no such file or directory"): the caller names
 * the path the user gave.
 */
function systemErrorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/, \w+ '[^']*'(?: -> '[^']*')?$/, '');
}

/** `actual` (the classes of a part of the model) must be the model's `classes`, in their order. */
function checkSameClasses(actual: readonly UsageClass[], classes: readonly UsageClass[], path: string): void {
  if (actual.length !== classes.length || actual.some((c, i) => c !== classes[i])) {
    throw new InvalidMemberError(path, `expected the classes of member "classes", in their order (${classes.join(', ')}), got ${actual.join(', ')}`);
  }
}

/**
 * The members of a model file besides format, version and schema, checked (InvalidMemberError
 * names the bad one), and its parts loaded, each checking its own members: the parts must agree
 * on the classes (scores, temporal states and records all index them) and on the feature schema.
 * `training` and `evaluation` are records for people: nothing reads them, nothing checks them.
 */
function checkModelParts(root: JsonObject): { classifier: UsageClassifier; outliers: OutlierDetector; temporal: TemporalModel } {
  root.string('name');
  const featureNames = root.array('featureNames', { length: FEATURES.length, why: `the features of schema ${FEATURE_SCHEMA_VERSION}` });
  FEATURES.forEach((feature, i) => {
    if (featureNames[i] !== feature.name) invalid(memberPath(root.pathOf('featureNames'), i), JSON.stringify(feature.name), featureNames[i]);
  });
  checkSegmentationGaps(root.get('gaps'), root.pathOf('gaps'));
  const classes = root.choiceList('classes', USAGE_CLASSES);
  // Both parts read the vectors this Cumma computes. Checked before they load, so that a wrong
  // count is named as such, not as a length inside the part that disagrees with it.
  const schemaLength = `the length of feature schema ${FEATURE_SCHEMA_VERSION}`;
  root.object('classifier', 'a classifier (an object)').literal('featureCount', FEATURES.length, schemaLength);
  root.object('outliers', 'the outlier detector (an object)').literal('featureCount', FEATURES.length, schemaLength);
  const classifier = loadClassifier(root.get('classifier'), root.pathOf('classifier'));
  checkSameClasses(classifier.classes, classes, 'classifier.classes');
  const outliers = OutlierDetector.fromJSON(root.get('outliers'), root.pathOf('outliers'));
  const temporal = TemporalModel.fromJSON(root.get('temporal'), root.pathOf('temporal'));
  checkSameClasses(temporal.classes, classes, 'temporal.classes');
  return { classifier, outliers, temporal };
}

export class UsageModel {
  private constructor(
    readonly json: UsageModelJson,
    private readonly classifier: UsageClassifier,
    private readonly outliers: OutlierDetector,
    private readonly temporal: TemporalModel,
    /** How the outlier check was calibrated: known to a freshly trained model only, not saved. */
    readonly calibration?: CalibrationSplit,
  ) {}

  get name(): string {
    return this.json.name;
  }

  get gaps(): SegmentationGaps {
    return this.json.gaps;
  }

  /**
   * A model trained on the labelled ones of `dialogs`. Give every dialog of the captures,
   * labelled or not: the temporal model learns only from labelled dialogs that are neighbours
   * in their session, which the unlabelled ones (or gaps in the dialog numbers) tell.
   */
  static train(dialogs: readonly CaptureDialog[], options: ModelTrainOptions): UsageModel {
    const labelled = dialogs.filter((dialog): dialog is CaptureDialog & { truth: UsageClass } => dialog.truth !== undefined);
    if (labelled.length === 0) {
      throw new ModelError('MODEL_TOO_FEW_DIALOGS', 'no labelled dialogs to train on: label packets with cumma:usage=<label> comments, or give each capture a CAPTURE.truth.jsonl sidecar');
    }
    if (labelled.length < MIN_TRAINING_DIALOGS) {
      // Otherwise the split below leaves nothing to learn from, and the classifier's own error
      // ("no samples") would name neither the data nor what is missing.
      throw new ModelError(
        'MODEL_TOO_FEW_DIALOGS',
        `too few labelled dialogs to train on: found ${describeLabelled(labelled)}; a model needs at least ${MIN_TRAINING_DIALOGS}, ` +
          'some to learn from and some held out to calibrate the outlier check: label more dialogs or add captures',
      );
    }
    const fraction = options.heldOutFraction ?? 0.2;
    let heldOut = labelled.filter((dialog) => isHeldOut(dialog.capture, fraction));
    let training = labelled.filter((dialog) => !isHeldOut(dialog.capture, fraction));
    const byCapture = heldOut.length > 0 && training.length > 0;
    if (!byCapture) {
      // Too few captures to split by capture: calibrate on every 5th dialog instead.
      heldOut = labelled.filter((_, index) => index % 5 === 0);
      training = labelled.filter((_, index) => index % 5 !== 0);
    }
    const calibrationSplit: CalibrationSplit = {
      byCapture,
      captures: byCapture ? [...new Set(heldOut.map(captureKeyOf))] : [],
      heldOutDialogs: heldOut.length,
      trainingDialogs: training.length,
    };
    const kind = options.kind ?? 'random-forest';
    const trainOptions = options.train ?? {};
    const sampleOf = (dialog: CaptureDialog & { truth: UsageClass }) =>
      options.dialogWeight === undefined ? { features: dialog.features, label: dialog.truth } : { features: dialog.features, label: dialog.truth, weight: options.dialogWeight(dialog) };
    const samples = training.map(sampleOf);
    // A classifier that has not seen the held-out captures scores them, to calibrate the
    // low-confidence cut; the outlier references come from the same training part.
    const calibration = trainClassifier(kind, samples, trainOptions);
    const heldOutScores = calibration.predictScores(heldOut.map((dialog) => dialog.features));
    const outliers = OutlierDetector.fit(
      samples,
      heldOut.map((dialog) => dialog.features),
      {
        maxPerClass: 2000,
        centresPerClass: options.outlierCentresPerClass ?? 24,
        logScale: true,
        relativeToRadius: true,
        // The subsample and k-means centres are random choices of training like the classifier's.
        seed: trainOptions.seed ?? 1,
        ...(options.dialogSource === undefined ? {} : { heldOutGroups: heldOut.map(options.dialogSource) }),
      },
      heldOutScores,
    );
    // The shipped classifier then learns from every labelled dialog, held-out captures included.
    const classifier =
      (options.refit ?? true) && heldOut.length > 0
        ? trainClassifier(kind, labelled.map(sampleOf), trainOptions)
        : calibration;
    // Classes only seen in the calibration captures are unknown to the classifier: leave them out.
    const known = new Set(classifier.classes);
    // Without class weights or resampling the scores carry the training prior: divide it out.
    const balanced = trainOptions.classWeights === true || trainOptions.balance !== undefined;
    const emissionPrior = balanced ? undefined : classFrequencies(labelled.map((dialog) => dialog.truth), classifier.classes);
    const temporal = TemporalModel.fit(
      sessionLabels(dialogs, known),
      classifier.classes,
      emissionPrior === undefined ? {} : { emissionPrior },
    );
    const perClass: Partial<Record<UsageClass, number>> = {};
    for (const dialog of labelled) perClass[dialog.truth] = (perClass[dialog.truth] ?? 0) + 1;
    if (options.onWarning !== undefined) {
      if (classifier.classes.length === 1) {
        options.onWarning(
          `the model knows one class only (${classifier.classes[0]!}): it will label every dialog ${classifier.classes[0]!} or unknown; train on dialogs of at least two usages`,
        );
      }
      if (heldOut.length < FEW_HELD_OUT_DIALOGS) {
        options.onWarning(
          `the outlier check is calibrated on only ${heldOut.length} held-out dialog${heldOut.length === 1 ? '' : 's'} ` +
            `(${byCapture ? `of ${calibrationSplit.captures.length} capture${calibrationSplit.captures.length === 1 ? '' : 's'}` : 'every 5th labelled dialog'}): ` +
            `its thresholds rest on the few most extreme of them; ${FEW_HELD_OUT_DIALOGS} or more make it steadier`,
        );
      }
    }
    const json: UsageModelJson = {
      format: MODEL_FORMAT,
      version: MODEL_VERSION,
      name: options.name,
      featureSchemaVersion: FEATURE_SCHEMA_VERSION,
      featureNames: FEATURES.map((feature) => feature.name),
      gaps: options.gaps ?? DEFAULT_GAPS,
      classes: classifier.classes,
      training: {
        dialogs: labelled.length,
        perClass,
        captures: new Set(labelled.map(captureKeyOf)).size,
        options: JSON.stringify({ kind, ...(options.train ?? {}) }),
      },
      classifier: classifier.toJSON(),
      outliers: outliers.toJSON(),
      temporal: temporal.toJSON(),
    };
    return new UsageModel(json, classifier, outliers, temporal, calibrationSplit);
  }

  /**
   * A model from its parsed file. Every member loading and labelling read is checked first
   * (checkModelParts): a damaged file throws MODEL_INVALID naming `source` and the bad member's
   * JSON path, never loads to give wrong labels. Load time only; labelling checks nothing.
   */
  static fromJSON(value: unknown, source = 'model'): UsageModel {
    const json = value as Partial<Record<keyof UsageModelJson, unknown>> | null;
    if (json === null || typeof json !== 'object' || json.format !== MODEL_FORMAT) {
      throw new ModelError('MODEL_INVALID', `${source} is not a Cumma model file (format must be '${MODEL_FORMAT}')`);
    }
    if (json.version !== MODEL_VERSION) throw new ModelError('MODEL_INVALID', `${source} has model version ${String(json.version)}; this Cumma reads ${MODEL_VERSION}`);
    if (typeof json.featureSchemaVersion !== 'string') throw new ModelError('MODEL_INVALID', `${source}: featureSchemaVersion: expected a string, got ${describeValue(json.featureSchemaVersion)}`);
    if (json.featureSchemaVersion !== FEATURE_SCHEMA_VERSION) {
      throw new ModelError('MODEL_SCHEMA_MISMATCH', `${source} was trained on feature schema ${json.featureSchemaVersion}; this Cumma computes schema ${FEATURE_SCHEMA_VERSION}: retrain it`);
    }
    try {
      const { classifier, outliers, temporal } = checkModelParts(JsonObject.at(value, ''));
      // Every member the model reads has been checked: the cast holds.
      return new UsageModel(value as UsageModelJson, classifier, outliers, temporal);
    } catch (error) {
      throw new ModelError('MODEL_INVALID', `${source}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * Loads the model file at `path`. Only a regular file is read: a FIFO (never waited on), a
   * device or a folder is refused at once, as MODEL_MISSING naming what it is.
   */
  static load(path: string): UsageModel {
    let text: string;
    try {
      text = readRegularFile(path);
    } catch (error) {
      throw new ModelError('MODEL_MISSING', `cannot read model ${path}: ${readFailureText(error)}`);
    }
    let json: UsageModelJson;
    try {
      json = JSON.parse(text) as UsageModelJson;
    } catch (error) {
      throw new ModelError('MODEL_INVALID', `model ${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    return UsageModel.fromJSON(json, `model ${path}`);
  }

  /**
   * Writes the model atomically (temporary file, then rename), with optional evaluation figures.
   * A failure is a MODEL_OUTPUT error naming `path`: the temporary file is an implementation
   * detail the user never asked for, and it is gone by the time they read the message.
   * `options.mayReplace` is asked about what is at `path` right before the rename, once the
   * minutes of training and writing are over: whatever took its place since the caller's own
   * check (a capture saved there meanwhile) is refused then too, rather than renamed over.
   */
  save(path: string, evaluation?: unknown, options: ModelSaveOptions = {}): void {
    const json = evaluation === undefined ? this.json : { ...this.json, evaluation };
    // -o's folder may be writable by others: a predictable temporary name would let them plant a
    // symbolic link there and have this write go through it. The name is unguessable and the file
    // created exclusively ('wx': O_CREAT | O_EXCL, which follows no symbolic link), as the live
    // sidecar's is; temporaries of killed runs into the same path are removed first.
    removeStaleTemporaries(path);
    const temporary = unguessableTemporary(path);
    let created = false;
    try {
      writeFileSync(temporary, JSON.stringify(json), { flag: 'wx' });
      created = true;
      const refusal = options.mayReplace?.(path);
      if (refusal !== undefined) throw new ModelError('MODEL_OUTPUT', `cannot write model ${path}: ${refusal}`);
      renameSync(temporary, path);
    } catch (error) {
      // A path that cannot take the file (a directory, no permission) must not keep the half; a
      // temporary name that already existed is someone else's file and is left alone.
      if (created || (error as NodeJS.ErrnoException).code !== 'EEXIST') rmSync(temporary, { force: true });
      if (error instanceof ModelError) throw error;
      throw new ModelError('MODEL_OUTPUT', `cannot write model ${path}: ${systemErrorText(error)}`);
    }
  }

  get classes(): readonly UsageClass[] {
    return this.classifier.classes;
  }

  get header(): ModelHeader {
    return { name: this.json.name, version: this.json.version, classes: [...this.classes], gaps: this.gaps };
  }

  get temporalModel(): TemporalModel {
    return this.temporal;
  }

  /** Class scores (in the order of `classes`) for feature vectors. */
  predictScores(features: readonly Float64Array[]): Float64Array[] {
    return this.classifier.predictScores(features);
  }

  isOutlier(features: Float64Array, scores: ArrayLike<number>): boolean {
    return this.outliers.isOutlier(features, scores);
  }

  /**
   * Verdicts for the dialogs of one capture, in the input's order: classifier scores, the
   * temporal model along each session (DEFAULT_TEMPORAL unless given), then the outlier check,
   * which answers `unknown`. See DialogLabeler.
   */
  classify(dialogs: readonly CaptureDialog[], options: { readonly temporal?: TemporalMode } = {}): DialogRecord[] {
    const labeler = new DialogLabeler(this, { temporal: options.temporal ?? DEFAULT_TEMPORAL });
    // Each session's dialogs in their order, whatever order the input lists them in.
    const order = dialogs.map((_, index) => index).sort((a, b) => dialogs[a]!.flowId - dialogs[b]!.flowId || dialogs[a]!.dialog - dialogs[b]!.dialog);
    labeler.label(order.map((index) => dialogs[index]!));
    labeler.finish();
    // A handle is a position in `order`; records come session by session.
    const handles: number[] = [];
    const records = labeler.recordsOf(
      labeler.takeVerdicts(),
      (handle) => {
        handles.push(handle);
        return dialogs[order[handle]!]!;
      },
      'final',
    );
    if (records.length !== dialogs.length) throw new Error(`labeller: ${records.length} verdicts for ${dialogs.length} dialogs`);
    const result = new Array<DialogRecord>(dialogs.length);
    records.forEach((record, k) => (result[order[handles[k]!]!] = record));
    return result;
  }
}
