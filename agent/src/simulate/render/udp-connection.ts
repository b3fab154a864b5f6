/**
 * One UDP connection of a traffic script: each message is one datagram of exactly its size.
 * The phone's datagrams are captured when they leave it (they may be lost further on, which
 * the capture cannot show); a server's datagram is captured when it arrives, after half the
 * RTT, its jitter and the downlink queue, unless it was lost on the way (then it is absent).
 */
import { FrameSpec, fillPseudoRandom, udpPayloadOffset, writeUdpFrame } from '../../capture/frame-builder';
import { ScriptConnection, ScriptMessage, TruthTag } from '../traffic-script';
import { Prng } from '../../common/prng';
import { ConnectionAddresses, SimulationContext } from './simulation-context';
import { datagramShape, RtpHeader, UdpPayloadShape, udpPayloadShape, writeDnsMessage, writeNtpMessage, writeRtpPacket, writeStunMessage } from './udp-payloads';

const ETHERNET_HEADER_BYTES = 14;
const UDP_HEADER_BYTES = 8;
/** Ethernet MTU: datagrams larger than this less the headers would be IP-fragmented. */
const MTU_BYTES = 1500;

/** Largest datagram payload that fits one unfragmented packet. */
export function maxUdpPayload(ipv6: boolean): number {
  return MTU_BYTES - (ipv6 ? 40 : 20) - UDP_HEADER_BYTES;
}

interface Datagram {
  readonly up: boolean;
  readonly bytes: number;
  readonly truth: TruthTag;
  readonly shape: UdpPayloadShape;
  /** DNS id or STUN transaction id pairing a response with its request. */
  readonly requestId: number;
  readonly rtp: RtpHeader | undefined;
  /** Selects the filler so consecutive datagrams differ. */
  readonly variant: number;
}

/** One direction's RTP stream: what its headers count. */
interface RtpStream {
  readonly ssrc: number;
  readonly timestampBase: number;
  sequence: number;
}

export class UdpConnection {
  private readonly rng: Prng;
  /** [server → client, client → server]. */
  private readonly specs: [FrameSpec, FrameSpec];
  private readonly shape: UdpPayloadShape;
  private readonly ipv6: boolean;
  /** Requests (DNS queries, STUN checks) not answered yet, oldest first; and the last id used. */
  private readonly openRequests: number[] = [];
  private requestId: number;
  /** [server → client, client → server]. */
  private readonly rtp: [RtpStream, RtpStream];

  constructor(
    private readonly index: number,
    script: ScriptConnection,
    addresses: ConnectionAddresses,
    private readonly ctx: SimulationContext,
    seed: number,
  ) {
    this.rng = new Prng(seed);
    const rng = this.rng;
    this.ipv6 = addresses.ipv6;
    this.shape = udpPayloadShape(script.purpose, script.server.port);
    this.requestId = rng.nextUint32();
    const rtpStream = (): RtpStream => ({ ssrc: rng.nextUint32(), timestampBase: rng.nextUint32(), sequence: rng.int(0, 0xffff) });
    this.rtp = [rtpStream(), rtpStream()];
    const base = { trafficClass: 0, payloadLength: 0 };
    const up: FrameSpec = {
      ...base,
      srcMac: ctx.macs.phoneMac,
      dstMac: ctx.macs.gatewayMac,
      srcIp: addresses.client.bytes,
      dstIp: addresses.server.bytes,
      srcPort: script.client.port,
      dstPort: script.server.port,
      ttl: 64,
      ipId: rng.int(0, 0xffff),
      flowLabel: this.ipv6 ? rng.int(1, 0xfffff) : 0,
    };
    const down: FrameSpec = {
      ...base,
      srcMac: ctx.macs.gatewayMac,
      dstMac: ctx.macs.phoneMac,
      srcIp: addresses.server.bytes,
      dstIp: addresses.client.bytes,
      srcPort: script.server.port,
      dstPort: script.client.port,
      ttl: rng.int(44, 58),
      ipId: rng.int(0, 0xffff),
      flowLabel: this.ipv6 ? rng.int(1, 0xfffff) : 0,
    };
    this.specs = [down, up];
  }

  /** Sends the message's datagram at `nowUs`. */
  write(message: ScriptMessage, nowUs: number): void {
    const up = message.direction === 'up';
    const shape = datagramShape(this.shape, message.bytes);
    // A request gets a new id; a response answers the oldest open request (A and AAAA queries
    // sent together are answered in turn), or repeats the last id when none is open.
    if (up) {
      this.requestId = this.rng.nextUint32();
      this.openRequests.push(this.requestId);
    } else {
      this.requestId = this.openRequests.shift() ?? this.requestId;
    }
    const datagram: Datagram = {
      up,
      bytes: message.bytes,
      truth: message.truth,
      shape,
      requestId: this.requestId,
      rtp: shape === 'rtp' ? this.rtpHeader(up, message) : undefined,
      variant: this.rng.nextUint32(),
    };
    const { links } = this.ctx;
    const frameBytes = ETHERNET_HEADER_BYTES + (this.ipv6 ? 40 : 20) + UDP_HEADER_BYTES + message.bytes;
    if (up) {
      // Captured as sent, whatever the network then does with it.
      this.capture(links.sendUp(frameBytes, nowUs, true, this.rng).captureUs, datagram);
    } else {
      const arrivalUs = links.sendDown(frameBytes, nowUs, true, this.rng);
      if (arrivalUs >= 0) this.capture(arrivalUs, datagram);
    }
  }

  /**
   * The next RTP header of a direction: sequence +1 per packet, timestamp from the send time
   * at the media clock (90 kHz video, 48 kHz Opus), payload type 96 (video) or 111 (Opus), the
   * dynamic types WebRTC-based call stacks use.
   */
  private rtpHeader(up: boolean, message: ScriptMessage): RtpHeader {
    const stream = this.rtp[up ? 1 : 0];
    const video = message.truth.usage === 'video_call';
    const clockHz = video ? 90_000 : 48_000;
    stream.sequence = (stream.sequence + 1) & 0xffff;
    return {
      payloadType: video ? 96 : 111,
      sequence: stream.sequence,
      timestamp: (stream.timestampBase + Math.floor((message.atUs * clockHz) / 1e6)) >>> 0,
      ssrc: stream.ssrc,
    };
  }

  private capture(timeUs: number, datagram: Datagram): void {
    const { queue, sink } = this.ctx;
    queue.at(timeUs, () => sink.capture(this.index, timeUs, datagram.up, datagram.truth, this.build(sink.frame, datagram)));
  }

  private build(out: Uint8Array, datagram: Datagram): number {
    const spec = this.specs[datagram.up ? 1 : 0];
    spec.payloadLength = datagram.bytes;
    spec.ipId = (spec.ipId + 1) & 0xffff;
    const at = udpPayloadOffset(spec);
    switch (datagram.shape) {
      case 'dns':
        // The name is drawn from the request id, so an answer repeats its query's name.
        writeDnsMessage(out, at, datagram.bytes, datagram.up, datagram.requestId & 0xffff, datagram.requestId);
        break;
      case 'stun':
        writeStunMessage(out, at, datagram.bytes, datagram.up, datagram.requestId);
        break;
      case 'rtp':
        writeRtpPacket(out, at, datagram.bytes, datagram.rtp!, datagram.variant);
        break;
      case 'ntp':
        writeNtpMessage(out, at, datagram.bytes, datagram.up, datagram.variant);
        break;
      case 'filler':
        fillPseudoRandom(out, at, datagram.bytes, datagram.variant);
        break;
    }
    return writeUdpFrame(out, spec);
  }
}
