/** Test helper: reads capture bytes through the incremental reader and snapshots every packet. */
import { CaptureReader, CaptureReaderOptions } from '../../agent/src/capture/capture-reader';
import { Packet } from '../../agent/src/capture/packet';

export interface PacketSnapshot {
  readonly blockOffset: number;
  readonly interfaceId: number;
  readonly linkType: number;
  readonly timestampUs: number;
  readonly capturedLength: number;
  readonly originalLength: number;
  readonly comments: readonly string[];
  readonly status: number;
  readonly ipVersion: number;
  readonly src: readonly number[];
  readonly dst: readonly number[];
  readonly ipProtocol: number;
  readonly fragmentId: number;
  readonly fragmentOffset: number;
  readonly moreFragments: boolean;
  readonly transport: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly tcpFlags: number;
  readonly payloadLength: number;
}

export function snapshot(packet: Packet): PacketSnapshot {
  return {
    blockOffset: packet.blockOffset,
    interfaceId: packet.interfaceId,
    linkType: packet.linkType,
    timestampUs: packet.timestampUs,
    capturedLength: packet.capturedLength,
    originalLength: packet.originalLength,
    comments: [...packet.comments],
    status: packet.status,
    ipVersion: packet.ipVersion,
    src: [...packet.srcAddress],
    dst: [...packet.dstAddress],
    ipProtocol: packet.ipProtocol,
    fragmentId: packet.fragmentId,
    fragmentOffset: packet.fragmentOffset,
    moreFragments: packet.moreFragments,
    transport: packet.transport,
    srcPort: packet.srcPort,
    dstPort: packet.dstPort,
    tcpFlags: packet.tcpFlags,
    payloadLength: packet.payloadLength,
  };
}

/** Feeds `data` in the given chunk sizes (cycled), then finishes. */
export function readInChunks(data: Uint8Array, chunkSizes: readonly number[] = [data.length], options: CaptureReaderOptions = {}): PacketSnapshot[] {
  const reader = new CaptureReader(options);
  const packets: PacketSnapshot[] = [];
  let at = 0;
  for (let index = 0; at < data.length; index++) {
    const size = Math.max(1, chunkSizes[index % chunkSizes.length]!);
    reader.append(data.subarray(at, at + size));
    at += size;
    for (let packet = reader.next(); packet; packet = reader.next()) packets.push(snapshot(packet));
  }
  reader.finish();
  return packets;
}

export function readWhole(data: Uint8Array, options: CaptureReaderOptions = {}): PacketSnapshot[] {
  return readInChunks(data, [Math.max(1, data.length)], options);
}
