/**
 * Scoring a model on labelled dialogs: each capture's dialogs are classified together (the
 * temporal model smooths along their sessions), then truth and verdicts of the labelled ones are
 * lined up.
 */
import { UsageClass, UsageVerdict } from '../labels';
import { CaptureDialog, captureKeyOf } from './capture-dialogs';
import { TemporalMode } from './dialog-labeler';
import { UsageModel } from './usage-model';

/** Items grouped by key, in order of first appearance. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const name = key(item);
    const group = groups.get(name);
    if (group) group.push(item);
    else groups.set(name, [item]);
  }
  return groups;
}

/**
 * Truth and verdict of every labelled dialog, classified capture by capture: by captureKeyOf,
 * since two captures may share a file name, and their flow ids would collide and their sessions
 * merge if they were classified as one. Give every dialog of a capture, labelled or not: each is
 * classified with all of them, as `cumma classify` does, so that the temporal model carries
 * through the unlabelled ones; only the labelled ones are scored.
 */
export function predictPerCapture(
  model: UsageModel,
  dialogs: readonly CaptureDialog[],
  temporal: TemporalMode,
): { readonly truth: UsageClass[]; readonly predicted: UsageVerdict[] } {
  const truth: UsageClass[] = [];
  const predicted: UsageVerdict[] = [];
  for (const group of groupBy(dialogs, captureKeyOf).values()) {
    const records = model.classify(group, { temporal });
    group.forEach((dialog, index) => {
      if (dialog.truth === undefined) return;
      truth.push(dialog.truth);
      predicted.push(records[index]!.usage);
    });
  }
  return { truth, predicted };
}
