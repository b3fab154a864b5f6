/**
 * Reads a labelled capture and returns its dialogs with the label their packets' comments
 * give them: the truth the classifier trains and is evaluated on.
 */
import { UsageClass } from '../labels';
import { DEFAULT_GAPS, Dialog, SegmentationGaps } from '../segment/dialog';
import { segmentCapture } from '../segment/segment-capture';
import { DialogLabels } from './dialog-labels';
import { TruthCommentError } from './truth-comment';

export interface LabelledDialog extends Omit<Dialog<DialogLabels>, 'notes'> {
  /** undefined when no packet of the dialog carries a label. */
  readonly usage: UsageClass | undefined;
}

export interface LabelOptions {
  readonly gaps?: SegmentationGaps;
  /** 'strict' (default) throws on conflicting labels; 'majority' takes the most frequent. */
  readonly conflicts?: 'strict' | 'majority';
}

export function labelCaptureDialogs(path: string, options: LabelOptions = {}): LabelledDialog[] {
  const dialogs: LabelledDialog[] = [];
  const majority = options.conflicts === 'majority';
  segmentCapture(
    path,
    options.gaps ?? DEFAULT_GAPS,
    () => new DialogLabels(),
    (labels, packet, _up, frame) => {
      try {
        labels.add(frame, packet.comments);
      } catch (error) {
        throw error instanceof TruthCommentError ? error.at(`${path}: frame ${frame} (byte offset ${packet.blockOffset})`) : error;
      }
    },
    (dialog) => {
      const { notes, ...rest } = dialog;
      const describe = () =>
        `${path}: dialog ${dialog.dialog} (session ${dialog.session}) of ${dialog.flow.l4} ${dialog.flow.client.ip}:${dialog.flow.client.port} → ${dialog.flow.server.ip}:${dialog.flow.server.port}`;
      dialogs.push({ ...rest, usage: majority ? notes.majority() : notes.usage(describe) });
    },
  );
  return dialogs;
}
