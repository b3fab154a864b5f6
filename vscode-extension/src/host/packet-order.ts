/**
 * The capture editor's sort, applied in the extension host to the typed columns it holds
 * (capture-index.ts) and the usage code per packet (label-match.ts). Pure: typed arrays in, a
 * permutation of packet indices out; the tests call it with hand-made columns.
 *
 * Each column gives every packet an integer key (below 2^53) in the column's order, or none
 * (no address, no label): those packets go last whichever way the list sorts, in file order.
 * The keyed packets are then ordered by an LSD radix sort (16 bits a pass, passes where every
 * key has the same digit skipped), which is stable — ties keep file order, both ways — and
 * costs a few linear passes with no object and no comparator call per packet: a million packets
 * sort in tens of milliseconds (README). Descending sorts invert the keys rather than reversing
 * the result, so that ties stay in file order there too.
 */
import { parseIpv4, parseIpv6 } from '../../../agent/src/anonymize/anonymizer';
import { PacketSort, inFileOrder } from '../shared/packet-sort';
import { NO_USAGE } from '../shared/usage-style';
import { CaptureIndexData, transportName } from './capture-index';

/** What the sort reads of a capture's index. */
export type SortColumns = Pick<CaptureIndexData, 'packets' | 'timeUs' | 'src' | 'dst' | 'srcPort' | 'dstPort' | 'kind' | 'ipProtocol' | 'length' | 'addresses'>;

/** A packet with nothing to sort by in a column (no address, no label). */
const MISSING = -1;
const TWO_POW_32 = 4294967296;

/**
 * `subset` (packet indices in file order; undefined: every packet) in the order `sort` asks
 * for. Undefined when that is every packet in file order, which needs no array at all.
 */
export function sortPackets(columns: SortColumns, usage: Uint8Array | undefined, sort: PacketSort | undefined, subset?: Int32Array): Int32Array | undefined {
  if (sort === undefined || inFileOrder(sort)) return subset;
  const items = subset ?? everyPacket(columns.packets);
  if (sort.column === 'number') return items.slice().reverse();
  const keyOf = keyFunction(columns, usage, sort.column, items);
  return orderByKey(items, keyOf, sort.descending);
}

function everyPacket(packets: number): Int32Array {
  const items = new Int32Array(packets);
  for (let packet = 0; packet < packets; packet++) items[packet] = packet;
  return items;
}

/** The key of a packet in a column (not 'number', which needs none), or MISSING. */
function keyFunction(columns: SortColumns, usage: Uint8Array | undefined, column: Exclude<PacketSort['column'], 'number'>, items: Int32Array): (packet: number) => number {
  switch (column) {
    case 'time': {
      // Relative to the earliest packet sorted: µs since it fit 32 bits for 71 minutes.
      let origin = Infinity;
      for (const packet of items) if (columns.timeUs[packet]! < origin) origin = columns.timeUs[packet]!;
      return (packet) => Math.floor(columns.timeUs[packet]! - origin);
    }
    case 'source':
    case 'destination': {
      const ranks = addressRanks(columns.addresses);
      const [address, port] = column === 'source' ? [columns.src, columns.srcPort] : [columns.dst, columns.dstPort];
      // Ports are 0 where the packet has none (not TCP or UDP): such a packet sorts before the
      // same address with a port.
      return (packet) => (address[packet] === 0 ? MISSING : ranks[address[packet]!]! * 65536 + port[packet]!);
    }
    case 'transport': {
      const ranks = transportRanks();
      return (packet) => ranks[(columns.kind[packet]! << 8) | columns.ipProtocol[packet]!]!;
    }
    case 'length':
      return (packet) => columns.length[packet]!;
    case 'usage':
      // Codes are the usages' places in the label set (usage-style.ts): their order already.
      // Packets beyond the labels (a capture grown since) are unlabelled.
      return (packet) => {
        const code = usage !== undefined && packet < usage.length ? usage[packet]! : NO_USAGE;
        return code === NO_USAGE ? MISSING : code;
      };
  }
}

/** `items` ordered by key (stable), the packets with no key after them in their order. */
function orderByKey(items: Int32Array, keyOf: (packet: number) => number, descending: boolean): Int32Array {
  const count = items.length;
  const keyed = new Int32Array(count);
  const low = new Uint32Array(count);
  let high: Uint32Array | undefined;
  const missing: number[] = [];
  let n = 0;
  for (let at = 0; at < count; at++) {
    const packet = items[at]!;
    const key = keyOf(packet);
    if (key === MISSING) {
      missing.push(packet);
      continue;
    }
    keyed[n] = packet;
    // Inverted keys sort descending; ties keep their order as they do ascending.
    low[n] = descending ? ~key >>> 0 : key >>> 0;
    if (key >= TWO_POW_32) {
      high ??= new Uint32Array(count);
      high[n] = Math.floor(key / TWO_POW_32);
    }
    n++;
  }
  if (high && descending) for (let at = 0; at < n; at++) high[at] = ~high[at]! >>> 0;
  // Keys that all fit 32 bits need no high word: it would be the same for every packet.
  const sorted = radixSort(keyed.subarray(0, n), low.subarray(0, n), high?.subarray(0, n));
  if (missing.length === 0) return sorted;
  const result = new Int32Array(count);
  result.set(sorted);
  result.set(missing, n);
  return result;
}

/**
 * Stable LSD radix sort of `items` by their 64-bit keys (`high`, absent: 0, then `low`), 16
 * bits a pass. The keys move with the items, so every pass reads memory in sequence.
 */
function radixSort(items: Int32Array, low: Uint32Array, high?: Uint32Array): Int32Array {
  // Captures are mostly written in time order: then the time sort has nothing to move.
  if (inKeyOrder(low, high)) return items;
  const count = items.length;
  let order: Int32Array = items;
  let spare: Int32Array = new Int32Array(count);
  let lowKeys: Uint32Array = low;
  let lowSpare: Uint32Array = new Uint32Array(count);
  let highKeys: Uint32Array | undefined = high;
  let highSpare: Uint32Array | undefined = high ? new Uint32Array(count) : undefined;
  const buckets = new Int32Array(65536);
  const passes: readonly { readonly high: boolean; readonly shift: number }[] = [
    { high: false, shift: 0 },
    { high: false, shift: 16 },
    ...(high ? [{ high: true, shift: 0 }, { high: true, shift: 16 }] : []),
  ];
  for (const [index, pass] of passes.entries()) {
    const keys = pass.high ? highKeys! : lowKeys;
    const shift = pass.shift;
    buckets.fill(0);
    for (let at = 0; at < count; at++) buckets[(keys[at]! >>> shift) & 0xffff]!++;
    // Every key has the same digit here: this pass would move nothing.
    if (count === 0 || buckets[(keys[0]! >>> shift) & 0xffff] === count) continue;
    let sum = 0;
    for (let digit = 0; digit < 65536; digit++) {
      const size = buckets[digit]!;
      buckets[digit] = sum;
      sum += size;
    }
    // Only the words later passes read move with the items.
    const moveLow = index === 0;
    const moveHigh = highKeys !== undefined && index < passes.length - 1;
    for (let at = 0; at < count; at++) {
      const to = buckets[(keys[at]! >>> shift) & 0xffff]!++;
      spare[to] = order[at]!;
      if (moveLow) lowSpare[to] = lowKeys[at]!;
      if (moveHigh) highSpare![to] = highKeys![at]!;
    }
    [order, spare] = [spare, order];
    if (moveLow) [lowKeys, lowSpare] = [lowSpare, lowKeys];
    if (moveHigh) [highKeys, highSpare] = [highSpare!, highKeys!];
  }
  return order;
}

/** Whether the keys never decrease: the items are in order already. */
function inKeyOrder(low: Uint32Array, high: Uint32Array | undefined): boolean {
  for (let at = 1; at < low.length; at++) {
    const step = high ? high[at]! - high[at - 1]! : 0;
    if (step < 0 || (step === 0 && low[at]! < low[at - 1]!)) return false;
  }
  return true;
}

const addressRankCache = new WeakMap<readonly string[], Float64Array>();

/**
 * Each interned address's place in address order, as Wireshark sorts addresses: IPv4 before
 * IPv6, each by its value (not its text: 9.0.0.1 before 10.0.0.1). Index 0 is "" (no address).
 * Kept per address list: the index makes a new list only when a read adds addresses.
 */
function addressRanks(addresses: readonly string[]): Float64Array {
  const cached = addressRankCache.get(addresses);
  if (cached) return cached;
  const parsed = addresses.map(addressValue);
  const order = addresses.map((_, index) => index).sort((a, b) => compareAddressValues(parsed[a]!, parsed[b]!) || a - b);
  const ranks = new Float64Array(addresses.length);
  order.forEach((index, rank) => (ranks[index] = rank));
  addressRankCache.set(addresses, ranks);
  return ranks;
}

/** Version (4, 6; 7 for text that is neither, never made by the index) and 32-bit words. */
function addressValue(text: string): readonly number[] {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return [4, v4];
  const v6 = parseIpv6(text);
  return v6 ? [6, ...v6] : [7];
}

function compareAddressValues(a: readonly number[], b: readonly number[]): number {
  for (let at = 0; at < Math.min(a.length, b.length); at++) if (a[at] !== b[at]) return a[at]! - b[at]!;
  return a.length - b.length;
}

let transportRankTable: Uint16Array | undefined;

/**
 * Per (kind << 8 | IP protocol): the place of the transport column's text in the order of
 * those texts (ICMP, IP frag, TCP, UDP, …), as a text column sorts. Kinds and protocols are
 * few: one table for all captures.
 */
function transportRanks(): Uint16Array {
  if (transportRankTable) return transportRankTable;
  const names: string[] = [];
  for (let combined = 0; combined < 256 * 256; combined++) names.push(transportName(combined >> 8, combined & 0xff));
  const distinct = [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const rankOf = new Map(distinct.map((name, rank) => [name, rank]));
  transportRankTable = Uint16Array.from(names, (name) => rankOf.get(name)!);
  return transportRankTable;
}
