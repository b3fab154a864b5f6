/**
 * The analysis chain of one capture, up to feature vectors: packets → flows → sessions →
 * dialogs → features, with each dialog's truth from packet comments when the capture carries
 * any. What training, evaluation and classification all start from.
 */
import { UndecodedLinks } from '../capture/undecoded-links';
import { extractFeatures } from '../features/extract-features';
import { DialogPacketLog } from '../features/dialog-packet-log';
import { ContextWindows } from '../features/host-activity';
import { UsageClass } from '../labels';
import { DEFAULT_GAPS, Dialog, SegmentationGaps } from '../segment/dialog';
import { segmentCapture } from '../segment/segment-capture';
import { DialogLabels, conflictListing } from '../truth/dialog-labels';
import { LabelConflictReport } from '../truth/label-conflict-report';
import { TruthCommentError } from '../truth/truth-comment';

export interface CaptureDialog extends Omit<Dialog<unknown>, 'notes'> {
  /** File name of the capture (no directory): what records print as `capture` (DESIGN.md). */
  readonly capture: string;
  /**
   * Which input the dialog came from, when `capture` alone may not tell: `cumma train` and
   * `cumma evaluate` set it to the capture's resolved path, since captures with one file name in
   * different folders are different captures (their flow ids collide; their sessions must not
   * merge). Whatever groups dialogs by capture uses captureKeyOf, never `capture`. Absent where
   * every capture's name is unique (one file; the model scripts' corpora): captureKeyOf then
   * falls back to `capture`, so those group exactly as before.
   */
  readonly captureKey?: string;
  /** Aligned with FEATURES (agent/src/features/feature-schema.ts). */
  readonly features: Float64Array;
  /** From packet comments; undefined when no packet of the dialog is labelled. */
  readonly truth: UsageClass | undefined;
  /** True when the dialog's packets carry different labels (a mixed dialog). */
  readonly mixed: boolean;
}

interface DialogNotes {
  readonly log: DialogPacketLog;
  readonly labels: DialogLabels;
}

export interface CaptureDialogOptions {
  readonly gaps?: SegmentationGaps;
  /** Collect truth from packet comments (default true). */
  readonly truth?: boolean;
  /** Receives the dialogs read before a CaptureError. */
  readonly onPartial?: (dialogs: CaptureDialog[]) => void;
  /** Called with the file offset of each packet read (for a progress bar). */
  readonly onProgress?: (offset: number) => void;
  /** Told, once per link type, of packets that were not decoded (a link type Cumma does not read). */
  readonly onWarning?: (message: string) => void;
}

/**
 * Reads `path` and returns its dialogs in the order their context windows ended (flush order at
 * the end; see host-activity.ts). On corrupt input the dialogs read before the fault are passed
 * to `options.onPartial` before the CaptureError is thrown, so a caller can still report them.
 */
export function captureDialogs(path: string, options: CaptureDialogOptions = {}): CaptureDialog[] {
  const capture = path.split(/[\\/]/).pop() ?? path;
  const dialogs: CaptureDialog[] = [];
  const wantTruth = options.truth ?? true;
  const gaps = options.gaps ?? DEFAULT_GAPS;
  const context = new ContextWindows<CaptureDialog>(gaps.dialogGapUs, (dialog) => dialogs.push(dialog));
  const undecoded = new UndecodedLinks();
  const conflicts = new LabelConflictReport(path, wantTruth ? options.onWarning : undefined);
  const warn = (): void => {
    if (options.onWarning !== undefined) for (const message of undecoded.messages(path)) options.onWarning(message);
    conflicts.finish();
  };
  try {
    segmentCapture<DialogNotes>(
      path,
      gaps,
      () => ({ log: new DialogPacketLog(), labels: new DialogLabels() }),
      (notes, packet, up, frame, open) => {
        options.onProgress?.(packet.blockOffset);
        const log = notes.log;
        log.add(packet, up);
        log.context = context.track(log.context, open.flow.client.ip, packet.timestampUs, packet.originalLength, up, log.transport === 'tcp');
        if (wantTruth && packet.comments.length > 0) {
          try {
            notes.labels.add(frame, packet.comments);
          } catch (error) {
            throw error instanceof TruthCommentError ? error.at(`${path}: frame ${frame} (byte offset ${packet.blockOffset})`) : error;
          }
        }
      },
      (dialog) => {
        const { notes, ...rest } = dialog;
        const mixed = notes.labels.distinct > 1;
        const truth = notes.labels.majority();
        // Mixed dialogs (DESIGN.md) are legitimate input, counted under the majority label; an
        // analyst's typo looks the same, so each is reported.
        if (mixed) conflicts.report(rest, conflictListing(notes.labels.conflict), truth, 'the label most of its packets carry');
        const entry: CaptureDialog = { ...rest, capture, features: extractFeatures(notes.log), truth, mixed };
        if (context.closed(notes.log.context!, rest, entry.features, entry)) dialogs.push(entry);
      },
      (timeUs) => context.advance(timeUs),
      undecoded,
    );
  } catch (error) {
    context.flush();
    warn();
    options.onPartial?.(dialogs);
    throw error;
  }
  context.flush();
  warn();
  return dialogs;
}

/** The capture a dialog came from, as a key that tells same-named captures apart (captureKey). */
export function captureKeyOf(dialog: Pick<CaptureDialog, 'capture' | 'captureKey'>): string {
  return dialog.captureKey ?? dialog.capture;
}
