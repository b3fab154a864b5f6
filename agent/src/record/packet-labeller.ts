/**
 * Gives every captured packet its ground truth: the script connection it belongs to (by its real
 * 5-tuple) and the message active on that connection at the packet's time (the latest message
 * handed to a socket at or before it). Packets before a connection's first message (TCP and TLS
 * handshakes) and those of the close carry the connection's setupTruth. The close starts at the
 * instant the script closed the connection (its TLS close_notify precedes the FIN) or at the
 * first FIN or RST, whichever comes first.
 *
 * Packets must be fed in capture order: the close state of a connection depends on it.
 */
import { DecodeStatus, Packet, TCP_FIN, TCP_RST, Transport } from '../capture/packet';
import { TruthTag } from '../simulate/traffic-script';
import { ReplayedConnection } from './loopback-replay';

/** 127.0.0.1 as the packet decoder stores an IPv4 address (word 0, big-endian order). */
const LOOPBACK_WORD = 0x7f000001;

export type PacketVerdict =
  | { readonly kind: 'script'; readonly connection: ReplayedConnection; readonly direction: 'up' | 'down'; readonly truth: TruthTag }
  /** A probe the recorder sent to see that dumpcap captures: not part of the recording. */
  | { readonly kind: 'control' }
  /** Matched the capture filter but belongs to none of the recorder's sockets. */
  | { readonly kind: 'foreign' };

export interface LabellerOptions {
  /** UDP port the recorder's probes go from and to. */
  readonly controlPort: number;
  /**
   * Added to every stamp of the replay log: a negative value moves stamps earlier when the
   * capture shows they were taken late (see estimateClockOffsetUs).
   */
  readonly clockOffsetUs?: number;
}

interface Track {
  readonly connection: ReplayedConnection;
  readonly openedUs: number;
  readonly closedUs: number;
  /** Message stamps, shifted by the clock offset; non-decreasing. */
  readonly stamps: Float64Array;
  closing: boolean;
}

const CONTROL: PacketVerdict = { kind: 'control' };
const FOREIGN: PacketVerdict = { kind: 'foreign' };

export class PacketLabeller {
  /** "l4 clientPort serverPort" → the connections that used this tuple, by open time. */
  private readonly tracks = new Map<string, Track[]>();
  private readonly controlPort: number;

  constructor(connections: readonly ReplayedConnection[], options: LabellerOptions) {
    this.controlPort = options.controlPort;
    const offset = options.clockOffsetUs ?? 0;
    for (const connection of connections) {
      const key = tupleKey(connection.l4, connection.client.port, connection.server.port);
      const list = this.tracks.get(key) ?? [];
      list.push({
        connection,
        openedUs: connection.openedUs + offset,
        closedUs: connection.closedUs === undefined ? Infinity : connection.closedUs + offset,
        stamps: Float64Array.from(connection.messages, (message) => message.stampUs + offset),
        closing: false,
      });
      this.tracks.set(key, list);
    }
    // A client port can come back for a later connection (Linux reuses TIME_WAIT ports on lo).
    for (const list of this.tracks.values()) list.sort((a, b) => a.openedUs - b.openedUs);
  }

  label(packet: Packet): PacketVerdict {
    if (packet.status !== DecodeStatus.Transport || packet.ipVersion !== 4) return FOREIGN;
    if (packet.srcAddress[0] !== LOOPBACK_WORD || packet.dstAddress[0] !== LOOPBACK_WORD) return FOREIGN;
    const l4 = packet.transport === Transport.Tcp ? 'tcp' : packet.transport === Transport.Udp ? 'udp' : undefined;
    if (l4 === undefined) return FOREIGN;
    if (l4 === 'udp' && packet.srcPort === this.controlPort && packet.dstPort === this.controlPort) return CONTROL;
    let direction: 'up' | 'down' = 'up';
    let list = this.tracks.get(tupleKey(l4, packet.srcPort, packet.dstPort));
    if (list === undefined) {
      direction = 'down';
      list = this.tracks.get(tupleKey(l4, packet.dstPort, packet.srcPort));
    }
    if (list === undefined) return FOREIGN;
    const track = pickTrack(list, packet.timestampUs);
    const { connection } = track;
    if (packet.timestampUs >= track.closedUs || (l4 === 'tcp' && (packet.tcpFlags & (TCP_FIN | TCP_RST)) !== 0)) track.closing = true;
    if (track.closing) return { kind: 'script', connection, direction, truth: connection.setupTruth };
    const index = lastAtOrBefore(track.stamps, packet.timestampUs);
    const truth = index < 0 ? connection.setupTruth : connection.messages[index]!.truth;
    return { kind: 'script', connection, direction, truth };
  }
}

function tupleKey(l4: 'tcp' | 'udp', clientPort: number, serverPort: number): string {
  return `${l4} ${clientPort} ${serverPort}`;
}

/** The latest connection opened at or before `timeUs` (the first one for earlier packets). */
function pickTrack(list: readonly Track[], timeUs: number): Track {
  let chosen = list[0]!;
  for (const track of list) {
    if (track.openedUs <= timeUs) chosen = track;
    else break;
  }
  return chosen;
}

/** Index of the last value ≤ x in a non-decreasing array, or −1. */
export function lastAtOrBefore(values: ArrayLike<number>, x: number): number {
  let low = 0;
  let high = values.length; // answer + 1 lies in [low, high]
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (values[mid]! <= x) low = mid + 1;
    else high = mid;
  }
  return low - 1;
}

/**
 * The smallest gap between a connection's stamp and its first packet in the capture (a SYN for
 * TCP, the first datagram for UDP); undefined without evidence. That packet leaves during or
 * after the stamped call, so a negative gap means the stamps run late against the kernel's
 * packet clock by at least that much; a positive one is send latency (the clock's margin).
 */
export function minStampGapUs(connections: readonly ReplayedConnection[], firstSeenUs: ReadonlyMap<string, number>): number | undefined {
  const uses = new Map<string, number>();
  for (const connection of connections) {
    const key = tupleKey(connection.l4, connection.client.port, connection.server.port);
    uses.set(key, (uses.get(key) ?? 0) + 1);
  }
  let gap: number | undefined;
  for (const connection of connections) {
    const key = tupleKey(connection.l4, connection.client.port, connection.server.port);
    // A reused tuple's first packet belongs to its first connection only: no evidence.
    if (uses.get(key)! > 1) continue;
    const seen = firstSeenUs.get(key);
    if (seen === undefined) continue;
    const stamp = connection.l4 === 'tcp' ? connection.openedUs : connection.messages[0]?.stampUs;
    if (stamp === undefined) continue;
    gap = Math.min(gap ?? Infinity, seen - stamp);
  }
  return gap;
}

/** The correction for the labeller: the negative part of minStampGapUs, else 0. */
export function estimateClockOffsetUs(connections: readonly ReplayedConnection[], firstSeenUs: ReadonlyMap<string, number>): number {
  return Math.min(0, minStampGapUs(connections, firstSeenUs) ?? 0);
}

/** The key estimateClockOffsetUs expects for a packet seen live (undefined: not TCP/UDP on IPv4). */
export function liveTupleKeys(packet: Packet): [string, string] | undefined {
  if (packet.status !== DecodeStatus.Transport || packet.ipVersion !== 4) return undefined;
  const l4 = packet.transport === Transport.Tcp ? 'tcp' : packet.transport === Transport.Udp ? 'udp' : undefined;
  if (l4 === undefined) return undefined;
  // Either end may be the client: record both orientations, only ours will be looked up.
  return [tupleKey(l4, packet.srcPort, packet.dstPort), tupleKey(l4, packet.dstPort, packet.srcPort)];
}
