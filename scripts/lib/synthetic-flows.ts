/**
 * Per-flow packet scripts for the synthetic capture: when each packet of one flow is seen (µs
 * after the flow's first packet), in which direction, with which TCP flags, sequence/ack
 * offsets and payload. A script has exactly the number of packets the flow was budgeted, so a
 * capture's packet count is exact. Frames are built from scripts later, one packet at a time.
 *
 * The capture point is the client's side of the network (a phone's Wi-Fi or a home gateway): the
 * client's packets are seen as sent, the server's as they arrive, and the client answers
 * within tens of microseconds while the server answers a round-trip later.
 */
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN } from '../../agent/src/capture/packet';
import { Prng } from '../../agent/src/common/prng';
import {
  CLIENT_HELLO_BYTES,
  DNS_QUERY_BYTES,
  MIN_APP_DATA_BYTES,
  MIN_CLIENT_FINISHED_BYTES,
  RTP_HEADER_BYTES,
  dnsResponseBytes,
} from './synthetic-payloads';

export const enum FlowKind {
  /** TLS over TCP to port 443: chat messages, receipts, media transfers. */
  Tls = 0,
  /** A voice call: RTP-like UDP both ways every 20 ms. */
  Call = 1,
  /** One DNS query and its response over UDP. */
  Dns = 2,
}

/** What goes into a packet's payload. */
export const enum PayloadKind {
  None = 0,
  ClientHello = 1,
  ServerFirst = 2,
  ApplicationData = 3,
  ClientFinished = 4,
  DnsQuery = 5,
  DnsResponse = 6,
  Rtp = 7,
}

/** Fewest packets each kind can be scripted with. */
export const MIN_PACKETS: Readonly<Record<FlowKind, number>> = {
  // SYN, SYN-ACK, ACK, ClientHello, 2-segment server flight, ACK, Finished, FIN, FIN, ACK
  [FlowKind.Tls]: 11,
  [FlowKind.Call]: 20,
  [FlowKind.Dns]: 2,
};

/** Parallel arrays, one entry per packet, in time order. */
export interface FlowScript {
  readonly count: number;
  /** µs after the flow's first packet (integers, non-decreasing). */
  readonly timeUs: Float64Array;
  /** 1 = client → server. */
  readonly up: Uint8Array;
  readonly flags: Uint8Array;
  readonly payloadLength: Uint16Array;
  readonly payloadKind: Uint8Array;
  /** Sender's sequence number relative to its ISN (SYN = 0). */
  readonly seqRel: Float64Array;
  /** Acknowledgement relative to the peer's ISN (valid when flags has ACK). */
  readonly ackRel: Float64Array;
  readonly durationUs: number;
}

/** Collects packets in any order, then sorts them by time (stable: ties keep push order). */
class ScriptBuilder {
  private n = 0;
  private readonly time: Float64Array;
  private readonly up: Uint8Array;
  private readonly flags: Uint8Array;
  private readonly length: Uint16Array;
  private readonly kind: Uint8Array;
  private readonly seq: Float64Array;
  private readonly ack: Float64Array;

  constructor(readonly capacity: number) {
    this.time = new Float64Array(capacity);
    this.up = new Uint8Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.length = new Uint16Array(capacity);
    this.kind = new Uint8Array(capacity);
    this.seq = new Float64Array(capacity);
    this.ack = new Float64Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  push(timeUs: number, up: boolean, flags: number, length: number, kind: PayloadKind, seq = 0, ack = 0): void {
    const i = this.n++;
    if (i >= this.capacity) throw new Error(`script overflow: more than ${this.capacity} packets`);
    this.time[i] = Math.round(timeUs);
    this.up[i] = up ? 1 : 0;
    this.flags[i] = flags;
    this.length[i] = length;
    this.kind[i] = kind;
    this.seq[i] = seq;
    this.ack[i] = ack;
  }

  finish(): FlowScript {
    if (this.n !== this.capacity) throw new Error(`script has ${this.n} packets, budget was ${this.capacity}`);
    const order = Array.from({ length: this.n }, (_, i) => i);
    order.sort((a, b) => this.time[a]! - this.time[b]! || a - b);
    const pick = <T extends Float64Array | Uint8Array | Uint16Array>(src: T, out: T): T => {
      for (let i = 0; i < order.length; i++) out[i] = src[order[i]!]!;
      return out;
    };
    const timeUs = pick(this.time, new Float64Array(this.n));
    const first = timeUs[0] ?? 0;
    for (let i = 0; i < timeUs.length; i++) timeUs[i] = timeUs[i]! - first;
    return {
      count: this.n,
      timeUs,
      up: pick(this.up, new Uint8Array(this.n)),
      flags: pick(this.flags, new Uint8Array(this.n)),
      payloadLength: pick(this.length, new Uint16Array(this.n)),
      payloadKind: pick(this.kind, new Uint8Array(this.n)),
      seqRel: pick(this.seq, new Float64Array(this.n)),
      ackRel: pick(this.ack, new Float64Array(this.n)),
      durationUs: timeUs[this.n - 1] ?? 0,
    };
  }
}

export function buildScript(kind: FlowKind, packets: number, ipv6: boolean, rng: Prng): FlowScript {
  if (packets < MIN_PACKETS[kind]) throw new RangeError(`a flow of kind ${kind} needs ${MIN_PACKETS[kind]} packets, got ${packets}`);
  switch (kind) {
    case FlowKind.Tls:
      return buildTlsScript(packets, ipv6, rng);
    case FlowKind.Call:
      return buildCallScript(packets, ipv6, rng);
    case FlowKind.Dns:
      return buildDnsScript(packets, ipv6, rng);
  }
}

function buildDnsScript(packets: number, ipv6: boolean, rng: Prng): FlowScript {
  const s = new ScriptBuilder(packets);
  s.push(0, true, 0, DNS_QUERY_BYTES, PayloadKind.DnsQuery);
  s.push(rng.uniform(2_000, 60_000), false, 0, dnsResponseBytes(ipv6), PayloadKind.DnsResponse);
  return s.finish();
}

const CALL_PACKET_INTERVAL_US = 20_000;

function buildCallScript(packets: number, ipv6: boolean, rng: Prng): FlowScript {
  const s = new ScriptBuilder(packets);
  // Ethernet + IP + UDP, then at least the RTP header and one byte of media.
  const headers = 14 + (ipv6 ? 40 : 20) + 8;
  const minFrame = Math.max(60, headers + RTP_HEADER_BYTES + 1);
  const upCount = Math.ceil(packets / 2);
  // Our side's packets leave on a steady clock; the peer's arrive with network jitter.
  const downOffset = rng.uniform(1_000, CALL_PACKET_INTERVAL_US) + rng.uniform(10_000, 80_000);
  const jitter = rng.uniform(500, 4_000);
  const typical = rng.uniform(90, 170);
  const frameLength = (): number => Math.min(200, Math.max(minFrame, Math.round(typical + rng.normal() * 20)));
  for (let i = 0; i < upCount; i++) {
    const t = i * CALL_PACKET_INTERVAL_US + (i === 0 ? 0 : rng.uniform(-200, 200));
    s.push(t, true, 0, frameLength() - headers, PayloadKind.Rtp);
  }
  for (let i = 0; i < packets - upCount; i++) {
    const t = downOffset + i * CALL_PACKET_INTERVAL_US + rng.uniform(-jitter, jitter);
    s.push(t, false, 0, frameLength() - headers, PayloadKind.Rtp);
  }
  return s.finish();
}

/** One application message to send over the TLS connection. */
interface Message {
  up: boolean;
  bytes: number;
}

/**
 * A TLS 1.3 connection: handshake, then dialogs of messages (chat text and receipts, now and
 * then media), then a FIN exchange. Each segment carries whole TLS records; the receiver ACKs
 * every second segment (delayed ACK), and every pure ACK acknowledges new data, so Wireshark's
 * TCP analysis finds no duplicate ACKs, gaps or retransmissions.
 */
function buildTlsScript(packets: number, ipv6: boolean, rng: Prng): FlowScript {
  const s = new ScriptBuilder(packets);
  const mss = ipv6 ? 1428 : 1448; // 1500-byte MTU minus IP, TCP and the timestamps option
  const rtt = Math.min(400_000, Math.max(8_000, rng.logNormal(45_000, 0.5)));
  const local = (): number => rng.uniform(30, 250); // our host's reaction time
  // µs on the wire per byte (serialisation at the bottleneck rate), per direction.
  const upUsPerByte = 8 / rng.uniform(2, 20);
  const downUsPerByte = 8 / rng.uniform(5, 50);
  const header = 14 + (ipv6 ? 40 : 20) + 32;

  let sentUp = 0; // relative sequence numbers (SYN occupies 0)
  let sentDown = 0;
  let t = 0;

  s.push(t, true, TCP_SYN, 0, PayloadKind.None, 0, 0);
  t += rtt;
  s.push(t, false, TCP_SYN | TCP_ACK, 0, PayloadKind.None, 0, 1);
  sentUp = 1;
  sentDown = 1;
  t += local();
  s.push(t, true, TCP_ACK, 0, PayloadKind.None, sentUp, sentDown);
  t += local();
  s.push(t, true, TCP_PSH | TCP_ACK, CLIENT_HELLO_BYTES, PayloadKind.ClientHello, sentUp, sentDown);
  sentUp += CLIENT_HELLO_BYTES;

  // Server flight (ServerHello … Finished): 2 segments, or 3 when the budget allows (each
  // extra segment costs a packet, every second one an ACK too).
  let flightBytes = Math.round(rng.uniform(2_600, Math.min(4_300, 3 * mss)));
  if (flightBytes > 2 * mss && packets < MIN_PACKETS[FlowKind.Tls] + 2) flightBytes = 2 * mss;
  // The last segment must hold at least one whole encrypted record.
  const flightTail = flightBytes - (Math.ceil(flightBytes / mss) - 1) * mss;
  if (flightTail < MIN_APP_DATA_BYTES) flightBytes += MIN_APP_DATA_BYTES - flightTail;
  t += rtt + rng.uniform(1_000, 8_000);
  const flight = sendMessage(s, {
    up: false,
    segments: Math.ceil(flightBytes / mss),
    lastBytes: flightBytes - (Math.ceil(flightBytes / mss) - 1) * mss,
    mss,
    start: t,
    usPerByte: downUsPerByte,
    header,
    ackDelay: local,
    seq: sentDown,
    peerSeq: sentUp,
    firstKind: PayloadKind.ServerFirst,
    ackLast: true,
  });
  sentDown += flightBytes;
  t = flight.end + local() + rng.uniform(200, 2_000); // key schedule, certificate check
  const finishedBytes = MIN_CLIENT_FINISHED_BYTES + 58;
  s.push(t, true, TCP_PSH | TCP_ACK, finishedBytes, PayloadKind.ClientFinished, sentUp, sentDown);
  sentUp += finishedBytes;

  // Messages until the budget, less the closing FIN/FIN/ACK, is spent exactly.
  const closing = 3;
  let dialogLeft = 1 + Math.floor(rng.exponential(3));
  while (packets - s.size > closing) {
    const left = packets - s.size - closing;
    const message = drawMessage(rng, left);
    let segments = Math.ceil(message.bytes / mss);
    let ackLast = true;
    if (messageCost(segments, true) > left) {
      // Trim the last message to use the remaining packets exactly: with or without an ACK of
      // an odd final segment, m segments cost every count from 1 up.
      ({ segments, ackLast } = segmentsForCost(left));
    }
    const lastBytes = segments === 1 ? Math.min(message.bytes, mss) : Math.min(mss, Math.max(MIN_APP_DATA_BYTES, message.bytes - (segments - 1) * mss));
    dialogLeft--;
    const gap = dialogLeft > 0 ? rtt + rng.exponential(1_200_000) : rng.uniform(3_000_000, 15_000_000);
    if (dialogLeft <= 0) dialogLeft = 1 + Math.floor(rng.exponential(3));
    t += gap;
    const sent = sendMessage(s, {
      up: message.up,
      segments,
      lastBytes: Math.max(MIN_APP_DATA_BYTES, lastBytes),
      mss,
      start: t,
      usPerByte: message.up ? upUsPerByte : downUsPerByte,
      header,
      ackDelay: message.up ? (): number => rtt + rng.uniform(0, 2_000) : local,
      seq: message.up ? sentUp : sentDown,
      peerSeq: message.up ? sentDown : sentUp,
      firstKind: PayloadKind.ApplicationData,
      ackLast,
    });
    if (message.up) sentUp += sent.bytes;
    else sentDown += sent.bytes;
    t = sent.end;
  }

  // The client closes; the server's FIN arrives a round trip later.
  t += rng.uniform(200_000, 5_000_000);
  s.push(t, true, TCP_FIN | TCP_ACK, 0, PayloadKind.None, sentUp, sentDown);
  t += rtt;
  s.push(t, false, TCP_FIN | TCP_ACK, 0, PayloadKind.None, sentDown, sentUp + 1);
  t += local();
  s.push(t, true, TCP_ACK, 0, PayloadKind.None, sentUp + 1, sentDown + 1);
  return s.finish();
}

/** Packets a message of `segments` costs: the segments plus an ACK per two (and the odd last). */
function messageCost(segments: number, ackLast: boolean): number {
  return segments + (ackLast ? Math.ceil(segments / 2) : Math.floor(segments / 2));
}

/** Inverse of messageCost: a message that costs exactly `packets` (≥ 1). */
function segmentsForCost(packets: number): { segments: number; ackLast: boolean } {
  switch (packets % 3) {
    case 0:
      return { segments: (2 * packets) / 3, ackLast: true };
    case 1:
      return { segments: (2 * packets + 1) / 3, ackLast: false };
    default:
      return { segments: (2 * packets - 1) / 3, ackLast: true };
  }
}

/** Media usages and their size ranges in bytes (median, spread, min, max). */
const MEDIA: readonly (readonly [number, number, number, number])[] = [
  [120_000, 0.7, 20_000, 1_500_000], // photo
  [25_000, 0.6, 4_000, 300_000], // voice note
  [1_500_000, 0.6, 300_000, 8_000_000], // video clip
  [400_000, 1.0, 10_000, 5_000_000], // file
];

/**
 * The next message. Large budgets go mostly to media so a big flow looks like transfers rather
 * than a thousand chat lines; small budgets are chat, receipts and presence.
 */
function drawMessage(rng: Prng, packetsLeft: number): Message {
  const up = rng.chance(0.5);
  const mediaChance = packetsLeft < 40 ? 0 : Math.min(0.6, packetsLeft / 2_000);
  if (rng.chance(mediaChance)) {
    const [median, sigma, min, max] = rng.pick(MEDIA);
    return { up, bytes: Math.round(Math.min(max, Math.max(min, rng.logNormal(median, sigma)))) };
  }
  const r = rng.next();
  if (r < 0.5) return { up, bytes: Math.round(Math.min(1_400, Math.max(40, rng.logNormal(250, 0.6)))) }; // text
  if (r < 0.8) return { up, bytes: rng.int(40, 110) }; // delivery/read receipt
  return { up, bytes: rng.int(30, 90) }; // presence, typing, keep-alive
}

interface MessagePlan {
  up: boolean;
  segments: number;
  /** Payload of the final segment (the others carry a full MSS). */
  lastBytes: number;
  mss: number;
  start: number;
  usPerByte: number;
  /** Frame overhead per segment, for serialisation time. */
  header: number;
  ackDelay: () => number;
  seq: number;
  peerSeq: number;
  firstKind: PayloadKind;
  ackLast: boolean;
}

/** Pushes the segments and the receiver's ACKs; returns the bytes sent and the last packet time. */
function sendMessage(s: ScriptBuilder, m: MessagePlan): { bytes: number; end: number } {
  let t = m.start;
  let seq = m.seq;
  let end = t;
  let lastAck = -Infinity;
  for (let i = 0; i < m.segments; i++) {
    const bytes = i === m.segments - 1 ? m.lastBytes : m.mss;
    const flags = i === m.segments - 1 ? TCP_PSH | TCP_ACK : TCP_ACK;
    s.push(t, m.up, flags, bytes, i === 0 ? m.firstKind : PayloadKind.ApplicationData, seq, m.peerSeq);
    seq += bytes;
    end = Math.max(end, t);
    const last = i === m.segments - 1;
    if (i % 2 === 1 || (last && m.ackLast)) {
      // ACK times must not go backwards, or a later ACK would be seen before an earlier one.
      lastAck = Math.max(lastAck + 1, t + m.ackDelay());
      s.push(lastAck, !m.up, TCP_ACK, 0, PayloadKind.None, m.peerSeq, seq);
      end = Math.max(end, lastAck);
    }
    t += (bytes + m.header) * m.usPerByte;
  }
  return { bytes: seq - m.seq, end };
}
