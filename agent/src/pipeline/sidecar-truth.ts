/**
 * Truth for captures without packet comments: a `X.truth.jsonl` sidecar beside the capture
 * labels each dialog of the flow a line names whose time span the line's [startUs, endUs]
 * overlaps. The sidecar is checked line by line (truth-sidecar-reader.ts); what the lines say
 * about the capture is reported too, since a hand-written file otherwise fails without a word:
 *
 * - A line that overlaps no dialog labels nothing (endpoints swapped for UDP, times in seconds,
 *   the sidecar of another capture): the lines are named, or, when none matches, the sidecar.
 * - Lines that give one dialog different usages are a conflict, handled as one in packet
 *   comments is (LabelConflictReport): reported with the lines of each usage, and counted under
 *   the usage whose lines overlap the dialog longest (ties: the earliest line) — the nearest a
 *   sidecar comes to "the label most of its packets carry".
 *
 * A line whose first or last packet lies in a dialog certainly labels packets of it; a line that
 * only spans the dialog (starts before it, ends after it) may not: the simulator writes the
 * chat connection's call signalling as one line from offer to hang-up, and the keep-alive
 * between them as lines of their own. So lines that reach into a dialog are preferred to lines
 * that span it, and only when none reaches into it do the spanning ones label it (a hand-written
 * line for a whole flow). Only the preferred lines can conflict.
 */
import { existsSync } from 'node:fs';
import { unorderedFlowKey } from '../flows/flow-record';
import { UsageClass } from '../labels';
import { LabelConflictReport } from '../truth/label-conflict-report';
import { SidecarTruth, readTruthSidecar } from '../truth/truth-sidecar-reader';
import { truthSidecarPath } from '../truth/truth-sidecar';
import { CaptureDialog } from './capture-dialogs';

/** Unmatched lines named in full; the rest are counted. */
const LINES_SHOWN = 5;

function overlapOf(dialog: CaptureDialog, record: SidecarTruth): number {
  return Math.min(dialog.endUs, record.endUs) - Math.max(dialog.startUs, record.startUs);
}

function reachesInto(dialog: CaptureDialog, record: SidecarTruth): boolean {
  const within = (time: number): boolean => time >= dialog.startUs && time <= dialog.endUs;
  return within(record.startUs) || within(record.endUs);
}

/** "line 10" or "lines 17, 18, 20, 21, 22 and 3 more". */
function linesText(lines: readonly number[]): string {
  const shown = lines.slice(0, LINES_SHOWN).join(', ');
  return `line${lines.length === 1 ? '' : 's'} ${shown}${lines.length > LINES_SHOWN ? ` and ${lines.length - LINES_SHOWN} more` : ''}`;
}

/** The usage `lines` give `dialog` (longest total overlap), and the lines of each usage they give. */
function labelOf(dialog: CaptureDialog, lines: readonly SidecarTruth[]): { usage: UsageClass; byUsage: Map<UsageClass, SidecarTruth[]> } {
  const byUsage = new Map<UsageClass, SidecarTruth[]>();
  for (const line of lines) {
    const same = byUsage.get(line.usage);
    if (same === undefined) byUsage.set(line.usage, [line]);
    else same.push(line);
  }
  let usage = lines[0]!.usage;
  let longest = -1;
  // Map order is the order of first lines: on a tie the earliest line's usage stays.
  for (const [candidate, same] of byUsage) {
    const overlap = same.reduce((sum, line) => sum + Math.max(0, overlapOf(dialog, line)), 0);
    if (overlap > longest) {
      usage = candidate;
      longest = overlap;
    }
  }
  return { usage, byUsage };
}

/**
 * Dialogs with truth filled in from the sidecar where the comments gave none. Throws
 * TruthSidecarError for a bad line; `onWarning` hears of lines that label nothing and of
 * conflicting lines.
 */
export function withSidecarTruth(capturePath: string, dialogs: readonly CaptureDialog[], onWarning?: (message: string) => void): CaptureDialog[] {
  const path = truthSidecarPath(capturePath);
  if (!existsSync(path) || dialogs.every((dialog) => dialog.truth !== undefined)) return [...dialogs];
  const records = readTruthSidecar(path);
  const byFlow = new Map<string, SidecarTruth[]>();
  for (const record of records) {
    const key = unorderedFlowKey(record.l4, record.client, record.server);
    const same = byFlow.get(key);
    if (same === undefined) byFlow.set(key, [record]);
    else same.push(record);
  }
  const matched = new Set<number>();
  const conflicts = new LabelConflictReport(path, onWarning);
  const result = dialogs.map((dialog) => {
    const overlapping = (byFlow.get(unorderedFlowKey(dialog.flow.l4, dialog.flow.client, dialog.flow.server)) ?? []).filter((record) => overlapOf(dialog, record) >= 0);
    // Lines of dialogs the comments label match too: they are not "lines that label nothing".
    for (const record of overlapping) matched.add(record.line);
    if (dialog.truth !== undefined || overlapping.length === 0) return dialog;
    const inside = overlapping.filter((record) => reachesInto(dialog, record));
    const { usage, byUsage } = labelOf(dialog, inside.length > 0 ? inside : overlapping);
    const mixed = byUsage.size > 1;
    if (mixed) {
      const listing = [...byUsage].map(([label, lines]) => `${label} (${linesText(lines.map((line) => line.line))})`).join('; ');
      conflicts.report(dialog, listing, usage, 'the usage whose lines overlap it longest');
    }
    return { ...dialog, truth: usage, mixed };
  });
  conflicts.finish();
  if (onWarning !== undefined && records.length > 0) {
    const unmatched = records.filter((record) => !matched.has(record.line)).map((record) => record.line);
    const how = '(a line labels the dialogs of its flow — l4, client and server ip and port, either way round — that overlap [startUs, endUs], µs since the Unix epoch)';
    if (unmatched.length === records.length) {
      onWarning(`${path}: none of its ${records.length} records matches a dialog of ${capturePath} ${how}`);
    } else if (unmatched.length > 0) {
      onWarning(`${path}: ${unmatched.length} of its ${records.length} lines match no dialog of ${capturePath} and label nothing: ${linesText(unmatched)} ${how}`);
    }
  }
  return result;
}
