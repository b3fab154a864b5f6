/**
 * Copies dumpcap's capture into the recording: the same frames with the same timestamps (µs),
 * each with its ground-truth comment, without the recorder's probes and anything foreign; and
 * collects the truth sidecar on the way.
 */
import { CaptureInterface } from '../capture/capture-interface';
import { createFileSink, PcapngWriter } from '../capture/pcapng-writer';
import { readCaptureFile } from '../capture/file-reader';
import { PacketLabeller } from './packet-labeller';
import { TruthFlow, TruthRecord, TruthTable } from '../truth/truth-sidecar';
import { formatTruthComment } from '../truth/truth-comment';
import { TruthTag } from '../simulate/traffic-script';
import { ReplayedConnection } from './loopback-replay';

export interface RewriteResult {
  /** Packets written (all of them commented). */
  readonly packets: number;
  /** Sum of their original frame lengths. */
  readonly bytes: number;
  /** Recorder probes left out. */
  readonly control: number;
  /** Packets of no replayed connection, left out. */
  readonly foreign: number;
  readonly truth: TruthRecord[];
}

export function rewriteWithTruth(input: string, output: string, labeller: PacketLabeller, captureName: string): RewriteResult {
  const file = createFileSink(output);
  const writer = new PcapngWriter(file.sink, { reuseChunk: true, userApplication: 'Cumma record (captured by dumpcap)' });
  const interfaceIds = new Map<CaptureInterface, number>();
  const flows = new Map<ReplayedConnection, TruthFlow>();
  const table = new TruthTable(captureName);
  // Scripts share tag objects between messages: one comment string per tag, not per packet.
  const comments = new Map<TruthTag, string>();
  let packets = 0;
  let bytes = 0;
  let control = 0;
  let foreign = 0;
  try {
    readCaptureFile(input, (packet, reader) => {
      const frame = reader.frameBytes();
      const captureInterface = reader.interfaces[packet.interfaceId]!;
      const verdict = labeller.label(packet);
      if (verdict.kind === 'control') {
        control++;
        return;
      }
      if (verdict.kind === 'foreign') {
        foreign++;
        return;
      }
      let id = interfaceIds.get(captureInterface);
      if (id === undefined) {
        id = writer.addInterface({
          linkType: captureInterface.linkType,
          snapLen: captureInterface.snapLength,
          ...(captureInterface.name !== undefined ? { name: captureInterface.name } : {}),
        });
        interfaceIds.set(captureInterface, id);
      }
      let comment = comments.get(verdict.truth);
      if (comment === undefined) {
        comment = formatTruthComment(verdict.truth);
        comments.set(verdict.truth, comment);
      }
      writer.writePacket(id, packet.timestampUs, frame, packet.originalLength, comment);
      let flow = flows.get(verdict.connection);
      if (flow === undefined) {
        flow = { l4: verdict.connection.l4, client: verdict.connection.client, server: verdict.connection.server };
        flows.set(verdict.connection, flow);
      }
      table.add(flow, verdict.truth, verdict.direction, packet.timestampUs, packet.originalLength);
      packets++;
      bytes += packet.originalLength;
    });
    writer.flush();
  } finally {
    file.close();
  }
  return { packets, bytes, control, foreign, truth: table.records() };
}
