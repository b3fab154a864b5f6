/**
 * The packet list of a capture, read with the project's own reader and flow table
 * (agent/src/capture, agent/src/flows) into columns of typed arrays: about 40 bytes a packet,
 * so a 1 M-packet file takes ~40 MB and any row is formatted on demand. Addresses are interned.
 * Runs in a worker thread (capture-worker.ts) so the extension host stays responsive.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { CaptureError } from '../../../agent/src/capture/errors';
import { readCaptureFile } from '../../../agent/src/capture/file-reader';
import { DecodeStatus, Packet } from '../../../agent/src/capture/packet';
import { FlowTable } from '../../../agent/src/flows/flow-table';
import { formatIpv4, formatIpv6 } from '../../../agent/src/flows/ip-address';
import { flowKey } from '../shared/format';

/** What a packet is, for the transport column. */
export const enum PacketKind {
  NotIp = 0,
  OtherIp = 1,
  Tcp = 2,
  Udp = 3,
  Fragment = 4,
  Truncated = 5,
  UnsupportedLink = 6,
}

export interface CaptureIndexData {
  readonly name: string;
  readonly path: string;
  readonly format: string;
  readonly sizeBytes: number;
  readonly packets: number;
  /** Set when the file could only be read up to a fault; the packets before it are indexed. */
  readonly error?: string;
  readonly timeUs: Float64Array;
  readonly src: Uint32Array;
  readonly dst: Uint32Array;
  readonly srcPort: Uint16Array;
  readonly dstPort: Uint16Array;
  readonly kind: Uint8Array;
  /** IP protocol number (IPv6: after extension headers); 0 when not IP. */
  readonly ipProtocol: Uint8Array;
  readonly length: Uint32Array;
  /** Flow id (index into flowKeys), -1 when the packet is in no flow. */
  readonly flow: Int32Array;
  /** Interned address strings; src/dst index into it. Index 0 is "" (no address). */
  readonly addresses: readonly string[];
  /** Per flow id: its canonical 5-tuple key (shared/format.ts flowKey), either direction. */
  readonly flowKeys: readonly string[];
  /** Per flow id: its packet count. */
  readonly flowPackets: Uint32Array;
}

class Columns {
  capacity: number;
  count = 0;
  timeUs: Float64Array;
  src: Uint32Array;
  dst: Uint32Array;
  srcPort: Uint16Array;
  dstPort: Uint16Array;
  kind: Uint8Array;
  ipProtocol: Uint8Array;
  length: Uint32Array;
  flow: Int32Array;

  constructor(capacity: number) {
    this.capacity = Math.max(1024, capacity);
    this.timeUs = new Float64Array(this.capacity);
    this.src = new Uint32Array(this.capacity);
    this.dst = new Uint32Array(this.capacity);
    this.srcPort = new Uint16Array(this.capacity);
    this.dstPort = new Uint16Array(this.capacity);
    this.kind = new Uint8Array(this.capacity);
    this.ipProtocol = new Uint8Array(this.capacity);
    this.length = new Uint32Array(this.capacity);
    this.flow = new Int32Array(this.capacity);
  }

  /** Room for one more row, doubling every column when full. */
  reserve(): number {
    if (this.count === this.capacity) this.resize(this.capacity * 2);
    return this.count++;
  }

  /** Exact-size copies (so the transfer to the host moves no slack). */
  trim(): void {
    if (this.count !== this.capacity) this.resize(this.count);
  }

  private resize(capacity: number): void {
    const grow = <T extends Float64Array | Uint32Array | Uint16Array | Uint8Array | Int32Array>(array: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(array.subarray(0, Math.min(this.count, capacity)) as never);
      return next;
    };
    this.timeUs = grow(this.timeUs, (n) => new Float64Array(n));
    this.src = grow(this.src, (n) => new Uint32Array(n));
    this.dst = grow(this.dst, (n) => new Uint32Array(n));
    this.srcPort = grow(this.srcPort, (n) => new Uint16Array(n));
    this.dstPort = grow(this.dstPort, (n) => new Uint16Array(n));
    this.kind = grow(this.kind, (n) => new Uint8Array(n));
    this.ipProtocol = grow(this.ipProtocol, (n) => new Uint8Array(n));
    this.length = grow(this.length, (n) => new Uint32Array(n));
    this.flow = grow(this.flow, (n) => new Int32Array(n));
    this.capacity = capacity;
  }
}

class AddressTable {
  readonly list: string[] = [''];
  private readonly v4 = new Map<number, number>();
  private readonly v6 = new Map<string, number>();

  intern(words: Uint32Array, version: number): number {
    if (version === 4) {
      const word = words[0]! >>> 0;
      let index = this.v4.get(word);
      if (index === undefined) {
        index = this.list.push(formatIpv4(word)) - 1;
        this.v4.set(word, index);
      }
      return index;
    }
    const text = formatIpv6(words);
    let index = this.v6.get(text);
    if (index === undefined) {
      index = this.list.push(text) - 1;
      this.v6.set(text, index);
    }
    return index;
  }
}

function kindOf(packet: Packet): PacketKind {
  switch (packet.status) {
    case DecodeStatus.Transport:
      return packet.ipProtocol === 6 ? PacketKind.Tcp : PacketKind.Udp;
    case DecodeStatus.Fragment:
      return PacketKind.Fragment;
    case DecodeStatus.OtherIp:
      return PacketKind.OtherIp;
    case DecodeStatus.NotIp:
      return PacketKind.NotIp;
    case DecodeStatus.UnsupportedLink:
      return PacketKind.UnsupportedLink;
    default:
      return PacketKind.Truncated;
  }
}

/** Reads the whole capture. `onProgress` gets the file offset now and then. */
export function indexCapture(path: string, onProgress?: (offset: number, packets: number) => void): CaptureIndexData {
  const sizeBytes = statSync(path).size;
  // Generated and real captures average 100–700 bytes a packet: start near the right size.
  const columns = new Columns(Math.min(4_000_000, Math.ceil(sizeBytes / 200)));
  const addresses = new AddressTable();
  const flowKeys: string[] = [];
  const flowCounts: number[] = [];
  const flows = new FlowTable(() => undefined);
  let format = 'unknown';
  let error: string | undefined;
  try {
    readCaptureFile(path, (packet, reader) => {
      const row = columns.reserve();
      if (row === 0) format = reader.format ?? 'unknown';
      columns.timeUs[row] = packet.timestampUs;
      columns.length[row] = packet.originalLength;
      const kind = kindOf(packet);
      columns.kind[row] = kind;
      if (packet.ipVersion !== 0 && kind !== PacketKind.Truncated && kind !== PacketKind.NotIp) {
        columns.src[row] = addresses.intern(packet.srcAddress, packet.ipVersion);
        columns.dst[row] = addresses.intern(packet.dstAddress, packet.ipVersion);
        columns.ipProtocol[row] = packet.ipProtocol;
      }
      if (kind === PacketKind.Tcp || kind === PacketKind.Udp) {
        columns.srcPort[row] = packet.srcPort;
        columns.dstPort[row] = packet.dstPort;
      }
      flows.add(packet);
      const flowId = flows.lastFlowId;
      columns.flow[row] = flowId;
      if (flowId >= 0) {
        if (flowId === flowKeys.length) {
          const l4 = packet.ipProtocol === 6 ? 'tcp' : 'udp';
          flowKeys.push(flowKey(l4, addresses.list[columns.src[row]!]!, packet.srcPort, addresses.list[columns.dst[row]!]!, packet.dstPort));
          flowCounts.push(0);
        }
        flowCounts[flowId]!++;
      }
      if ((row & 0xffff) === 0 && onProgress) onProgress(packet.blockOffset, row);
    });
  } catch (caught) {
    if (!(caught instanceof CaptureError)) throw caught;
    error = caught.message;
  }
  columns.trim();
  return {
    name: basename(path),
    path,
    format,
    sizeBytes,
    packets: columns.count,
    ...(error !== undefined ? { error } : {}),
    timeUs: columns.timeUs,
    src: columns.src,
    dst: columns.dst,
    srcPort: columns.srcPort,
    dstPort: columns.dstPort,
    kind: columns.kind,
    ipProtocol: columns.ipProtocol,
    length: columns.length,
    flow: columns.flow,
    addresses: addresses.list,
    flowKeys,
    flowPackets: Uint32Array.from(flowCounts),
  };
}

const IP_PROTOCOLS: Readonly<Record<number, string>> = { 1: 'ICMP', 2: 'IGMP', 47: 'GRE', 50: 'ESP', 51: 'AH', 58: 'ICMPv6', 132: 'SCTP' };

export function transportName(kind: number, ipProtocol: number): string {
  switch (kind) {
    case PacketKind.Tcp:
      return 'TCP';
    case PacketKind.Udp:
      return 'UDP';
    case PacketKind.Fragment:
      return 'IP frag';
    case PacketKind.OtherIp:
      return IP_PROTOCOLS[ipProtocol] ?? `IP ${ipProtocol}`;
    case PacketKind.NotIp:
      return 'non-IP';
    case PacketKind.UnsupportedLink:
      return 'link?';
    default:
      return 'truncated';
  }
}

/** Every typed array of the index, for a zero-copy transfer between threads. */
export function transferList(data: CaptureIndexData): ArrayBuffer[] {
  return [data.timeUs, data.src, data.dst, data.srcPort, data.dstPort, data.kind, data.ipProtocol, data.length, data.flow, data.flowPackets].map(
    (array) => array.buffer as ArrayBuffer,
  );
}
