/**
 * How the shipped model is trained, in one place, so that `npm run model` (the shipped model),
 * `npm run eval:real` (cross-validation over the real captures) and the benchmark train the same
 * thing:
 *
 * - Simulated dialogs keep their fine labels (packet comments).
 * - Real dialogs: every dialog of a flow labelled in flows.tsv takes that flow's label, mapped to
 *   a fine class (REAL_FINE_CLASS). flows.tsv only supports coarse groups; the mapping picks, per
 *   reference label, the fine class whose simulated traffic it resembles, and the model is only
 *   ever scored on real data in coarse groups, where the choice inside a group does not count.
 *   `call` (call app, call capture, type unknown) and `call_signalling` (small call-app flows in
 *   call captures: STUN, relays) → voice_call, as the simulator labels a call's STUN checks and
 *   set-up messages with the call's usage; `media` (WhatsAppFiles, uploads) → file, the media
 *   class with the widest size range. Blank rows are left out.
 * - Real dialogs weigh REAL_DIALOG_WEIGHT in each tree's bootstrap (1 267 real labelled dialogs
 *   against ≈ 100 000 simulated: a quarter of the weight, as 5 was against 20 000; at 5, the
 *   real cross-validation fell from 0.405 to 0.346 per flow, at 25 it reads 0.426), and outlier
 *   thresholds are calibrated for simulated and real dialogs separately (the looser kept), so
 *   real traffic is not mostly `unknown`.
 * - Random forest of 100 trees, histogram trainer, 16 000 rows per tree (twice the trainer's
 *   default, which was chosen for 20 000 training dialogs; the shipped model has ≈ 100 000),
 *   leaves of ≤ 20 rows, soft votes; no class weights: the temporal model divides the training
 *   prior out of the scores instead (temporal.ts).
 */
import { UsageClass } from '../../agent/src/labels';
import { CaptureDialog } from '../../agent/src/pipeline/capture-dialogs';
import { UsageModel } from '../../agent/src/pipeline/usage-model';
import { SegmentationGaps } from '../../agent/src/segment/dialog';
import { segmentFlowLogs } from './flow-log-corpus';
import { RealCapture } from './real-captures';

export const REAL_FINE_CLASS: Readonly<Record<string, UsageClass | undefined>> = {
  text: 'text',
  media: 'file',
  call: 'voice_call',
  call_signalling: 'voice_call',
  voice_call: 'voice_call',
  video_call: 'video_call',
  streaming: 'streaming',
  other: 'other',
};

export const REAL_DIALOG_WEIGHT = 25;

/** Capture names of real dialogs start with this, which tells the two sources apart. */
export const REAL_PREFIX = 'real/';

export const FOREST_OPTIONS = { trees: 100, maxSamples: 16_000 } as const;

export function isRealDialog(dialog: Pick<CaptureDialog, 'capture'>): boolean {
  return dialog.capture.startsWith(REAL_PREFIX);
}

/** The dialogs of the real captures' labelled flows, with fine truth (REAL_FINE_CLASS). */
export function realTrainingDialogs(captures: readonly RealCapture[], gaps: SegmentationGaps): CaptureDialog[] {
  const out: CaptureDialog[] = [];
  for (const capture of captures) {
    const labelOf = new Map(capture.flows.map((flow, index) => [flow.flowId, REAL_FINE_CLASS[capture.flowLabels[index]!]] as const));
    for (const dialog of segmentFlowLogs(capture.flows, gaps)) {
      const truth = labelOf.get(dialog.flowId);
      if (truth !== undefined) out.push({ ...dialog, capture: `${REAL_PREFIX}${capture.file}`, truth });
    }
  }
  return out;
}

export interface RecipeOptions {
  readonly name: string;
  readonly gaps: SegmentationGaps;
  readonly seed?: number;
  readonly trees?: number;
  /** See ModelTrainOptions.refit (default true). */
  readonly refit?: boolean;
  /**
   * Class imbalance handling (default none: the temporal filter divides the class mix out):
   * inverse-frequency weights in the bootstraps, or balanced resampling (imbalance.ts).
   */
  readonly balance?: RecipeBalance;
}

export const RECIPE_BALANCES = ['none', 'weights', 'under', 'over', 'both'] as const;
export type RecipeBalance = (typeof RECIPE_BALANCES)[number];

/** The shipped model's training on simulated and (optionally) real labelled dialogs. */
export function trainRecipe(simulated: readonly CaptureDialog[], real: readonly CaptureDialog[], options: RecipeOptions): UsageModel {
  return UsageModel.train([...simulated, ...real], {
    name: options.name,
    gaps: options.gaps,
    refit: options.refit ?? true,
    dialogWeight: (dialog) => (isRealDialog(dialog) ? REAL_DIALOG_WEIGHT : 1),
    dialogSource: (dialog) => (isRealDialog(dialog) ? 'real' : 'simulated'),
    train: {
      classWeights: options.balance === 'weights',
      ...(options.balance === 'under' || options.balance === 'over' || options.balance === 'both' ? { balance: { mode: options.balance } } : {}),
      seed: options.seed ?? 1,
      randomForest: { ...FOREST_OPTIONS, ...(options.trees !== undefined ? { trees: options.trees } : {}) },
    },
  });
}

/** A one-line description of the recipe, for the model file's metadata. */
export function describeRecipe(balance: RecipeBalance = 'none'): string {
  const imbalance = balance === 'none' ? 'no class weights' : balance === 'weights' ? 'inverse-frequency class weights' : `balanced resampling (${balance})`;
  return (
    `random forest ${FOREST_OPTIONS.trees} trees (histogram trainer, ${FOREST_OPTIONS.maxSamples} rows a tree, leaves ≤ 20 rows, soft votes), ${imbalance}, ` +
    `temporal model on scaled likelihoods; real dialogs weigh ${REAL_DIALOG_WEIGHT}, labels mapped ${Object.entries(REAL_FINE_CLASS)
      .map(([from, to]) => `${from}→${to}`)
      .join(', ')}`
  );
}
