/**
 * Reads a capture file through the flow table into the dialog segmenter: the loop every
 * consumer of dialogs shares. `record` sees each packet with its dialog's notes, its direction
 * and its 1-based frame number, as Wireshark numbers frames.
 */
import { readCaptureFile } from '../capture/file-reader';
import { Packet } from '../capture/packet';
import { FlowTable } from '../flows/flow-table';
import { Dialog, SegmentationGaps } from './dialog';
import { DialogSegmenter } from './dialog-segmenter';

export function segmentCapture<Notes>(
  path: string,
  gaps: SegmentationGaps,
  createNotes: () => Notes,
  record: (notes: Notes, packet: Packet, up: boolean, frame: number) => void,
  onDialog: (dialog: Dialog<Notes>) => void,
): void {
  const segmenter = new DialogSegmenter(gaps, createNotes, onDialog);
  const flows = new FlowTable((_, flowId) => segmenter.endFlow(flowId));
  let frame = 0;
  try {
    readCaptureFile(path, (packet) => {
      frame++;
      flows.add(packet);
      if (flows.lastFlowId < 0) return;
      record(segmenter.add(flows.lastFlowId, packet, flows.lastPacketUp).notes, packet, flows.lastPacketUp, frame);
    });
  } finally {
    // On corrupt input too: every dialog read so far is delivered before the error goes on.
    flows.flush();
    segmenter.flush();
  }
}
