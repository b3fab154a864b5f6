/**
 * The captures `cumma train` and `cumma evaluate` read, each with all its dialogs (labelled or
 * not: classification and the temporal model need a session's every dialog), and what they say
 * about the captures on stderr: a capture none of whose dialogs is labelled (it would otherwise
 * drop out without a word), captures that hold the same traffic, truth of classes a model does
 * not know.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageClass } from '../labels';
import { CaptureDialog, captureDialogs } from '../pipeline/capture-dialogs';
import { SharedTrafficGroup, sharedTrafficGroups } from '../pipeline/shared-traffic';
import { withSidecarTruth } from '../pipeline/sidecar-truth';
import { DEFAULT_GAPS, SegmentationGaps } from '../segment/dialog';
import { truthSidecarPath } from '../truth/truth-sidecar';

export interface LabelledCapture {
  /** As the user typed it: what messages name. */
  readonly given: string;
  /** The resolved path, every dialog's captureKey: captures may share a file name (a/x, b/x). */
  readonly key: string;
  /** Every dialog of the capture, in captureDialogs' order, truth from comments or sidecar. */
  readonly dialogs: readonly CaptureDialog[];
  /** How many of them carry truth. */
  readonly labelled: number;
}

/**
 * Each capture's dialogs, cut with `gaps`, with sidecar truth where comments give none;
 * `onWarning` hears of packets that could not be decoded and of what the truth says of itself
 * (conflicting labels, sidecar lines that label nothing).
 */
export function readLabelledCaptures(paths: readonly string[], onWarning?: (message: string) => void, gaps: SegmentationGaps = DEFAULT_GAPS): LabelledCapture[] {
  return paths.map((given) => {
    const key = resolve(given);
    const read = captureDialogs(given, { gaps, ...(onWarning === undefined ? {} : { onWarning }) });
    const dialogs = withSidecarTruth(given, read, onWarning).map((dialog) => ({ ...dialog, captureKey: key }));
    return { given, key, dialogs, labelled: dialogs.filter((dialog) => dialog.truth !== undefined).length };
  });
}

/**
 * Why `capture` (with no labelled dialog) contributes nothing, saying where labels are looked
 * for; `consequence` says what that means for the command ("it is not scored").
 */
export function noLabelsWarning(capture: LabelledCapture, consequence: string): string {
  const count = capture.dialogs.length;
  if (count === 0) return `${capture.given}: no dialogs in it: ${consequence}`;
  const sidecar = truthSidecarPath(capture.given);
  const fromSidecar = existsSync(sidecar) ? `its truth sidecar ${sidecar} labels none of them` : `there is no truth sidecar ${sidecar}`;
  return (
    `${capture.given}: none of its ${count} dialog${count === 1 ? ' is' : 's are'} labelled (no packet carries a cumma:usage=<label> comment, and ${fromSidecar}): ` +
    consequence
  );
}

/** "a, b and c": names for messages. */
export function namesText(names: readonly string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]!}`;
}

/**
 * The groups of `captures` that hold the same traffic (shared-traffic.ts), each with more than
 * one member told to `onNote` with `consequence` ("they are kept in one fold").
 */
export function groupSharedTraffic(captures: readonly LabelledCapture[], consequence: string, onNote: (message: string) => void): SharedTrafficGroup[] {
  const groups = sharedTrafficGroups(captures.map((capture) => capture.dialogs));
  for (const group of groups) {
    if (group.members.length < 2) continue;
    const names = namesText(group.members.map((index) => captures[index]!.given));
    onNote(
      `${names} hold the same traffic (${group.sharedDialogs} dialog${group.sharedDialogs === 1 ? '' : 's'} alike in flow, start time, packets and bytes in more than one of them: ` +
        `copies, conversions or cuts of one capture?): ${consequence}`,
    );
  }
  return groups;
}

/**
 * The classes of `truth` not among `known`, with their counts ("voice_call (3 dialogs), file (1
 * dialog)"), or undefined when there are none.
 */
export function unknownClassesText(truth: readonly UsageClass[], known: readonly UsageClass[]): string | undefined {
  const counts = new Map<UsageClass, number>();
  for (const label of truth) if (!known.includes(label)) counts.set(label, (counts.get(label) ?? 0) + 1);
  if (counts.size === 0) return undefined;
  return [...counts].map(([label, n]) => `${label} (${n} dialog${n === 1 ? '' : 's'})`).join(', ');
}
