// Per-5-tuple totals of a capture as tshark dissects it and as `cumma flows` prints it, for the
// tests of link layers and flow boundaries that tshark can referee. Simpler than
// scripts/lib/tshark-flows.ts on purpose: the captures these tests build have no fragments and
// no ICMP; a frame counts when tshark finds exactly one IP layer and TCP/UDP ports in it, so
// packets inside tunnels (two IP layers) are left out, as cumma leaves them out.

import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { FlowRecord } from '../../agent/src/flows/flow-record';

const ROOT = resolve(__dirname, '../..');
/** CUMMA_CLI points these tests at another build (the one before a change, to see them fail). */
export const CLI = process.env.CUMMA_CLI ?? join(ROOT, 'dist', 'cumma.js');

export interface TupleTotals {
  /** Source of the first packet in file order, then its destination (tshark and cumma alike). */
  readonly client: string;
  readonly server: string;
  packetsUp: number;
  packetsDown: number;
  bytesUp: number;
  bytesDown: number;
  firstUs: number;
  lastUs: number;
}

const endpoint = (ip: string, port: number): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
const tupleKey = (l4: string, x: string, y: string): string => `${l4} ${[x, y].sort().join(' ')}`;

/** "1700000000.000001000" → 1700000000000001, exactly (the text, not a double, is parsed). */
function epochUs(text: string): number {
  const [whole = '0', fraction = ''] = text.split('.');
  return Number(whole) * 1_000_000 + Number(fraction.padEnd(6, '0').slice(0, 6));
}

function add(map: Map<string, TupleTotals>, l4: string, src: string, dst: string, bytes: number, us: number, packets = 1): void {
  const key = tupleKey(l4, src, dst);
  let totals = map.get(key);
  if (totals === undefined) {
    totals = { client: src, server: dst, packetsUp: 0, packetsDown: 0, bytesUp: 0, bytesDown: 0, firstUs: us, lastUs: us };
    map.set(key, totals);
  }
  if (src === totals.client) {
    totals.packetsUp += packets;
    totals.bytesUp += bytes;
  } else {
    totals.packetsDown += packets;
    totals.bytesDown += bytes;
  }
  totals.firstUs = Math.min(totals.firstUs, us);
  totals.lastUs = Math.max(totals.lastUs, us);
}

const FIELDS = ['frame.len', 'frame.time_epoch', 'frame.protocols', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'tcp.srcport', 'tcp.dstport', 'udp.srcport', 'udp.dstport'];

/** tshark's view: one entry per unordered 5-tuple of the outermost IP header. */
export function tsharkTuples(file: string): Map<string, TupleTotals> {
  const result = spawnSync(
    'tshark',
    ['-n', '-r', file, '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-T', 'fields', '-E', 'occurrence=f', '-E', 'separator=/t', ...FIELDS.flatMap((f) => ['-e', f])],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`tshark -r ${file} failed: ${result.stderr}`);
  const tuples = new Map<string, TupleTotals>();
  for (const line of result.stdout.split('\n')) {
    if (line === '') continue;
    const [length = '', time = '', protocols = '', ip4Src, ip4Dst, ip6Src, ip6Dst, tcpSrc, tcpDst, udpSrc, udpDst] = line.split('\t');
    const ipLayers = protocols.split(':').filter((layer) => layer === 'ip' || layer === 'ipv6').length;
    const l4 = tcpSrc ? 'tcp' : udpSrc ? 'udp' : '';
    if (ipLayers !== 1 || l4 === '') continue;
    const src = endpoint((ip4Src || ip6Src)!, Number(tcpSrc || udpSrc));
    const dst = endpoint((ip4Dst || ip6Dst)!, Number(tcpDst || udpDst));
    add(tuples, l4, src, dst, Number(length), epochUs(time));
  }
  return tuples;
}

export interface CummaRun {
  readonly status: number | null;
  readonly stderr: string;
  readonly flows: FlowRecord[];
  /** The flows summed per unordered 5-tuple, oriented by the first flow's client. */
  readonly tuples: Map<string, TupleTotals>;
}

export function cummaFlows(file: string, ...args: string[]): CummaRun {
  const result = spawnSync(process.execPath, [CLI, 'flows', file, '--format', 'jsonl', ...args], { encoding: 'utf8' });
  const flows = result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as FlowRecord);
  const tuples = new Map<string, TupleTotals>();
  for (const flow of flows) {
    const client = endpoint(flow.client.ip, flow.client.port);
    const server = endpoint(flow.server.ip, flow.server.port);
    add(tuples, flow.l4, client, server, flow.bytes.up, flow.firstUs, flow.packets.up);
    add(tuples, flow.l4, server, client, flow.bytes.down, flow.lastUs, flow.packets.down);
  }
  for (const totals of tuples.values()) {
    // add() counted each record's two directions as if they were packets at firstUs/lastUs;
    // a direction with no packets must not count its time: recompute from the records.
    const own = flows.filter((flow) => tupleKey(flow.l4, endpoint(flow.client.ip, flow.client.port), endpoint(flow.server.ip, flow.server.port)) === tupleKey(flow.l4, totals.client, totals.server));
    totals.firstUs = Math.min(...own.map((flow) => flow.firstUs));
    totals.lastUs = Math.max(...own.map((flow) => flow.lastUs));
  }
  return { status: result.status, stderr: result.stderr, flows, tuples };
}

/** Both views as sorted lines, for a readable toStrictEqual diff. */
export function tupleLines(tuples: Map<string, TupleTotals>): string[] {
  return [...tuples]
    .map(([key, t]) => `${key}: ${t.client} > ${t.server} packets ${t.packetsUp}/${t.packetsDown} bytes ${t.bytesUp}/${t.bytesDown} µs ${t.firstUs}..${t.lastUs}`)
    .sort();
}
