/**
 * Bidirectional 5-tuple flow table. Packets of both directions map to one flow through a
 * canonical key (the smaller endpoint first). Flows live in parallel typed arrays indexed by
 * slot, found through an open-addressing hash index, and chained in a least-recently-used
 * list: the idle end of that list expires first and is evicted when the table is full, so
 * memory stays bounded by `maxFlows` whatever the capture's size. Nothing is allocated per
 * packet; a FlowRecord object is made only when a flow is emitted.
 */
import { DecodeStatus, Packet, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, Transport } from '../capture/packet';
import { FragmentIndex } from './fragment-index';
import { FlowRecord } from './flow-record';
import { formatIpv4, formatIpv6 } from './ip-address';

export interface FlowTableOptions {
  /** A flow with no packet for this long ends (µs). Default 300 s: longer than messaging keep-alives. */
  readonly idleTimeoutUs?: number;
  /** At most this many flows are held; the least recently active is emitted to make room. */
  readonly maxFlows?: number;
}

export const DEFAULT_IDLE_TIMEOUT_US = 300_000_000;
export const DEFAULT_MAX_FLOWS = 500_000;
const INITIAL_CAPACITY = 1024;

const STATE_SYN_SEEN = 1;
const STATE_CLOSED = 2;

export interface FlowTableStats {
  packets: number;
  /** Packets counted in a flow (TCP/UDP and attributed fragments). */
  flowPackets: number;
  fragmentsAttributed: number;
  fragmentsUnattributed: number;
  notIp: number;
  otherIp: number;
  truncated: number;
  unsupportedLink: number;
  flowsEmitted: number;
  /** Flows emitted early because the table was full. */
  flowsEvicted: number;
}

/** Why add() did not place a packet in a flow, or -1 when it did. */
export const NO_FLOW = -1;

export class FlowTable {
  readonly stats: FlowTableStats = {
    packets: 0,
    flowPackets: 0,
    fragmentsAttributed: 0,
    fragmentsUnattributed: 0,
    notIp: 0,
    otherIp: 0,
    truncated: 0,
    unsupportedLink: 0,
    flowsEmitted: 0,
    flowsEvicted: 0,
  };
  /** Direction of the packet last given to add(): true when it went client → server. */
  lastPacketUp = false;

  private readonly idleTimeoutUs: number;
  private readonly maxFlows: number;
  private capacity = 0;
  private count = 0;
  /** Latest timestamp seen: the clock for idle expiry (captures are not always monotonic). */
  private now = -Infinity;

  // Per-slot flow state.
  private addressA = new Uint32Array(0); // 4 words per slot
  private addressB = new Uint32Array(0);
  private portA = new Uint16Array(0);
  private portB = new Uint16Array(0);
  private protocol = new Uint8Array(0);
  private ipVersion = new Uint8Array(0);
  private clientIsA = new Uint8Array(0);
  private tcpState = new Uint8Array(0);
  private firstUs = new Float64Array(0);
  private lastUs = new Float64Array(0);
  private packetsUp = new Float64Array(0);
  private packetsDown = new Float64Array(0);
  private bytesUp = new Float64Array(0);
  private bytesDown = new Float64Array(0);
  private generation = new Uint32Array(0);
  private newer = new Int32Array(0); // LRU links
  private older = new Int32Array(0);
  private freeSlots = new Int32Array(0);
  private freeCount = 0;
  private newest = -1;
  private oldest = -1;

  // Hash index: slot + 1 per bucket, 0 = empty; linear probing.
  private buckets = new Int32Array(0);
  private bucketMask = 0;

  private readonly fragments = new FragmentIndex();

  constructor(
    private readonly onFlow: (flow: FlowRecord) => void,
    options: FlowTableOptions = {},
  ) {
    this.idleTimeoutUs = options.idleTimeoutUs ?? DEFAULT_IDLE_TIMEOUT_US;
    this.maxFlows = Math.max(1, options.maxFlows ?? DEFAULT_MAX_FLOWS);
    if (!(this.idleTimeoutUs > 0)) throw new RangeError(`idle timeout must be positive, got ${this.idleTimeoutUs} µs`);
    this.grow(Math.min(INITIAL_CAPACITY, this.maxFlows));
  }

  get activeFlows(): number {
    return this.count;
  }

  /**
   * Accounts one packet. Returns the slot of its flow, or NO_FLOW when it belongs to none
   * (not TCP/UDP, truncated, or a fragment whose first fragment was not seen).
   */
  add(packet: Packet): number {
    const stats = this.stats;
    stats.packets++;
    if (packet.timestampUs > this.now) {
      this.now = packet.timestampUs;
      this.expireIdle();
    }
    switch (packet.status) {
      case DecodeStatus.Transport:
        break;
      case DecodeStatus.Fragment:
        return this.addFragment(packet);
      case DecodeStatus.OtherIp:
        stats.otherIp++;
        return NO_FLOW;
      case DecodeStatus.NotIp:
        stats.notIp++;
        return NO_FLOW;
      case DecodeStatus.UnsupportedLink:
        stats.unsupportedLink++;
        return NO_FLOW;
      default:
        stats.truncated++;
        return NO_FLOW;
    }
    const fromA = this.sourceIsA(packet);
    let slot = this.find(packet, fromA);
    const flags = packet.transport === Transport.Tcp ? packet.tcpFlags : 0;
    const pureSyn = (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
    if (slot !== NO_FLOW && pureSyn && (this.tcpState[slot]! & STATE_CLOSED) !== 0) {
      // A new connection reusing the 5-tuple of one that was closed.
      this.emit(slot);
      slot = NO_FLOW;
    } else if (slot !== NO_FLOW && packet.timestampUs - this.lastUs[slot]! > this.idleTimeoutUs) {
      // Silent for longer than the timeout but missed by expireIdle(), which stops at the first
      // live flow of the recency list: out-of-order timestamps can hide an idle flow behind it.
      this.emit(slot);
      slot = NO_FLOW;
    }
    if (slot === NO_FLOW) {
      slot = this.create(packet, fromA);
      // A SYN-ACK seen first was sent by the server.
      const synAck = (flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK);
      this.clientIsA[slot] = (fromA !== synAck) ? 1 : 0;
    } else if (pureSyn && (this.tcpState[slot]! & STATE_SYN_SEEN) === 0) {
      // The capture began mid-connection and the handshake shows up only now: the SYN
      // sender is the client, whoever sent first.
      this.orientClient(slot, fromA);
    }
    if (pureSyn) this.tcpState[slot]! |= STATE_SYN_SEEN;
    if ((flags & (TCP_FIN | TCP_RST)) !== 0) this.tcpState[slot]! |= STATE_CLOSED;
    this.account(slot, packet, fromA);
    if (packet.isFirstFragment) this.fragments.remember(packet, slot, this.generation[slot]!);
    return slot;
  }

  /** Emits every flow still held, oldest first packet first, and empties the table. */
  flush(): void {
    const slots: number[] = [];
    for (let slot = this.oldest; slot !== -1; slot = this.newer[slot]!) slots.push(slot);
    slots.sort((left, right) => this.firstUs[left]! - this.firstUs[right]! || left - right);
    for (const slot of slots) this.emit(slot);
    this.fragments.clear();
  }

  private addFragment(packet: Packet): number {
    const slot = this.fragments.lookup(packet);
    if (slot === NO_FLOW || this.generation[slot] !== this.fragments.lastGeneration || !this.isLive(slot)) {
      this.stats.fragmentsUnattributed++;
      return NO_FLOW;
    }
    this.stats.fragmentsAttributed++;
    this.account(slot, packet, this.sourceIsA(packet));
    return slot;
  }

  private isLive(slot: number): boolean {
    return this.protocol[slot] !== 0;
  }

  private account(slot: number, packet: Packet, fromA: boolean): void {
    const up = fromA === (this.clientIsA[slot] === 1);
    this.lastPacketUp = up;
    if (up) {
      this.packetsUp[slot]!++;
      this.bytesUp[slot]! += packet.originalLength;
    } else {
      this.packetsDown[slot]!++;
      this.bytesDown[slot]! += packet.originalLength;
    }
    if (packet.timestampUs < this.firstUs[slot]!) this.firstUs[slot] = packet.timestampUs;
    if (packet.timestampUs > this.lastUs[slot]!) this.lastUs[slot] = packet.timestampUs;
    this.stats.flowPackets++;
    this.touch(slot);
  }

  private orientClient(slot: number, synFromA: boolean): void {
    const clientIsA = synFromA ? 1 : 0;
    if (this.clientIsA[slot] === clientIsA) return;
    this.clientIsA[slot] = clientIsA;
    [this.packetsUp[slot], this.packetsDown[slot]] = [this.packetsDown[slot]!, this.packetsUp[slot]!];
    [this.bytesUp[slot], this.bytesDown[slot]] = [this.bytesDown[slot]!, this.bytesUp[slot]!];
  }

  /** Canonical order: the endpoint with the smaller (address, port) is A. */
  private sourceIsA(packet: Packet): boolean {
    const src = packet.srcAddress;
    const dst = packet.dstAddress;
    for (let word = 0; word < 4; word++) {
      if (src[word] !== dst[word]) return src[word]! < dst[word]!;
    }
    return packet.srcPort <= packet.dstPort;
  }

  private hash(packet: Packet, fromA: boolean): number {
    const a = fromA ? packet.srcAddress : packet.dstAddress;
    const b = fromA ? packet.dstAddress : packet.srcAddress;
    const portA = fromA ? packet.srcPort : packet.dstPort;
    const portB = fromA ? packet.dstPort : packet.srcPort;
    let h = Math.imul(packet.ipProtocol ^ (packet.ipVersion << 8) ^ (portA << 16), 0x9e3779b1) ^ portB;
    for (let word = 0; word < 4; word++) {
      h = Math.imul(h ^ a[word]!, 0x85ebca6b);
      h = Math.imul(h ^ (h >>> 13) ^ b[word]!, 0xc2b2ae35);
    }
    return (h ^ (h >>> 16)) >>> 0;
  }

  private hashSlot(slot: number): number {
    let h = Math.imul(this.protocol[slot]! ^ (this.ipVersion[slot]! << 8) ^ (this.portA[slot]! << 16), 0x9e3779b1) ^ this.portB[slot]!;
    const base = slot * 4;
    for (let word = 0; word < 4; word++) {
      h = Math.imul(h ^ this.addressA[base + word]!, 0x85ebca6b);
      h = Math.imul(h ^ (h >>> 13) ^ this.addressB[base + word]!, 0xc2b2ae35);
    }
    return (h ^ (h >>> 16)) >>> 0;
  }

  private matches(slot: number, packet: Packet, fromA: boolean): boolean {
    if (this.protocol[slot] !== packet.ipProtocol || this.ipVersion[slot] !== packet.ipVersion) return false;
    const a = fromA ? packet.srcAddress : packet.dstAddress;
    const b = fromA ? packet.dstAddress : packet.srcAddress;
    if (this.portA[slot] !== (fromA ? packet.srcPort : packet.dstPort)) return false;
    if (this.portB[slot] !== (fromA ? packet.dstPort : packet.srcPort)) return false;
    const base = slot * 4;
    for (let word = 0; word < 4; word++) {
      if (this.addressA[base + word] !== a[word] || this.addressB[base + word] !== b[word]) return false;
    }
    return true;
  }

  private find(packet: Packet, fromA: boolean): number {
    const mask = this.bucketMask;
    for (let bucket = this.hash(packet, fromA) & mask; ; bucket = (bucket + 1) & mask) {
      const entry = this.buckets[bucket]!;
      if (entry === 0) return NO_FLOW;
      if (this.matches(entry - 1, packet, fromA)) return entry - 1;
    }
  }

  private create(packet: Packet, fromA: boolean): number {
    if (this.freeCount === 0) {
      if (this.capacity < this.maxFlows) {
        this.grow(Math.min(this.capacity * 2, this.maxFlows));
      } else {
        this.stats.flowsEvicted++;
        this.emit(this.oldest);
      }
    }
    const slot = this.freeSlots[--this.freeCount]!;
    const a = fromA ? packet.srcAddress : packet.dstAddress;
    const b = fromA ? packet.dstAddress : packet.srcAddress;
    const base = slot * 4;
    for (let word = 0; word < 4; word++) {
      this.addressA[base + word] = a[word]!;
      this.addressB[base + word] = b[word]!;
    }
    this.portA[slot] = fromA ? packet.srcPort : packet.dstPort;
    this.portB[slot] = fromA ? packet.dstPort : packet.srcPort;
    this.protocol[slot] = packet.ipProtocol;
    this.ipVersion[slot] = packet.ipVersion;
    this.tcpState[slot] = 0;
    this.firstUs[slot] = packet.timestampUs;
    this.lastUs[slot] = packet.timestampUs;
    this.packetsUp[slot] = this.packetsDown[slot] = this.bytesUp[slot] = this.bytesDown[slot] = 0;
    this.generation[slot]!++;
    this.insertBucket(slot, this.hash(packet, fromA));
    this.linkNewest(slot);
    this.count++;
    return slot;
  }

  private insertBucket(slot: number, hash: number): void {
    const mask = this.bucketMask;
    let bucket = hash & mask;
    while (this.buckets[bucket] !== 0) bucket = (bucket + 1) & mask;
    this.buckets[bucket] = slot + 1;
  }

  /** Linear-probing deletion by backward shift: no tombstones, so probes stay short. */
  private removeBucket(slot: number): void {
    const mask = this.bucketMask;
    let hole = this.hashSlot(slot) & mask;
    while (this.buckets[hole] !== slot + 1) hole = (hole + 1) & mask;
    for (let probe = (hole + 1) & mask; this.buckets[probe] !== 0; probe = (probe + 1) & mask) {
      const home = this.hashSlot(this.buckets[probe]! - 1) & mask;
      // Move the entry into the hole unless its home lies cyclically in (hole, probe].
      const stays = hole <= probe ? hole < home && home <= probe : hole < home || home <= probe;
      if (!stays) {
        this.buckets[hole] = this.buckets[probe]!;
        hole = probe;
      }
    }
    this.buckets[hole] = 0;
  }

  private emit(slot: number): void {
    this.onFlow(this.record(slot));
    this.stats.flowsEmitted++;
    this.removeBucket(slot);
    this.unlink(slot);
    this.protocol[slot] = 0;
    this.freeSlots[this.freeCount++] = slot;
    this.count--;
  }

  private expireIdle(): void {
    const horizon = this.now - this.idleTimeoutUs;
    while (this.oldest !== -1 && this.lastUs[this.oldest]! < horizon) this.emit(this.oldest);
  }

  private record(slot: number): FlowRecord {
    const clientIsA = this.clientIsA[slot] === 1;
    const endpointA = { ip: this.formatAddress(this.addressA, slot), port: this.portA[slot]! };
    const endpointB = { ip: this.formatAddress(this.addressB, slot), port: this.portB[slot]! };
    return {
      l4: this.protocol[slot] === Transport.Tcp ? 'tcp' : 'udp',
      client: clientIsA ? endpointA : endpointB,
      server: clientIsA ? endpointB : endpointA,
      firstUs: this.firstUs[slot]!,
      lastUs: this.lastUs[slot]!,
      packets: { up: this.packetsUp[slot]!, down: this.packetsDown[slot]! },
      bytes: { up: this.bytesUp[slot]!, down: this.bytesDown[slot]! },
    };
  }

  private formatAddress(words: Uint32Array, slot: number): string {
    return this.ipVersion[slot] === 4 ? formatIpv4(words[slot * 4]!) : formatIpv6(words.subarray(slot * 4, slot * 4 + 4));
  }

  private linkNewest(slot: number): void {
    this.older[slot] = this.newest;
    this.newer[slot] = -1;
    if (this.newest !== -1) this.newer[this.newest] = slot;
    this.newest = slot;
    if (this.oldest === -1) this.oldest = slot;
  }

  private unlink(slot: number): void {
    const older = this.older[slot]!;
    const newer = this.newer[slot]!;
    if (older !== -1) this.newer[older] = newer;
    else this.oldest = newer;
    if (newer !== -1) this.older[newer] = older;
    else this.newest = older;
  }

  private touch(slot: number): void {
    if (this.newest === slot) return;
    this.unlink(slot);
    this.linkNewest(slot);
  }

  private grow(capacity: number): void {
    const previous = this.capacity;
    const copy = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>(old: T, make: (n: number) => T, width = 1): T => {
      const grown = make(capacity * width);
      grown.set(old);
      return grown;
    };
    this.addressA = copy(this.addressA, (n) => new Uint32Array(n), 4);
    this.addressB = copy(this.addressB, (n) => new Uint32Array(n), 4);
    this.portA = copy(this.portA, (n) => new Uint16Array(n));
    this.portB = copy(this.portB, (n) => new Uint16Array(n));
    this.protocol = copy(this.protocol, (n) => new Uint8Array(n));
    this.ipVersion = copy(this.ipVersion, (n) => new Uint8Array(n));
    this.clientIsA = copy(this.clientIsA, (n) => new Uint8Array(n));
    this.tcpState = copy(this.tcpState, (n) => new Uint8Array(n));
    this.firstUs = copy(this.firstUs, (n) => new Float64Array(n));
    this.lastUs = copy(this.lastUs, (n) => new Float64Array(n));
    this.packetsUp = copy(this.packetsUp, (n) => new Float64Array(n));
    this.packetsDown = copy(this.packetsDown, (n) => new Float64Array(n));
    this.bytesUp = copy(this.bytesUp, (n) => new Float64Array(n));
    this.bytesDown = copy(this.bytesDown, (n) => new Float64Array(n));
    this.generation = copy(this.generation, (n) => new Uint32Array(n));
    this.newer = copy(this.newer, (n) => new Int32Array(n));
    this.older = copy(this.older, (n) => new Int32Array(n));
    const free = new Int32Array(capacity);
    free.set(this.freeSlots.subarray(0, this.freeCount));
    // New slots are handed out lowest first.
    for (let slot = capacity - 1; slot >= previous; slot--) free[this.freeCount++] = slot;
    this.freeSlots = free;
    this.capacity = capacity;
    // Keep the load factor at or under one half so probes stay short.
    let bucketCount = 1;
    while (bucketCount < capacity * 2) bucketCount *= 2;
    this.buckets = new Int32Array(bucketCount);
    this.bucketMask = bucketCount - 1;
    for (let slot = this.oldest; slot !== -1; slot = this.newer[slot]!) this.insertBucket(slot, this.hashSlot(slot));
  }
}
