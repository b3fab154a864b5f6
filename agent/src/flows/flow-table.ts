/**
 * Bidirectional 5-tuple flow table. Packets of both directions map to one flow through a
 * canonical key (the smaller endpoint first). Flows live in fixed-size records of one buffer, indexed by
 * slot, found through an open-addressing hash index, and chained in a least-recently-used
 * list: the idle end of that list expires first and is evicted when the table is full, so
 * memory stays bounded by `maxFlows` whatever the capture's size. Nothing is allocated per
 * packet; a FlowRecord object is made only when a flow is emitted.
 *
 * When a flow ends, with captures whose timestamps are not monotonic (several interfaces, files
 * joined with `mergecap -a`, a clock that was stepped, one corrupt timestamp):
 * - The client is the sender of the flow's first packet in file order (the SYN sender when a
 *   handshake is seen), whatever the timestamps say.
 * - A flow ends when its own next packet comes more than the idle timeout after its latest one
 *   (its own gap, on its own timestamps), or when the capture's clock has moved more than the
 *   idle timeout past the flow's last activity.
 * - The capture's clock is the latest time two consecutive packets have both reached: a lone
 *   packet stamped ahead (a corrupt timestamp a year on, one block another interface wrote
 *   early) moves it no further than its neighbour, so it expires nothing. A run of two or more
 *   packets does move it, and flows idle on that clock end, as in any idle-timeout meter.
 * - A flow's last activity is the later of its latest packet's timestamp and the capture's clock
 *   when that packet was read (the arrival clock). Time going backwards (the second file of a
 *   `mergecap -a` covering the same hours) therefore never ends a flow early: its packets count
 *   as active "now", and only their own gaps can split them.
 * For monotonic captures all this is the plain rule (a gap longer than the timeout ends a flow);
 * the clock lags one packet behind, which only delays when an idle flow is printed.
 */
import { DecodeStatus, Packet, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, Transport } from '../capture/packet';
import { FragmentIndex } from './fragment-index';
import { FlowRecord } from './flow-record';
import { formatIpv4, formatIpv6 } from './ip-address';

export interface FlowTableOptions {
  /** A flow with no packet for this long ends (µs). Default 300 s: longer than messaging keep-alives. */
  readonly idleTimeoutUs?: number;
  /**
   * At most this many flows are held; the first in the recency order is emitted to make room:
   * the least recently active to within recencyResolutionUs (exactly with 0).
   */
  readonly maxFlows?: number;
  /** Slots allocated up front; the table doubles from there up to maxFlows. */
  readonly initialCapacity?: number;
  /**
   * How finely the recency order follows activity (µs): a flow moves to the young end when its
   * last activity has advanced this much since its previous move, not on every packet. Default:
   * 1/256 of the idle timeout, at most 1 s. 0 = exact LRU.
   */
  readonly recencyResolutionUs?: number;
}

export const DEFAULT_IDLE_TIMEOUT_US = 300_000_000;
export const DEFAULT_MAX_FLOWS = 500_000;
/** Small to start: the table doubles as flows arrive, and small arrays stay in cache. */
const INITIAL_CAPACITY = 1024;

// Per-slot layout: one 128-byte record per flow, two cache lines, in a single buffer seen as
// 32-bit words and as doubles. A packet reads its flow's key and state in the first line and
// updates its counters in the second; separate arrays per field cost a cache miss each, and
// with tens of thousands of flows those misses were most of the table's time.
const SLOT_WORDS = 32;
const SLOT_REALS = SLOT_WORDS / 2;
/** Words 0–9, the key: address A (4 words), address B (4 words), ports A<<16|B, version<<8|protocol. */
const KEY_PORTS = 8;
const KEY_META = 9;
/** Words 10–14: state bits, generation, flow id, newer and older in the recency list. */
const STATE = 10;
const GENERATION = 11;
const FLOW_ID = 12;
const NEWER = 13;
const OLDER = 14;
/**
 * Doubles 8–15 (the second cache line): first µs, last µs, packets up/down, bytes up/down, last
 * activity (the later of a packet's time and the capture clock when it was read) and the last
 * activity when the flow last moved in the recency list.
 */
const FIRST = 8;
const LAST = 9;
const PACKETS_UP = 10;
const PACKETS_DOWN = 11;
const BYTES_UP = 12;
const BYTES_DOWN = 13;
const ACTIVE = 14;
const LISTED = 15;

/** Indices into the clock array: the capture's clock and the previous packet's timestamp. */
const NOW = 0;
const PREVIOUS = 1;

const STATE_CLIENT_IS_A = 1;
const STATE_SYN_SEEN = 2;
const STATE_CLOSED = 4;

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
  /**
   * Id of the flow of the packet last given to add() (-1 when none): unique for the table's
   * life, unlike slots, which are reused once a flow ends.
   */
  lastFlowId = -1;
  private nextFlowId = 0;

  private readonly idleTimeoutUs: number;
  private readonly touchIntervalUs: number;
  private readonly maxFlows: number;
  private capacity = 0;
  private count = 0;
  /**
   * [NOW] the capture's clock for idle expiry: the latest time two consecutive packets have both
   * reached (see the file comment); [PREVIOUS] the previous packet's timestamp. In a typed array
   * because a double stored in a plain field may be re-boxed on every packet.
   */
  private readonly clock = Float64Array.of(-Infinity, -Infinity);

  /** The slot records as 32-bit words (key, state, links)… */
  private words = new Int32Array(0);
  /** …and the same bytes as doubles (times and counters). */
  private reals = new Float64Array(0);
  private freeSlots = new Int32Array(0);
  private freeCount = 0;
  private newest = -1;
  private oldest = -1;

  // Hash index: slot + 1 per bucket, 0 = empty; linear probing.
  private buckets = new Int32Array(0);
  private bucketMask = 0;

  private readonly fragments = new FragmentIndex();

  constructor(
    /** Called once per flow when it ends, with the id add() reported for its packets. */
    private readonly onFlow: (flow: FlowRecord, flowId: number) => void,
    options: FlowTableOptions = {},
  ) {
    this.idleTimeoutUs = options.idleTimeoutUs ?? DEFAULT_IDLE_TIMEOUT_US;
    this.maxFlows = Math.max(1, options.maxFlows ?? DEFAULT_MAX_FLOWS);
    this.touchIntervalUs = options.recencyResolutionUs ?? Math.min(1_000_000, this.idleTimeoutUs / 256);
    if (!(this.idleTimeoutUs > 0)) throw new RangeError(`idle timeout must be positive, got ${this.idleTimeoutUs} µs`);
    this.grow(Math.max(1, Math.min(options.initialCapacity ?? INITIAL_CAPACITY, this.maxFlows)));
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
    this.lastFlowId = -1;
    const time = packet.timestampUs;
    const clock = this.clock;
    const previous = clock[PREVIOUS]!;
    clock[PREVIOUS] = time;
    // Both this packet and the one before it have reached the earlier of their two times.
    const reached = time < previous ? time : previous;
    let now = clock[NOW]!;
    if (reached > now) {
      clock[NOW] = now = reached;
      // Checked here so that the common case (nothing to expire) costs no call. A head stamped
      // ahead of the clock is moved out of the way there, so it cannot hold expiry up.
      const oldest = this.oldest;
      if (oldest !== -1) {
        const active = this.reals[oldest * SLOT_REALS + ACTIVE]!;
        if (active < reached - this.idleTimeoutUs || active > reached) this.expireIdle();
      }
    }
    switch (packet.status) {
      case DecodeStatus.Transport:
        break;
      case DecodeStatus.Fragment:
        return this.addFragment(packet, now);
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
    let links = this.words;
    if (slot !== NO_FLOW && pureSyn && (links[slot * SLOT_WORDS + STATE]! & STATE_CLOSED) !== 0) {
      // A new connection reusing the 5-tuple of one that was closed.
      this.emit(slot);
      slot = NO_FLOW;
    } else if (slot !== NO_FLOW && this.hasEnded(slot, time, now)) {
      // Its own gap is longer than the timeout (time went backwards, so the clock did not see
      // it), or the clock passed it while expireIdle(), which stops at the first live flow of
      // the recency list, had not reached it yet: either way the flow ended before this packet.
      this.emit(slot);
      slot = NO_FLOW;
    }
    if (slot === NO_FLOW) {
      slot = this.create(packet, fromA);
      // create() may have grown the table into new arrays.
      links = this.words;
      // A SYN-ACK seen first was sent by the server.
      const synAck = (flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK);
      if (fromA !== synAck) links[slot * SLOT_WORDS + STATE]! |= STATE_CLIENT_IS_A;
    } else if (pureSyn && (links[slot * SLOT_WORDS + STATE]! & STATE_SYN_SEEN) === 0) {
      // The capture began mid-connection and the handshake shows up only now: the SYN
      // sender is the client, whoever sent first.
      this.orientClient(slot, fromA);
    }
    if (pureSyn) links[slot * SLOT_WORDS + STATE]! |= STATE_SYN_SEEN;
    if ((flags & (TCP_FIN | TCP_RST)) !== 0) links[slot * SLOT_WORDS + STATE]! |= STATE_CLOSED;
    this.account(slot, packet, fromA, now);
    if (packet.isFirstFragment) this.fragments.remember(packet, slot, links[slot * SLOT_WORDS + GENERATION]!, fromA);
    return slot;
  }

  /** Emits every flow still held, oldest first packet first, and empties the table. */
  flush(): void {
    const slots: number[] = [];
    for (let slot = this.oldest; slot !== -1; slot = this.words[slot * SLOT_WORDS + NEWER]!) slots.push(slot);
    const counters = this.reals;
    slots.sort((left, right) => counters[left * SLOT_REALS + FIRST]! - counters[right * SLOT_REALS + FIRST]! || left - right);
    // Everything goes: clear the index once instead of deleting slot by slot.
    this.buckets.fill(0);
    this.newest = this.oldest = -1;
    this.freeCount = 0;
    for (let slot = this.capacity - 1; slot >= 0; slot--) this.freeSlots[this.freeCount++] = slot;
    this.count = 0;
    for (const slot of slots) {
      this.stats.flowsEmitted++;
      this.onFlow(this.record(slot), this.words[slot * SLOT_WORDS + FLOW_ID]!);
      this.words[slot * SLOT_WORDS + KEY_META] = 0;
    }
    this.fragments.clear();
  }

  private addFragment(packet: Packet, now: number): number {
    const fragments = this.fragments;
    const slot = fragments.lookup(packet);
    if (slot === NO_FLOW || this.words[slot * SLOT_WORDS + GENERATION] !== fragments.lastGeneration || !this.isLive(slot)) {
      this.stats.fragmentsUnattributed++;
      return NO_FLOW;
    }
    if (this.hasEnded(slot, packet.timestampUs, now)) {
      // The same rules as for a packet with ports: its flow is over, and without ports the
      // fragment cannot start the next one.
      this.emit(slot);
      this.stats.fragmentsUnattributed++;
      return NO_FLOW;
    }
    this.stats.fragmentsAttributed++;
    // The direction of the first fragment, which came from the same source: with ports missing,
    // the canonical order cannot tell two endpoints on one address apart.
    this.account(slot, packet, fragments.lastFromA, now);
    return slot;
  }

  /** Whether a flow ended before a packet at `time`, the clock being `now` (see the file comment). */
  private hasEnded(slot: number, time: number, now: number): boolean {
    const base = slot * SLOT_REALS;
    const counters = this.reals;
    return time - counters[base + LAST]! > this.idleTimeoutUs || now - counters[base + ACTIVE]! > this.idleTimeoutUs;
  }

  private isLive(slot: number): boolean {
    return this.words[slot * SLOT_WORDS + KEY_META] !== 0;
  }

  /** Counts a packet in its flow; `now` is the capture's clock (see the file comment). */
  private account(slot: number, packet: Packet, fromA: boolean, now: number): void {
    const link = slot * SLOT_WORDS;
    const up = fromA === ((this.words[link + STATE]! & STATE_CLIENT_IS_A) !== 0);
    this.lastPacketUp = up;
    this.lastFlowId = this.words[link + FLOW_ID]!;
    const counters = this.reals;
    const base = slot * SLOT_REALS;
    counters[base + (up ? PACKETS_UP : PACKETS_DOWN)]!++;
    counters[base + (up ? BYTES_UP : BYTES_DOWN)]! += packet.originalLength;
    const time = packet.timestampUs;
    if (time < counters[base + FIRST]!) counters[base + FIRST] = time;
    if (time > counters[base + LAST]!) counters[base + LAST] = time;
    this.stats.flowPackets++;
    const active = time > now ? time : now;
    if (active > counters[base + ACTIVE]!) counters[base + ACTIVE] = active;
    // Moving a flow to the young end of the recency list costs cache misses on its neighbours;
    // doing it only when its activity has advanced a touch interval since its last move keeps
    // the list ordered to within that interval, which only delays idle expiry (and makes
    // eviction pick among the flows idle longest) by as much; hasEnded() in add() keeps flows
    // exact.
    if (active - counters[base + LISTED]! >= this.touchIntervalUs) this.touch(slot);
  }

  private orientClient(slot: number, synFromA: boolean): void {
    const at = slot * SLOT_WORDS + STATE;
    if (((this.words[at]! & STATE_CLIENT_IS_A) !== 0) === synFromA) return;
    this.words[at]! ^= STATE_CLIENT_IS_A;
    const counters = this.reals;
    const base = slot * SLOT_REALS;
    const packetsUp = counters[base + PACKETS_UP]!;
    const bytesUp = counters[base + BYTES_UP]!;
    counters[base + PACKETS_UP] = counters[base + PACKETS_DOWN]!;
    counters[base + BYTES_UP] = counters[base + BYTES_DOWN]!;
    counters[base + PACKETS_DOWN] = packetsUp;
    counters[base + BYTES_DOWN] = bytesUp;
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

  /**
   * Mixes the canonical key. Signed 32-bit on purpose: it stays a small integer, where an
   * unsigned one above 2^31 would be boxed as a heap number on every call that is not inlined.
   */
  private static mix(meta: number, ports: number, a0: number, b0: number, a1: number, b1: number, a2: number, b2: number, a3: number, b3: number): number {
    let h = Math.imul(meta ^ ports, 0x9e3779b1);
    h = Math.imul(h ^ a0, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13) ^ b0, 0xc2b2ae35);
    if ((meta >> 8) === 6) {
      h = Math.imul(h ^ a1 ^ (b1 << 7), 0x85ebca6b);
      h = Math.imul(h ^ (h >>> 13) ^ a2 ^ (b2 << 11), 0xc2b2ae35);
      h = Math.imul(h ^ a3 ^ (b3 << 3), 0x85ebca6b);
    }
    return h ^ (h >>> 16);
  }

  private hash(packet: Packet, fromA: boolean): number {
    const a = fromA ? packet.srcAddress : packet.dstAddress;
    const b = fromA ? packet.dstAddress : packet.srcAddress;
    return FlowTable.mix(metaOf(packet), portsOf(packet, fromA), a[0]! | 0, b[0]! | 0, a[1]! | 0, b[1]! | 0, a[2]! | 0, b[2]! | 0, a[3]! | 0, b[3]! | 0);
  }

  private hashSlot(slot: number): number {
    const keys = this.words;
    const base = slot * SLOT_WORDS;
    return FlowTable.mix(keys[base + KEY_META]!, keys[base + KEY_PORTS]!, keys[base]!, keys[base + 4]!, keys[base + 1]!, keys[base + 5]!, keys[base + 2]!, keys[base + 6]!, keys[base + 3]!, keys[base + 7]!);
  }

  private matches(slot: number, packet: Packet, fromA: boolean): boolean {
    const keys = this.words;
    const base = slot * SLOT_WORDS;
    if (keys[base + KEY_META] !== metaOf(packet) || keys[base + KEY_PORTS] !== portsOf(packet, fromA)) return false;
    const a = fromA ? packet.srcAddress : packet.dstAddress;
    const b = fromA ? packet.dstAddress : packet.srcAddress;
    if (keys[base] !== (a[0]! | 0) || keys[base + 4] !== (b[0]! | 0)) return false;
    // IPv4 uses the first word only (the meta word above already matched the version).
    if (packet.ipVersion === 4) return true;
    for (let word = 1; word < 4; word++) {
      if (keys[base + word] !== (a[word]! | 0) || keys[base + 4 + word] !== (b[word]! | 0)) return false;
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
    const keys = this.words;
    const key = slot * SLOT_WORDS;
    for (let word = 0; word < 4; word++) {
      keys[key + word] = a[word]! | 0;
      keys[key + 4 + word] = b[word]! | 0;
    }
    keys[key + KEY_PORTS] = portsOf(packet, fromA);
    keys[key + KEY_META] = metaOf(packet);
    const counters = this.reals;
    const base = slot * SLOT_REALS;
    const time = packet.timestampUs;
    const now = this.clock[NOW]!;
    counters[base + FIRST] = counters[base + LAST] = time;
    counters[base + ACTIVE] = counters[base + LISTED] = time > now ? time : now;
    counters[base + PACKETS_UP] = counters[base + PACKETS_DOWN] = counters[base + BYTES_UP] = counters[base + BYTES_DOWN] = 0;
    const link = slot * SLOT_WORDS;
    this.words[link + STATE] = 0;
    this.words[link + GENERATION]!++;
    // Wraps after 2^31 flows; by then the ids of the first flows are long out of use.
    this.words[link + FLOW_ID] = this.nextFlowId;
    this.nextFlowId = (this.nextFlowId + 1) & 0x7fffffff;
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
    this.onFlow(this.record(slot), this.words[slot * SLOT_WORDS + FLOW_ID]!);
    this.stats.flowsEmitted++;
    this.removeBucket(slot);
    this.unlink(slot);
    this.words[slot * SLOT_WORDS + KEY_META] = 0;
    this.freeSlots[this.freeCount++] = slot;
    this.count--;
  }

  /**
   * Emits the flows at the idle end of the recency list whose last activity is more than the
   * timeout behind the clock, stopping at the first that is not. A flow whose last packet was
   * stamped ahead of the clock (a lone corrupt timestamp) is not idle, yet may sit at that end
   * for ever: it is moved to the young end instead (no more moves per call than there are
   * flows), so that it does not hold up the expiry of the flows behind it.
   */
  private expireIdle(): void {
    const now = this.clock[NOW]!;
    const horizon = now - this.idleTimeoutUs;
    const counters = this.reals;
    let moved = 0;
    for (let slot = this.oldest; slot !== -1; slot = this.oldest) {
      const active = counters[slot * SLOT_REALS + ACTIVE]!;
      if (active < horizon) {
        this.emit(slot);
      } else if (active > now && moved < this.count) {
        moved++;
        this.touch(slot);
      } else {
        return;
      }
    }
  }

  private record(slot: number): FlowRecord {
    const keys = this.words;
    const key = slot * SLOT_WORDS;
    const version = keys[key + KEY_META]! >> 8;
    const ports = keys[key + KEY_PORTS]!;
    const endpointA = { ip: formatAddress(keys, key, version), port: ports >>> 16 };
    const endpointB = { ip: formatAddress(keys, key + 4, version), port: ports & 0xffff };
    const clientIsA = (this.words[slot * SLOT_WORDS + STATE]! & STATE_CLIENT_IS_A) !== 0;
    const counters = this.reals;
    const base = slot * SLOT_REALS;
    return {
      l4: (keys[key + KEY_META]! & 0xff) === Transport.Tcp ? 'tcp' : 'udp',
      client: clientIsA ? endpointA : endpointB,
      server: clientIsA ? endpointB : endpointA,
      firstUs: counters[base + FIRST]!,
      lastUs: counters[base + LAST]!,
      packets: { up: counters[base + PACKETS_UP]!, down: counters[base + PACKETS_DOWN]! },
      bytes: { up: counters[base + BYTES_UP]!, down: counters[base + BYTES_DOWN]! },
    };
  }

  private linkNewest(slot: number): void {
    const links = this.words;
    const link = slot * SLOT_WORDS;
    links[link + OLDER] = this.newest;
    links[link + NEWER] = -1;
    if (this.newest !== -1) links[this.newest * SLOT_WORDS + NEWER] = slot;
    this.newest = slot;
    if (this.oldest === -1) this.oldest = slot;
  }

  private unlink(slot: number): void {
    const links = this.words;
    const older = links[slot * SLOT_WORDS + OLDER]!;
    const newer = links[slot * SLOT_WORDS + NEWER]!;
    if (older !== -1) links[older * SLOT_WORDS + NEWER] = newer;
    else this.oldest = newer;
    if (newer !== -1) links[newer * SLOT_WORDS + OLDER] = older;
    else this.newest = older;
  }

  private touch(slot: number): void {
    this.reals[slot * SLOT_REALS + LISTED] = this.reals[slot * SLOT_REALS + ACTIVE]!;
    if (this.newest === slot) return;
    this.unlink(slot);
    this.linkNewest(slot);
  }

  private grow(capacity: number): void {
    const previous = this.capacity;
    const records = new ArrayBuffer(capacity * SLOT_WORDS * 4);
    const words = new Int32Array(records);
    words.set(this.words);
    this.words = words;
    this.reals = new Float64Array(records);
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
    for (let slot = this.oldest; slot !== -1; slot = this.words[slot * SLOT_WORDS + NEWER]!) this.insertBucket(slot, this.hashSlot(slot));
  }
}

/** IP version and protocol in one word; never 0 for a live flow (version is 4 or 6). */
function metaOf(packet: Packet): number {
  return (packet.ipVersion << 8) | packet.ipProtocol;
}

function portsOf(packet: Packet, fromA: boolean): number {
  return fromA ? (packet.srcPort << 16) | packet.dstPort : (packet.dstPort << 16) | packet.srcPort;
}

function formatAddress(keys: Int32Array, at: number, version: number): string {
  if (version === 4) return formatIpv4(keys[at]! >>> 0);
  return formatIpv6([keys[at]! >>> 0, keys[at + 1]! >>> 0, keys[at + 2]! >>> 0, keys[at + 3]! >>> 0]);
}
