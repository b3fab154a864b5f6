// Per-5-tuple totals, the common ground on which cumma's flow records and the tshark reference
// are compared. Cumma may split one 5-tuple into several flow records (a SYN after FIN/RST, idle
// timeouts) and may pick either end as client, so neither flow boundaries nor client/server
// roles are comparable; per unordered 5-tuple, per direction totals are.

import { canonicalIp, isRfc5952 } from './ip-format';

export type L4 = 'tcp' | 'udp';

export interface Endpoint {
  ip: string;
  port: number;
}

/** Counts split by direction: ab = from endpoint a to endpoint b. */
export interface DirectionCounts {
  ab: number;
  ba: number;
}

export interface TupleTotals {
  key: string;
  l4: L4;
  /** The lower endpoint in endpointOrder; fixed per tuple so both sides agree on "a". */
  a: Endpoint;
  b: Endpoint;
  packets: DirectionCounts;
  bytes: DirectionCounts;
  firstUs: number;
  lastUs: number;
  /** Frame numbers (1-based, as Wireshark shows them) when known: only the reference has them. */
  frames: number[];
}

export interface TupleAggregate {
  tuples: Map<string, TupleTotals>;
  /** Tuples neither side should be judged on (outer tuples of tunnelled traffic). */
  skipped: Set<string>;
}

export interface OrientedTuple {
  key: string;
  l4: L4;
  a: Endpoint;
  b: Endpoint;
  /** True when the packet/record's source is endpoint a. */
  forward: boolean;
}

// Any total order works as long as both sides use this one; the canonical IP text keeps it
// independent of how each tool spells the address.
function endpointOrder(x: Endpoint, y: Endpoint): number {
  if (x.ip !== y.ip) return x.ip < y.ip ? -1 : 1;
  return x.port - y.port;
}

/** Key and orientation of a packet or record going from src to dst. */
export function orientTuple(l4: L4, src: Endpoint, dst: Endpoint): OrientedTuple {
  const s = normaliseEndpoint(src);
  const d = normaliseEndpoint(dst);
  const forward = endpointOrder(s, d) <= 0;
  const [a, b] = forward ? [s, d] : [d, s];
  return { key: `${l4} ${formatEndpoint(a)} ${formatEndpoint(b)}`, l4, a, b, forward };
}

function normaliseEndpoint(e: Endpoint): Endpoint {
  return { ip: canonicalIp(e.ip) ?? e.ip, port: e.port };
}

export function formatEndpoint(e: Endpoint): string {
  return e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

export function emptyAggregate(): TupleAggregate {
  return { tuples: new Map(), skipped: new Set() };
}

export interface Contribution {
  packets: number;
  bytes: number;
  firstUs: number;
  lastUs: number;
  frame?: number;
}

/** Adds packets going in the tuple's `forward` direction to the aggregate. */
export function addToAggregate(agg: TupleAggregate, tuple: OrientedTuple, c: Contribution): void {
  const totals = agg.tuples.get(tuple.key) ?? newTotals(tuple, c);
  agg.tuples.set(tuple.key, totals);
  const dir = tuple.forward ? 'ab' : 'ba';
  totals.packets[dir] += c.packets;
  totals.bytes[dir] += c.bytes;
  totals.firstUs = Math.min(totals.firstUs, c.firstUs);
  totals.lastUs = Math.max(totals.lastUs, c.lastUs);
  if (c.frame !== undefined) totals.frames.push(c.frame);
}

function newTotals(t: OrientedTuple, c: Contribution): TupleTotals {
  return {
    key: t.key,
    l4: t.l4,
    a: t.a,
    b: t.b,
    packets: { ab: 0, ba: 0 },
    bytes: { ab: 0, ba: 0 },
    firstUs: c.firstUs,
    lastUs: c.lastUs,
    frames: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Cumma's side: `cumma flows FILE --format jsonl`

export interface CummaFlow {
  l4: L4;
  client: Endpoint;
  server: Endpoint;
  firstUs: number;
  lastUs: number;
  packets: { up: number; down: number };
  bytes: { up: number; down: number };
}

export interface CummaAggregate extends TupleAggregate {
  flowRecords: number;
  /** Contract violations found while reading (bad lines, non-RFC 5952 addresses, ...). */
  problems: string[];
}

/** Aggregates cumma's jsonl output per unordered 5-tuple, noting contract violations. */
export function aggregateCummaJsonl(text: string): CummaAggregate {
  const agg: CummaAggregate = { ...emptyAggregate(), flowRecords: 0, problems: [] };
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const parsed = parseCummaFlowLine(line);
    if (typeof parsed === 'string') {
      agg.problems.push(`line ${index + 1}: ${parsed}`);
      continue;
    }
    agg.flowRecords++;
    agg.problems.push(...addressProblems(parsed, index + 1));
    addCummaFlow(agg, parsed);
  }
  return agg;
}

function addCummaFlow(agg: TupleAggregate, flow: CummaFlow): void {
  const tuple = orientTuple(flow.l4, flow.client, flow.server);
  const reverse = { ...tuple, forward: !tuple.forward };
  const times = { firstUs: flow.firstUs, lastUs: flow.lastUs };
  addToAggregate(agg, tuple, { packets: flow.packets.up, bytes: flow.bytes.up, ...times });
  addToAggregate(agg, reverse, { packets: flow.packets.down, bytes: flow.bytes.down, ...times });
}

function addressProblems(flow: CummaFlow, line: number): string[] {
  return [flow.client.ip, flow.server.ip]
    .filter((ip) => !isRfc5952(ip))
    .map((ip) => `line ${line}: address "${ip}" is not in RFC 5952 form`);
}

/** Validates one jsonl line against the flow-record contract; a string is the complaint. */
export function parseCummaFlowLine(line: string): CummaFlow | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return `not JSON: ${line.slice(0, 80)}`;
  }
  if (!isRecord(value)) return 'not a JSON object';
  const { l4, client, server, firstUs, lastUs, packets, bytes } = value;
  if (l4 !== 'tcp' && l4 !== 'udp') return `bad l4 ${JSON.stringify(l4)}`;
  if (!isEndpoint(client) || !isEndpoint(server)) return 'bad client/server endpoint';
  if (!isCount(firstUs) || !isCount(lastUs) || lastUs < firstUs) return 'bad firstUs/lastUs';
  if (!isUpDown(packets) || !isUpDown(bytes)) return 'bad packets/bytes';
  return { l4, client, server, firstUs, lastUs, packets, bytes };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isEndpoint(v: unknown): v is Endpoint {
  if (!isRecord(v)) return false;
  return typeof v.ip === 'string' && isCount(v.port) && v.port <= 65535;
}

function isUpDown(v: unknown): v is { up: number; down: number } {
  return isRecord(v) && isCount(v.up) && isCount(v.down);
}

// ---------------------------------------------------------------------------------------------
// Comparison

export interface TupleDifference {
  key: string;
  /** Human-readable lines, e.g. "packets a→b: tshark 10, cumma 9". */
  details: string[];
  reference: TupleTotals;
  cumma: TupleTotals;
}

export interface Comparison {
  agreeing: string[];
  disagreeing: TupleDifference[];
  /** In the reference, not in cumma's output. */
  missing: TupleTotals[];
  /** In cumma's output, not in the reference. */
  extra: TupleTotals[];
  /** Tuples left out of the comparison (tunnel outer tuples, from either side's list). */
  skipped: string[];
}

export interface CompareOptions {
  /**
   * Also compare first/last packet times. The reference truncates nanoseconds to µs and cumma
   * may round instead, so times within timeToleranceUs agree.
   */
  compareTimes: boolean;
  timeToleranceUs: number;
}

const DEFAULT_COMPARE: CompareOptions = { compareTimes: true, timeToleranceUs: 1 };

export function compareAggregates(
  reference: TupleAggregate,
  cumma: TupleAggregate,
  options: Partial<CompareOptions> = {},
): Comparison {
  const opts = { ...DEFAULT_COMPARE, ...options };
  const skipped = new Set([...reference.skipped, ...cumma.skipped]);
  const result: Comparison = { agreeing: [], disagreeing: [], missing: [], extra: [], skipped: [] };
  result.skipped = [...skipped].sort();
  for (const [key, ref] of reference.tuples) {
    if (skipped.has(key)) continue;
    const mine = cumma.tuples.get(key);
    if (!mine) {
      result.missing.push(ref);
      continue;
    }
    const details = describeDifferences(ref, mine, opts);
    if (details.length === 0) result.agreeing.push(key);
    else result.disagreeing.push({ key, details, reference: ref, cumma: mine });
  }
  for (const [key, mine] of cumma.tuples) {
    if (!skipped.has(key) && !reference.tuples.has(key)) result.extra.push(mine);
  }
  return result;
}

function describeDifferences(ref: TupleTotals, mine: TupleTotals, opts: CompareOptions): string[] {
  const out: string[] = [];
  const check = (what: string, r: number, c: number, tolerance = 0): void => {
    if (Math.abs(r - c) > tolerance) out.push(`${what}: tshark ${r}, cumma ${c}`);
  };
  check('packets a→b', ref.packets.ab, mine.packets.ab);
  check('packets b→a', ref.packets.ba, mine.packets.ba);
  check('bytes a→b', ref.bytes.ab, mine.bytes.ab);
  check('bytes b→a', ref.bytes.ba, mine.bytes.ba);
  if (opts.compareTimes) {
    check('firstUs', ref.firstUs, mine.firstUs, opts.timeToleranceUs);
    check('lastUs', ref.lastUs, mine.lastUs, opts.timeToleranceUs);
  }
  return out;
}

/** Total number of tuples judged (agreeing + disagreeing + missing + extra). */
export function comparedCount(c: Comparison): number {
  return c.agreeing.length + c.disagreeing.length + c.missing.length + c.extra.length;
}

export function describeTotals(t: TupleTotals): string {
  const frames = t.frames.length > 0 ? ` frames ${summariseFrames(t.frames)}` : '';
  return (
    `${t.key}: a→b ${t.packets.ab} pkts/${t.bytes.ab} B, b→a ${t.packets.ba} pkts/${t.bytes.ba} B,` +
    ` ${t.firstUs}..${t.lastUs} µs${frames}`
  );
}

/** "1,4,7,...,(120 frames)" — enough to find the packets in Wireshark without flooding logs. */
export function summariseFrames(frames: readonly number[], max = 12): string {
  const head = frames.slice(0, max).join(',');
  return frames.length > max ? `${head},… (${frames.length} frames)` : head;
}
