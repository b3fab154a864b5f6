/**
 * The packet list of a capture, read with the project's own reader and flow table
 * (agent/src/capture, agent/src/flows) into columns of typed arrays: 30 bytes a packet (the
 * Columns below), so a 1 M-packet file takes 29 MiB and any row is formatted on demand.
 * Addresses are interned. Runs in a worker thread (capture-worker.ts) so the extension host
 * stays responsive.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { CaptureReader, mayStartCapture } from '../../../agent/src/capture/capture-reader';
import { CaptureError } from '../../../agent/src/capture/errors';
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
  /** The fault is only that the file ends inside a block: normal while it is being written. */
  readonly unfinished?: boolean;
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
  /**
   * The file's first bytes as read (up to HEAD_BYTES, fewer while the file is shorter): a file
   * that no longer starts with them was rewritten in place, and reading on from where the last
   * read stopped would land inside another file's blocks (fileStartsWith).
   */
  readonly head: Uint8Array;
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

/**
 * A file that is no capture at all (empty, or not starting like one). The editor shows an error
 * state for it, not the packet list of a capture read "up to a fault" at byte 0.
 */
export class NotACaptureError extends Error {
  override readonly name = 'NotACaptureError';
}

/** The smallest start that can identify a format (the magic number). */
const MAGIC_LENGTH = 4;
const CHUNK_LENGTH = 512 * 1024;
/**
 * How much of the file's start identifies it, as the live agent's state journal does: 4 KiB
 * hold the file header and the first packets, which differ between any two captures.
 */
export const HEAD_BYTES = 4096;

/**
 * What one read of a capture added: the rows of packets firstPacket…packets-1, the addresses
 * from firstAddress on and the flows from firstFlow on (flowPackets: the counts of every flow,
 * old flows growing too). The first read of a file is the whole index (all firsts 0).
 */
export interface CaptureIndexDelta extends CaptureIndexData {
  readonly firstPacket: number;
  readonly firstAddress: number;
  readonly firstFlow: number;
}

/**
 * Indexes a capture and, when the file grows, only what was appended: the reader, the flow table
 * and the interned addresses keep their state between reads (the capture reader resumes at the
 * first byte it has not consumed, an unfinished block included). Rows are not kept here: each
 * read hands its rows over (capture-worker.ts transfers them to the extension host).
 */
export class CaptureIndexer {
  private readonly reader = new CaptureReader();
  private readonly addresses = new AddressTable();
  private readonly flowKeys: string[] = [];
  private readonly flowCounts: number[] = [];
  private readonly flows = new FlowTable(() => undefined);
  private packets = 0;
  /** Bytes of the file given to the reader. */
  private offset = 0;
  /**
   * A corrupt block stops the reader for good (as in the agent); later reads add nothing. The
   * host reads such a file again from the start, in a new indexer, once its first bytes change.
   */
  private fault: string | undefined;
  /** The first bytes read (see CaptureIndexData.head). */
  private head = new Uint8Array(0);
  private sentAddresses = 0;
  private sentFlows = 0;

  constructor(readonly path: string) {}

  /**
   * Reads from where the last read stopped to the current end of the file. Throws
   * NotACaptureError for an empty file or one that is not a pcap or pcapng capture; a capture
   * cut or corrupted part-way is indexed up to the fault, which `error` names.
   */
  read(onProgress?: (offset: number, packets: number) => void): CaptureIndexDelta {
    const firstPacket = this.packets;
    const columns = new Columns(this.fault === undefined ? Math.min(4_000_000, Math.ceil(Math.max(0, statSync(this.path).size - this.offset) / 200)) : 0);
    if (this.fault === undefined) this.readNew(columns, onProgress);
    columns.trim();
    if (this.packets === 0 && this.offset === 0) throw new NotACaptureError('the file is empty');
    // Fewer bytes than a magic number: the start of one is a capture cut inside its file header
    // (said below in the reader's words, as the CLI says it), anything else is no capture.
    if (this.packets === 0 && this.offset < MAGIC_LENGTH && !mayStartCapture(this.head)) throw new NotACaptureError(`not a pcap or pcapng capture (only ${this.offset} bytes)`);
    const unfinished = this.fault === undefined ? this.unfinished() : undefined;
    const error = this.fault ?? unfinished;
    const delta: CaptureIndexDelta = {
      name: basename(this.path),
      path: this.path,
      format: this.reader.format ?? 'unknown',
      sizeBytes: this.offset,
      packets: this.packets,
      ...(error !== undefined ? { error } : {}),
      ...(unfinished !== undefined ? { unfinished: true } : {}),
      firstPacket,
      firstAddress: this.sentAddresses,
      firstFlow: this.sentFlows,
      timeUs: columns.timeUs,
      src: columns.src,
      dst: columns.dst,
      srcPort: columns.srcPort,
      dstPort: columns.dstPort,
      kind: columns.kind,
      ipProtocol: columns.ipProtocol,
      length: columns.length,
      flow: columns.flow,
      addresses: this.addresses.list.slice(this.sentAddresses),
      flowKeys: this.flowKeys.slice(this.sentFlows),
      flowPackets: Uint32Array.from(this.flowCounts),
      head: this.head.slice(),
    };
    this.sentAddresses = this.addresses.list.length;
    this.sentFlows = this.flowKeys.length;
    return delta;
  }

  private readNew(columns: Columns, onProgress?: (offset: number, packets: number) => void): void {
    const fd = openSync(this.path, 'r');
    try {
      for (;;) {
        const { buffer, index } = this.reader.reserve(CHUNK_LENGTH);
        const count = readSync(fd, buffer, index, CHUNK_LENGTH, this.offset);
        if (count === 0) break;
        if (this.offset < HEAD_BYTES) this.keepHead(buffer.subarray(index, index + Math.min(count, HEAD_BYTES - this.offset)));
        this.reader.commit(count);
        this.offset += count;
        for (let packet = this.reader.next(); packet !== undefined; packet = this.reader.next()) {
          this.add(columns, packet);
          if ((this.packets & 0xffff) === 0 && onProgress) onProgress(packet.blockOffset, this.packets);
        }
      }
    } catch (caught) {
      if (!(caught instanceof CaptureError)) throw caught;
      // The reader's detail already says "not a pcap or pcapng capture (what it starts with)".
      if (caught.code === 'CAPTURE_UNKNOWN_FORMAT' && this.packets === 0) throw new NotACaptureError(caught.detail);
      this.fault = caught.inFile(this.path).message;
    } finally {
      closeSync(fd);
    }
  }

  /** Appends bytes read at the end of the head (taken from what the reader got, not read twice). */
  private keepHead(bytes: Uint8Array): void {
    const head = new Uint8Array(this.head.length + bytes.length);
    head.set(this.head);
    head.set(bytes, this.head.length);
    this.head = head;
  }

  private add(columns: Columns, packet: Packet): void {
    const row = columns.reserve();
    columns.timeUs[row] = packet.timestampUs;
    columns.length[row] = packet.originalLength;
    const kind = kindOf(packet);
    columns.kind[row] = kind;
    if (packet.ipVersion !== 0 && kind !== PacketKind.Truncated && kind !== PacketKind.NotIp) {
      columns.src[row] = this.addresses.intern(packet.srcAddress, packet.ipVersion);
      columns.dst[row] = this.addresses.intern(packet.dstAddress, packet.ipVersion);
      columns.ipProtocol[row] = packet.ipProtocol;
    }
    if (kind === PacketKind.Tcp || kind === PacketKind.Udp) {
      columns.srcPort[row] = packet.srcPort;
      columns.dstPort[row] = packet.dstPort;
    }
    this.flows.add(packet);
    const flowId = this.flows.lastFlowId;
    columns.flow[row] = flowId;
    if (flowId >= 0) {
      if (flowId === this.flowKeys.length) {
        const l4 = packet.ipProtocol === 6 ? 'tcp' : 'udp';
        this.flowKeys.push(flowKey(l4, this.addresses.list[columns.src[row]!]!, packet.srcPort, this.addresses.list[columns.dst[row]!]!, packet.dstPort));
        this.flowCounts.push(0);
      }
      this.flowCounts[flowId]!++;
    }
    this.packets++;
  }

  /**
   * The file ends inside a block: normal while it is being written, a fault if it stays so. Said
   * in the reader's own words, by a throwaway reader given the same unfinished bytes (finish()
   * would end this one, and more bytes may come).
   */
  private unfinished(): string | undefined {
    if (this.reader.pendingBytes === 0) return undefined;
    const checkpoint = this.reader.checkpoint();
    const probe = checkpoint ? CaptureReader.resume(checkpoint) : new CaptureReader();
    const start = checkpoint?.offset ?? 0;
    const bytes = new Uint8Array(this.offset - start);
    const fd = openSync(this.path, 'r');
    try {
      readSync(fd, bytes, 0, bytes.length, start);
    } finally {
      closeSync(fd);
    }
    try {
      probe.append(bytes);
      while (probe.next() !== undefined);
      probe.finish();
    } catch (caught) {
      if (caught instanceof CaptureError) return caught.inFile(this.path).message;
      throw caught;
    }
    return undefined;
  }
}

/**
 * Whether the file still starts with `head`, the first bytes an earlier read saw: not when it
 * was rewritten in place (`cat other > it`, `cp` over it, editcap onto the same name keep the
 * inode, and may keep or grow the size) or cut shorter. Kept as bytes, not as a digest like the
 * agent's journal (which persists it): 4 KiB compared in memory. A file that cannot be opened
 * (deleted meanwhile) counts as unchanged: what was read is kept.
 */
export function fileStartsWith(path: string, head: Uint8Array): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return true;
  }
  try {
    const bytes = new Uint8Array(head.length);
    return readSync(fd, bytes, 0, bytes.length, 0) === head.length && Buffer.compare(bytes, head) === 0;
  } finally {
    closeSync(fd);
  }
}

/** Reads the whole capture (see CaptureIndexer.read). */
export function indexCapture(path: string, onProgress?: (offset: number, packets: number) => void): CaptureIndexData {
  return applyDelta(undefined, new CaptureIndexer(path).read(onProgress));
}

function concat<T extends Float64Array | Uint32Array | Uint16Array | Uint8Array | Int32Array>(base: T, added: T, make: (length: number) => T): T {
  if (added.length === 0) return base;
  const joined = make(base.length + added.length);
  joined.set(base as never);
  joined.set(added as never, base.length);
  return joined;
}

/** The index after a read: `base` (undefined for a first read) with the delta's additions. */
export function applyDelta(base: CaptureIndexData | undefined, delta: CaptureIndexDelta): CaptureIndexData {
  const from = { packets: base?.packets ?? 0, addresses: base?.addresses.length ?? 0, flows: base?.flowKeys.length ?? 0 };
  if (delta.firstPacket !== from.packets || delta.firstAddress !== from.addresses || delta.firstFlow !== from.flows) {
    throw new Error(`index delta does not follow: it starts at packet ${delta.firstPacket}, address ${delta.firstAddress}, flow ${delta.firstFlow}; the index has ${from.packets}, ${from.addresses}, ${from.flows}`);
  }
  const { firstPacket: _p, firstAddress: _a, firstFlow: _f, ...whole } = delta;
  if (base === undefined) return whole;
  return {
    ...whole,
    timeUs: concat(base.timeUs, delta.timeUs, (n) => new Float64Array(n)),
    src: concat(base.src, delta.src, (n) => new Uint32Array(n)),
    dst: concat(base.dst, delta.dst, (n) => new Uint32Array(n)),
    srcPort: concat(base.srcPort, delta.srcPort, (n) => new Uint16Array(n)),
    dstPort: concat(base.dstPort, delta.dstPort, (n) => new Uint16Array(n)),
    kind: concat(base.kind, delta.kind, (n) => new Uint8Array(n)),
    ipProtocol: concat(base.ipProtocol, delta.ipProtocol, (n) => new Uint8Array(n)),
    length: concat(base.length, delta.length, (n) => new Uint32Array(n)),
    flow: concat(base.flow, delta.flow, (n) => new Int32Array(n)),
    addresses: delta.addresses.length === 0 ? base.addresses : [...base.addresses, ...delta.addresses],
    flowKeys: delta.flowKeys.length === 0 ? base.flowKeys : [...base.flowKeys, ...delta.flowKeys],
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
