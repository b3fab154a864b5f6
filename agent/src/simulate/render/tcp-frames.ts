/**
 * Builds the Ethernet/IP/TCP frames of one simulated TCP connection from the simulator's
 * segment descriptions: absolute sequence numbers from the ISNs, the options Linux sends
 * (MSS, SACK-permitted, timestamps, window scale on SYNs; timestamps, and SACK blocks when
 * there are out-of-order data, afterwards) and the TLS bytes of the stream.
 */
import { TcpFrameSpec, tcpPayloadOffset, writeTcpFrame } from '../../capture/frame-builder';
import { TCP_ACK, TCP_SYN } from '../../capture/packet';
import { TruthTag } from '../traffic-script';
import { TlsStreamLayout } from './tls-stream';

/** One TCP packet as the simulator decided it; numbers relative to the ISNs. */
export interface TcpSegment {
  /** Sent by the client (the phone). */
  readonly up: boolean;
  readonly flags: number;
  /** Sender's sequence number, relative to its ISN (the SYN is 0, the first data byte 1). */
  readonly seq: number;
  /** Acknowledgement, relative to the peer's ISN; 0 when the ACK flag is off. */
  readonly ack: number;
  readonly payloadLength: number;
  readonly tsVal: number;
  readonly tsEcr: number;
  /** SACK blocks [start, end, start, end, …] relative to the peer's ISN, most recent first. */
  readonly sack: readonly number[] | undefined;
  readonly truth: TruthTag;
}

export interface TcpEndpointParameters {
  readonly mac: Uint8Array;
  readonly ip: Uint8Array;
  readonly port: number;
  readonly isn: number;
  /** MSS this endpoint announces in its SYN. */
  readonly mss: number;
  readonly windowScale: number;
  /** Raw window field after the handshake (scaled by windowScale on the wire's reading). */
  readonly window: number;
  readonly ttl: number;
  readonly ipId: number;
  readonly flowLabel: number;
  readonly layout: TlsStreamLayout;
}

const TCP_OPTION_BYTES = 12;
/** SYN options: MSS (4), SACK permitted (2), timestamps (10), NOP, window scale (3). */
const SYN_OPTION_BYTES = 20;
const ETHERNET_HEADER_BYTES = 14;
const TCP_HEADER_BYTES = 20;

/** Frame length of a segment, so the simulator can time links without building the frame. */
export function tcpFrameLength(ipv6: boolean, flags: number, payloadLength: number, sackBlocks: number): number {
  const ip = ipv6 ? 40 : 20;
  return ETHERNET_HEADER_BYTES + ip + TCP_HEADER_BYTES + tcpOptionBytes(flags, sackBlocks) + payloadLength;
}

function tcpOptionBytes(flags: number, sackBlocks: number): number {
  if (flags & TCP_SYN) return SYN_OPTION_BYTES;
  return sackBlocks > 0 ? TCP_OPTION_BYTES + 4 + 8 * sackBlocks : TCP_OPTION_BYTES;
}

export class TcpFrameBuilder {
  /** [server → client, client → server], indexed by `up`. */
  private readonly specs: [TcpFrameSpec, TcpFrameSpec];
  private readonly optionBuffers = new Map<number, Uint8Array>();

  constructor(
    private readonly client: TcpEndpointParameters,
    private readonly server: TcpEndpointParameters,
  ) {
    const spec = (from: TcpEndpointParameters, to: TcpEndpointParameters): TcpFrameSpec => ({
      srcMac: from.mac,
      dstMac: to.mac,
      srcIp: from.ip,
      dstIp: to.ip,
      srcPort: from.port,
      dstPort: to.port,
      ttl: from.ttl,
      ipId: from.ipId,
      trafficClass: 0,
      flowLabel: from.flowLabel,
      payloadLength: 0,
      seq: 0,
      ack: 0,
      flags: 0,
      window: 0,
      options: new Uint8Array(0),
    });
    this.specs = [spec(server, client), spec(client, server)];
  }

  /** Writes the frame of `segment` at the start of `out`; returns its length. */
  build(out: Uint8Array, segment: TcpSegment): number {
    const up = segment.up;
    const from = up ? this.client : this.server;
    const to = up ? this.server : this.client;
    const spec = this.specs[up ? 1 : 0];
    const syn = (segment.flags & TCP_SYN) !== 0;
    spec.ipId = (spec.ipId + 1) & 0xffff;
    spec.flags = segment.flags;
    spec.seq = (from.isn + segment.seq) >>> 0;
    spec.ack = segment.flags & TCP_ACK ? (to.isn + segment.ack) >>> 0 : 0;
    // SYNs carry the unscaled window: scaling starts only once both sides agreed to it.
    spec.window = syn ? 65535 : from.window;
    spec.payloadLength = segment.payloadLength;
    spec.options = this.options(segment, from, to);
    const at = tcpPayloadOffset(spec);
    if (segment.payloadLength > 0) from.layout.paint(out, at, segment.seq, segment.payloadLength);
    return writeTcpFrame(out, spec);
  }

  private options(segment: TcpSegment, from: TcpEndpointParameters, to: TcpEndpointParameters): Uint8Array {
    const sackBlocks = segment.sack === undefined ? 0 : segment.sack.length / 2;
    const length = tcpOptionBytes(segment.flags, sackBlocks);
    let o = this.optionBuffers.get(length);
    if (o === undefined) {
      o = new Uint8Array(length);
      this.optionBuffers.set(length, o);
    }
    if (segment.flags & TCP_SYN) {
      // Linux's order: MSS, SACK permitted, timestamps, NOP, window scale.
      o.set([2, 4, from.mss >>> 8, from.mss & 0xff, 4, 2, 8, 10], 0);
      putU32(o, 8, segment.tsVal);
      putU32(o, 12, segment.tsEcr);
      o.set([1, 3, 3, from.windowScale], 16);
      return o;
    }
    o.set([1, 1, 8, 10], 0);
    putU32(o, 4, segment.tsVal);
    putU32(o, 8, segment.tsEcr);
    if (segment.sack !== undefined && sackBlocks > 0) {
      o.set([1, 1, 5, 2 + 8 * sackBlocks], 12);
      for (let i = 0; i < segment.sack.length; i++) putU32(o, 16 + 4 * i, (to.isn + segment.sack[i]!) >>> 0);
    }
    return o;
  }
}

function putU32(out: Uint8Array, at: number, value: number): void {
  out[at] = (value >>> 24) & 0xff;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}
