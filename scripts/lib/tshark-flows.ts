// Independent reference for cumma's flow accounting, computed with tshark.
//
// tshark decodes every packet; this module reduces its per-packet fields to the totals cumma's
// contract promises per unordered 5-tuple. The contract (see DESIGN.md and the flow-table
// brief) is modelled here on purpose, rule by rule, so that a disagreement points at one rule:
//   - only TCP/UDP directly inside the outermost IPv4/IPv6 header form flows;
//   - the outermost IP must be reached through a link layer cumma decodes;
//   - non-first fragments join the flow of the earlier first fragment with the same
//     (src, dst, protocol, id) seen at most FRAGMENT_MAX_AGE_US before, else no flow;
//   - ICMP errors (which quote an IP+TCP/UDP header) are not flow packets;
//   - tunnels are not decoded by cumma; their outer tuple is skipped on both sides because a
//     tshark heuristic may or may not have recognised the tunnel, which says nothing of cumma.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import {
  addToAggregate,
  emptyAggregate,
  orientTuple,
  type Contribution,
  type Endpoint,
  type L4,
  type OrientedTuple,
  type TupleAggregate,
} from './flow-tuples';

export * from './flow-tuples';

// Reassembly would merge fragments/segments into one frame and heuristics change which layers
// appear; the reference wants exactly one decoded layer stack per captured frame.
const TSHARK_PREFS = [
  'ip.defragment:FALSE',
  'ipv6.defragment:FALSE',
  'tcp.desegment_tcp_streams:FALSE',
  'tcp.try_heuristic_first:FALSE',
  'udp.try_heuristic_first:FALSE',
];

/** Field order of the `-T fields` output; parseTsharkLine relies on it. */
export const TSHARK_FIELDS = [
  'frame.number',
  'frame.len',
  'frame.time_epoch',
  'frame.protocols',
  'ip.src',
  'ip.dst',
  'ip.proto',
  'ip.id',
  'ip.frag_offset',
  'ip.flags.mf',
  'ipv6.src',
  'ipv6.dst',
  'ipv6.fraghdr.offset',
  'ipv6.fraghdr.more',
  'ipv6.fraghdr.ident',
  'tcp.srcport',
  'tcp.dstport',
  'udp.srcport',
  'udp.dstport',
] as const;

type FieldName = (typeof TSHARK_FIELDS)[number];
export type TsharkRow = Record<FieldName, string>;

export function tsharkArgs(file: string): string[] {
  const prefs = TSHARK_PREFS.flatMap((p) => ['-o', p]);
  const fields = TSHARK_FIELDS.flatMap((f) => ['-e', f]);
  // occurrence=f: the first occurrence of a field is the outermost layer's, which is the only
  // one cumma decodes; inner layers are recognised from frame.protocols instead.
  const format = ['-E', 'separator=/t', '-E', 'occurrence=f', '-E', 'quote=n', '-E', 'header=n'];
  return ['-n', '-r', file, ...prefs, '-T', 'fields', ...format, ...fields];
}

export function parseTsharkLine(line: string): TsharkRow {
  const values = line.split('\t');
  const row: Partial<TsharkRow> = {};
  TSHARK_FIELDS.forEach((name, i) => {
    row[name] = values[i] ?? '';
  });
  return row as TsharkRow;
}

// ---------------------------------------------------------------------------------------------
// Per-packet classification

/** Layers tshark shows between the frame and the outermost IP for link types cumma decodes. */
// PPPoE sessions, MPLS label stacks and 802.3 LLC/SNAP are decoded by cumma too (link-layer.ts);
// PPP only inside PPPoE, not as a link type of its own.
const LINK_LAYERS = new Set(['eth', 'ethertype', 'vlan', 'ieee8021ad', 'sll', 'null', 'raw', 'pppoes', 'mpls', 'llc']);
const IP_LAYERS = new Set(['ip', 'ipv6']);

export type PacketVerdict =
  | { kind: 'flow'; l4: L4; src: Endpoint; dst: Endpoint; firstFragmentKey?: string }
  | { kind: 'fragment'; fragmentKey: string }
  | { kind: 'tunnel'; outer?: { l4: L4; src: Endpoint; dst: Endpoint }; layers: string }
  | { kind: 'icmp'; quotes: boolean }
  | { kind: 'none'; reason: string };

interface OuterIp {
  version: 4 | 6;
  src: string;
  dst: string;
  /** Token following the IP header and its IPv6 extension headers, e.g. 'tcp', 'data'. */
  next: string;
  ipLayerCount: number;
  fragment: 'none' | 'first' | 'later';
  fragmentKey: string;
}

export function classifyPacket(row: TsharkRow): PacketVerdict {
  const layers = row['frame.protocols'].split(':');
  const ipIndex = layers.findIndex((l) => IP_LAYERS.has(l));
  if (ipIndex < 0) return { kind: 'none', reason: 'no IP layer' };
  const link = layers.slice(0, ipIndex).filter((l, i, path) => !LINK_LAYERS.has(l) && !(l === 'ppp' && path[i - 1] === 'pppoes'));
  if (link.length > 0) return { kind: 'none', reason: `link path not decoded by cumma: ${link.join(':')}` };
  const ip = outerIp(row, layers, ipIndex);
  if (ip.fragment === 'later') return { kind: 'fragment', fragmentKey: ip.fragmentKey };
  return classifyTransport(row, ip, row['frame.protocols']);
}

function classifyTransport(row: TsharkRow, ip: OuterIp, layers: string): PacketVerdict {
  const tunnelled = ip.ipLayerCount > 1;
  if (ip.next === 'icmp' || ip.next === 'icmpv6') return { kind: 'icmp', quotes: tunnelled };
  if (ip.next !== 'tcp' && ip.next !== 'udp') {
    return tunnelled ? { kind: 'tunnel', layers } : { kind: 'none', reason: `not TCP/UDP: ${ip.next}` };
  }
  const ports = transportPorts(row, ip.next);
  if (!ports) return { kind: 'none', reason: `${ip.next} without ports` };
  const src = { ip: ip.src, port: ports[0] };
  const dst = { ip: ip.dst, port: ports[1] };
  if (tunnelled) return { kind: 'tunnel', outer: { l4: ip.next, src, dst }, layers };
  const verdict: PacketVerdict = { kind: 'flow', l4: ip.next, src, dst };
  if (ip.fragment === 'first') verdict.firstFragmentKey = ip.fragmentKey;
  return verdict;
}

function outerIp(row: TsharkRow, layers: string[], ipIndex: number): OuterIp {
  let next = ipIndex + 1;
  if (layers[ipIndex] === 'ipv6') {
    while (isIpv6ExtensionLayer(layers[next])) next++;
  }
  const common = {
    next: layers[next] ?? '',
    ipLayerCount: layers.filter((l) => IP_LAYERS.has(l)).length,
  };
  if (layers[ipIndex] === 'ip') return { ...common, ...ipv4Header(row) };
  const hasFragmentHeader = layers.slice(ipIndex + 1, next).includes('ipv6.fraghdr');
  return { ...common, ...ipv6Header(row, hasFragmentHeader) };
}

// tshark names IPv6 extension headers 'ipv6.hopopts', 'ipv6.routing', 'ipv6.fraghdr', ...
// AH is an IPv6 extension header too (RFC 8200 §4) and cumma steps over it, but only in IPv6:
// after an IPv4 header AH is the transport protocol, so IPv4+AH+TCP forms no flow.
function isIpv6ExtensionLayer(layer: string | undefined): boolean {
  return layer !== undefined && (layer.startsWith('ipv6.') || layer === 'ah');
}

function ipv4Header(row: TsharkRow): Omit<OuterIp, 'next' | 'ipLayerCount'> {
  const src = row['ip.src'];
  const dst = row['ip.dst'];
  const offset = Number(row['ip.frag_offset'] || '0');
  const more = row['ip.flags.mf'] === '1' || row['ip.flags.mf'] === 'True';
  const fragment = offset > 0 ? 'later' : more ? 'first' : 'none';
  const id = Number(row['ip.id']);
  return { version: 4, src, dst, fragment, fragmentKey: `4 ${src} ${dst} ${row['ip.proto']} ${id}` };
}

// IPv6 fragments are attributed like IPv4 ones, keyed by addresses and the fragment header's
// identification (not its next header: with AH or destination options in the fragmentable part
// that names them, not the transport; RFC 8200 reassembles by addresses and identification).
function ipv6Header(row: TsharkRow, hasFragmentHeader: boolean): Omit<OuterIp, 'next' | 'ipLayerCount'> {
  const src = row['ipv6.src'];
  const dst = row['ipv6.dst'];
  const base = { version: 6 as const, src, dst };
  if (!hasFragmentHeader) return { ...base, fragment: 'none', fragmentKey: '' };
  const offset = Number(row['ipv6.fraghdr.offset'] || '0');
  const more = row['ipv6.fraghdr.more'] === '1' || row['ipv6.fraghdr.more'] === 'True';
  const id = Number(row['ipv6.fraghdr.ident']);
  const fragmentKey = `6 ${src} ${dst} ${id}`;
  // An atomic fragment (offset 0, M=0, RFC 6946) is a whole datagram: nothing can follow it.
  const fragment = offset > 0 ? 'later' : more ? 'first' : 'none';
  return { ...base, fragment, fragmentKey };
}

function transportPorts(row: TsharkRow, l4: L4): [number, number] | undefined {
  const src = row[`${l4}.srcport`];
  const dst = row[`${l4}.dstport`];
  if (src === '' || dst === '') return undefined;
  return [Number(src), Number(dst)];
}

// ---------------------------------------------------------------------------------------------
// Aggregation

export interface ReferenceStats {
  frames: number;
  flowPackets: number;
  fragmentsAttributed: number;
  fragmentsUnattributed: number;
  icmp: number;
  tunnelled: number;
  /** Why the remaining packets are in no flow, with counts. */
  notInFlow: Map<string, number>;
}

export interface ReferenceAggregate extends TupleAggregate {
  stats: ReferenceStats;
}

/**
 * How long after its first fragment a later fragment is still attributed: cumma's rule (its
 * FragmentIndex, after Linux's 30 s reassembly timeout), since IPv4 ids wrap on busy hosts.
 * Strictly older than this: no flow. Measured on capture time, so a later fragment stamped
 * before its first fragment (non-monotonic capture) is still attributed.
 */
export const FRAGMENT_MAX_AGE_US = 30_000_000;

interface FirstFragment {
  tuple: OrientedTuple;
  timeUs: number;
}

/** Folds tshark rows, in file order, into per-tuple totals (fragment attribution needs order). */
export class ReferenceBuilder {
  private readonly agg: ReferenceAggregate = { ...emptyAggregate(), stats: emptyStats() };
  // First-fragment key → the tuple its later fragments belong to (the latest first fragment wins).
  private readonly firstFragments = new Map<string, FirstFragment>();

  add(row: TsharkRow): void {
    const stats = this.agg.stats;
    stats.frames++;
    const verdict = classifyPacket(row);
    switch (verdict.kind) {
      case 'flow':
        return this.addFlowPacket(row, verdict);
      case 'fragment':
        return this.addLaterFragment(row, verdict.fragmentKey);
      case 'tunnel':
        stats.tunnelled++;
        if (verdict.outer) this.agg.skipped.add(orientTuple(verdict.outer.l4, verdict.outer.src, verdict.outer.dst).key);
        return;
      case 'icmp':
        stats.icmp++;
        return;
      case 'none':
        stats.notInFlow.set(verdict.reason, (stats.notInFlow.get(verdict.reason) ?? 0) + 1);
        return;
    }
  }

  result(): ReferenceAggregate {
    return this.agg;
  }

  private addFlowPacket(row: TsharkRow, v: Extract<PacketVerdict, { kind: 'flow' }>): void {
    const tuple = orientTuple(v.l4, v.src, v.dst);
    const c = contribution(row);
    if (v.firstFragmentKey !== undefined) this.firstFragments.set(v.firstFragmentKey, { tuple, timeUs: c.firstUs });
    this.agg.stats.flowPackets++;
    addToAggregate(this.agg, tuple, c);
  }

  private addLaterFragment(row: TsharkRow, key: string): void {
    const first = this.firstFragments.get(key);
    const c = contribution(row);
    if (!first || c.firstUs - first.timeUs > FRAGMENT_MAX_AGE_US) {
      this.agg.stats.fragmentsUnattributed++;
      return;
    }
    this.agg.stats.fragmentsAttributed++;
    addToAggregate(this.agg, first.tuple, c);
  }
}

function emptyStats(): ReferenceStats {
  return {
    frames: 0,
    flowPackets: 0,
    fragmentsAttributed: 0,
    fragmentsUnattributed: 0,
    icmp: 0,
    tunnelled: 0,
    notInFlow: new Map(),
  };
}

function contribution(row: TsharkRow): Required<Contribution> {
  const us = epochToMicros(row['frame.time_epoch']);
  return { packets: 1, bytes: Number(row['frame.len']), firstUs: us, lastUs: us, frame: Number(row['frame.number']) };
}

/**
 * "1700000000.123456789" → 1700000000123456. Parsed as text, not as a float: a double cannot
 * hold nanoseconds since the epoch, and µs must be exact to compare with cumma.
 */
export function epochToMicros(text: string): number {
  const negative = text.startsWith('-');
  const [whole = '0', frac = ''] = text.replace(/^-/, '').split('.');
  const micros = Number(whole) * 1_000_000 + Number(frac.padEnd(6, '0').slice(0, 6));
  return negative ? -micros : micros;
}

// ---------------------------------------------------------------------------------------------
// Running tshark

export class TsharkError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`tshark on ${file}: ${message}`);
    this.name = 'TsharkError';
  }
}

/** Runs tshark on one capture and returns the reference totals per 5-tuple. */
export function tsharkReference(file: string, tshark = 'tshark'): Promise<ReferenceAggregate> {
  return new Promise((resolve, reject) => {
    const child = spawn(tshark, tsharkArgs(file), { stdio: ['ignore', 'pipe', 'pipe'] });
    const builder = new ReferenceBuilder();
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    // Streamed line by line: captures can be large, tshark's text output larger still.
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (line !== '') builder.add(parseTsharkLine(line));
    });
    // Settle only when both the process has exited and readline has emitted the last line.
    const exited = new Promise<number | null>((done) => child.on('close', done));
    const drained = new Promise<void>((done) => lines.on('close', done));
    child.on('error', (err) => reject(new TsharkError(file, err.message)));
    void Promise.all([exited, drained]).then(([code]) => {
      if (code === 0) resolve(builder.result());
      else reject(new TsharkError(file, `exit code ${code}: ${meaningfulStderr(stderr)}`));
    });
  });
}

// tshark warns about running as root on every start; that is noise, not the error.
function meaningfulStderr(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !/Running as user "root"/.test(l))
    .join(' | ');
}
