// Reads a rendered capture back with the project's own reader (no external tools): the fields
// the renderer tests check, one plain object per packet.

import { readCaptureFile } from '../../../agent/src/capture/file-reader';
import { DecodeStatus, Transport } from '../../../agent/src/capture/packet';

export interface ReadPacket {
  readonly timeUs: number;
  readonly length: number;
  readonly comments: readonly string[];
  readonly tcp: boolean;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly flags: number;
  readonly payloadLength: number;
}

export function readBack(path: string): ReadPacket[] {
  const packets: ReadPacket[] = [];
  readCaptureFile(path, (p) => {
    if (p.status !== DecodeStatus.Transport) throw new Error(`packet at offset ${p.blockOffset} did not decode to a transport header (status ${p.status})`);
    packets.push({
      timeUs: p.timestampUs,
      length: p.originalLength,
      comments: [...p.comments],
      tcp: p.transport === Transport.Tcp,
      srcPort: p.srcPort,
      dstPort: p.dstPort,
      flags: p.tcpFlags,
      payloadLength: p.payloadLength,
    });
  });
  return packets;
}

/** The phone's port of a packet of the fixtures' scripts (phone ports are 40 000 and up). */
export function phonePort(packet: ReadPacket): number {
  return packet.srcPort >= 40_000 ? packet.srcPort : packet.dstPort;
}

export function isUp(packet: ReadPacket): boolean {
  return packet.srcPort >= 40_000;
}
