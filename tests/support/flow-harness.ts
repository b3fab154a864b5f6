/**
 * Drives a FlowTable as the capture reader does: each frame through the real frame decoder into
 * one reused Packet, then into the table. Plus the frame builders the flow tests share.
 */
import { decodeFrame } from '../../agent/src/capture/frame-decoder';
import { Packet } from '../../agent/src/capture/packet';
import { FlowRecord } from '../../agent/src/flows/flow-record';
import { FlowTable, FlowTableOptions } from '../../agent/src/flows/flow-table';
import { ethernet, ipv4, tcp, udp } from './capture-bytes';

export const LINKTYPE_ETHERNET = 1;
export const ETHERTYPE_IPV4 = 0x0800;

/** Ethernet + IPv4 + TCP: 54 + payload bytes. */
export function tcp4(src: string, srcPort: number, dst: string, dstPort: number, flags: number, payload = 0): Uint8Array {
  return ethernet(ETHERTYPE_IPV4, ipv4({ src, dst, protocol: 6, payload: tcp(srcPort, dstPort, flags, payload) }));
}

/** Ethernet + IPv4 + UDP: 42 + payload bytes. */
export function udp4(src: string, srcPort: number, dst: string, dstPort: number, payload = 0): Uint8Array {
  return ethernet(ETHERTYPE_IPV4, ipv4({ src, dst, protocol: 17, payload: udp(srcPort, dstPort, payload) }));
}

/** Feeds frames through the real frame decoder into one reused Packet, as the reader does. */
export class FlowHarness {
  readonly emitted: FlowRecord[] = [];
  readonly table: FlowTable;
  private readonly packet = new Packet();

  constructor(options?: FlowTableOptions) {
    this.table = new FlowTable((flow) => this.emitted.push(flow), options);
  }

  add(frame: Uint8Array, timestampUs: number, originalLength = frame.length, linkType = LINKTYPE_ETHERNET): number {
    const packet = this.packet;
    packet.resetDecoded();
    packet.linkType = linkType;
    packet.timestampUs = timestampUs;
    packet.capturedLength = frame.length;
    packet.originalLength = originalLength;
    decodeFrame(linkType, frame, 0, frame.length, packet);
    return this.table.add(packet);
  }

  /** Flushes the table and returns every flow emitted, in emission order. */
  finish(): FlowRecord[] {
    this.table.flush();
    return this.emitted;
  }
}
