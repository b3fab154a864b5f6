/**
 * Reads a capture file through the flow table into the dialog segmenter: the loop every
 * consumer of dialogs shares. `record` sees each packet with its dialog's notes, its direction,
 * its 1-based frame number, as Wireshark numbers frames, and the open dialog itself. Dialogs
 * close as in DialogStream: as soon as capture time passes their end by more than the dialog
 * gap; `onTime` is told each new capture time first (before the dialogs it closes).
 */
import { readCaptureFile } from '../capture/file-reader';
import { Packet } from '../capture/packet';
import { UndecodedLinks } from '../capture/undecoded-links';
import { FlowTable } from '../flows/flow-table';
import { Dialog, SegmentationGaps } from './dialog';
import { DialogSegmenter, OpenDialog } from './dialog-segmenter';

export function segmentCapture<Notes>(
  path: string,
  gaps: SegmentationGaps,
  createNotes: () => Notes,
  record: (notes: Notes, packet: Packet, up: boolean, frame: number, dialog: OpenDialog<Notes>) => void,
  onDialog: (dialog: Dialog<Notes>) => void,
  onTime?: (timeUs: number) => void,
  /** Counts the packets of link types not decoded, for the caller to report. */
  undecoded?: UndecodedLinks,
): void {
  const segmenter = new DialogSegmenter(gaps, createNotes, onDialog);
  const flows = new FlowTable((_, flowId) => segmenter.endFlow(flowId));
  let frame = 0;
  let newestUs = -Infinity;
  try {
    readCaptureFile(path, (packet) => {
      frame++;
      const time = packet.timestampUs;
      if (time > newestUs) {
        newestUs = time;
        onTime?.(time);
        segmenter.closeIdle(time);
      }
      flows.add(packet);
      if (flows.lastFlowId < 0) {
        undecoded?.note(packet);
        return;
      }
      const open = segmenter.add(flows.lastFlowId, packet, flows.lastPacketUp);
      record(open.notes, packet, flows.lastPacketUp, frame, open);
    });
  } finally {
    // On corrupt input too: every dialog read so far is delivered before the error goes on.
    flows.flush();
    segmenter.flush();
  }
}
