/**
 * Reads a labelled capture and returns its dialogs with the label their packets' comments
 * give them: the truth the classifier trains and is evaluated on.
 */
import { readCaptureFile } from '../capture/file-reader';
import { FlowTable } from '../flows/flow-table';
import { UsageClass } from '../labels';
import { DEFAULT_GAPS, Dialog, SegmentationGaps } from '../segment/dialog';
import { DialogSegmenter } from '../segment/dialog-segmenter';
import { DialogLabels } from './dialog-labels';

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
  const segmenter = new DialogSegmenter(options.gaps ?? DEFAULT_GAPS, () => new DialogLabels(), (dialog) => {
    const { notes, ...rest } = dialog;
    const describe = () =>
      `${path}: dialog ${dialog.dialog} (session ${dialog.session}) of ${dialog.flow.l4} ${dialog.flow.client.ip}:${dialog.flow.client.port} → ${dialog.flow.server.ip}:${dialog.flow.server.port}`;
    dialogs.push({ ...rest, usage: majority ? notes.majority() : notes.usage(describe) });
  });
  const flows = new FlowTable((_, flowId) => segmenter.endFlow(flowId));
  let frame = 0;
  readCaptureFile(path, (packet) => {
    frame++;
    flows.add(packet);
    if (flows.lastFlowId < 0) return;
    segmenter.add(flows.lastFlowId, packet, flows.lastPacketUp).notes.add(frame, packet.comments);
  });
  flows.flush();
  segmenter.flush();
  return dialogs;
}
