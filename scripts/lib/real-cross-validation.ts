/**
 * Cross-validation over the real captures, by capture: each fold's captures are scored by a
 * model trained on the simulated corpus and the real labelled flows of the *other* folds only
 * (model-recipe.ts), so no capture is ever scored by a model that saw it.
 *
 * Near-duplicate captures go to the same fold: captures sharing at least SHARED_FLOWS flow
 * 5-tuples are one group (skype.pcap and skype_no_unknown.pcap are the same traffic, nDPI's
 * "unknown" flows removed). Groups are sorted by capture label, then name, and dealt round-robin
 * into the folds, so each fold holds a mix of usages.
 */
import { CaptureDialog } from '../../agent/src/pipeline/capture-dialogs';
import { SegmentationGaps } from '../../agent/src/segment/dialog';
import { trainRecipe, realTrainingDialogs } from './model-recipe';
import { RealCapture, flowKeyOf } from './real-captures';
import { RealScores, emptyRealScores, scoreRealCapture } from './real-evaluation';

export const SHARED_FLOWS = 3;
export const DEFAULT_FOLDS = 11;

/** Groups of capture files (near-duplicates together), each sorted; groups in label, then name order. */
export function captureGroups(captures: readonly RealCapture[]): string[][] {
  const parent = new Map(captures.map((capture) => [capture.file, capture.file] as const));
  const find = (file: string): string => {
    let root = file;
    while (parent.get(root) !== root) root = parent.get(root)!;
    parent.set(file, root);
    return root;
  };
  const keys = new Map<string, Set<string>>();
  for (const capture of captures) keys.set(capture.file, new Set(capture.flows.map(flowKeyOf)));
  for (let i = 0; i < captures.length; i++) {
    for (let j = i + 1; j < captures.length; j++) {
      const a = keys.get(captures[i]!.file)!;
      const b = keys.get(captures[j]!.file)!;
      let shared = 0;
      for (const key of a) if (b.has(key) && ++shared >= SHARED_FLOWS) break;
      if (shared >= SHARED_FLOWS) parent.set(find(captures[i]!.file), find(captures[j]!.file));
    }
  }
  const groups = new Map<string, string[]>();
  for (const capture of captures) {
    const root = find(capture.file);
    const list = groups.get(root);
    if (list === undefined) groups.set(root, [capture.file]);
    else list.push(capture.file);
  }
  const labelOf = new Map(captures.map((capture) => [capture.file, capture.label] as const));
  return [...groups.values()]
    .map((files) => files.sort())
    .sort((a, b) => labelOf.get(a[0]!)!.localeCompare(labelOf.get(b[0]!)!) || a[0]!.localeCompare(b[0]!));
}

export interface CrossValidationOptions {
  readonly gaps: SegmentationGaps;
  readonly folds?: number;
  readonly onFold?: (fold: number, folds: number, seconds: number) => void;
}

export interface CrossValidationResult extends RealScores {
  readonly folds: number;
  readonly groups: number;
}

export function crossValidateReal(
  simulated: readonly CaptureDialog[],
  captures: readonly RealCapture[],
  options: CrossValidationOptions,
): CrossValidationResult {
  const groups = captureGroups(captures);
  const folds = Math.min(options.folds ?? DEFAULT_FOLDS, groups.length);
  if (folds < 2) throw new RangeError(`cross-validation needs at least 2 folds (${groups.length} capture groups)`);
  const foldOf = new Map<string, number>();
  groups.forEach((files, index) => files.forEach((file) => foldOf.set(file, index % folds)));
  const scores = emptyRealScores();
  for (let fold = 0; fold < folds; fold++) {
    const started = performance.now();
    const training = captures.filter((capture) => foldOf.get(capture.file) !== fold);
    const model = trainRecipe(simulated, realTrainingDialogs(training, options.gaps), { name: `fold${fold}`, gaps: options.gaps });
    for (const capture of captures.filter((c) => foldOf.get(c.file) === fold)) scoreRealCapture(model, capture, scores);
    options.onFold?.(fold + 1, folds, (performance.now() - started) / 1000);
  }
  return { ...scores, folds, groups: groups.length };
}
