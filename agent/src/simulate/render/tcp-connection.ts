/**
 * One TLS-over-TCP connection of a traffic script, simulated packet by packet: the TCP
 * three-way handshake, the TLS 1.3 handshake, application messages as TLS records cut into
 * MSS-sized segments, congestion window, delayed ACKs, SACK-based loss recovery and the FIN
 * close. Both endpoints run the same TCP logic; the phone (the script's client) is where the
 * capture is taken, so its packets are captured when sent and the server's when they arrive.
 *
 * TCP model (Linux defaults, simplified where the capture would not show the difference):
 * - MSS from the SYNs (the smaller of the phone's 1460/1440 and the server's clamped MSS), less
 *   12 bytes of timestamp option on every segment after the SYNs.
 * - Congestion window: 10 segments initially and after an idle period longer than the RTO
 *   (RFC 5681 restart), slow start (+1 segment per segment acknowledged), congestion avoidance
 *   after a loss (+1 per window), × 0.7 on entering loss recovery (CUBIC's decrease; its cubic
 *   growth is not modelled), 1 after a timeout. It is capped at twice the bandwidth-delay
 *   product, standing in for the signal a real bottleneck's queue would give; the receive
 *   windows are larger still, so they never limit.
 * - The phone paces its segments (Linux TCP internal pacing: 2 × cwnd / SRTT in slow start,
 *   1.2 × after), so its uplink bursts are spread as a phone's capture shows them; servers'
 *   segments are spaced by the downlink bottleneck.
 * - Receiver: ACKs every second segment, else after a 40 ms delayed-ACK timer, at once for
 *   out-of-order data (with SACK blocks) and when a hole is filled; ACKs ride on data when the
 *   receiver has data to send.
 * - Loss: each data-carrying segment's first transmission is lost with the conditions' loss
 *   rate, or dropped when the bottleneck buffer is full (links.ts); SYNs, bare ACKs, FINs and
 *   retransmissions are not, so recovery always ends. A lost segment is detected by RACK
 *   (RFC 8985: a segment sent later was delivered and an RTT plus a quarter of the minimum RTT
 *   has passed: about one RTT after the loss) or, for a lost tail, by the retransmission timeout
 *   (max(200 ms, SRTT + 4·RTTVAR), doubling). The retransmission repeats the same sequence
 *   numbers and bytes. The network never reorders (links.ts), so RACK never takes a late
 *   segment for a lost one, and a timeout whose segment did arrive waits for its ACK (armRto):
 *   the capture holds no spurious retransmission.
 * - Capture point: the phone. A lost uplink segment was captured (the loss is beyond the phone)
 *   and is captured again when retransmitted; a lost downlink segment never reached the phone,
 *   so only its retransmission is in the file (Wireshark then reports the gap as "previous
 *   segment not captured" and the retransmission as out-of-order or retransmission).
 */
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN } from '../../capture/packet';
import { ScriptConnection, ScriptMessage, TruthTag } from '../traffic-script';
import { Prng } from '../../common/prng';
import { DEFAULT_GAPS } from '../../segment/dialog';
import { ConnectionAddresses, SimulationContext } from './simulation-context';
import { TcpFrameBuilder, TcpSegment, tcpFrameLength } from './tcp-frames';
import {
  applicationRecordLengths,
  buildChangeCipherSpec,
  buildClientHello,
  buildServerHello,
  drawHandshakeShape,
  encryptedServerHandshakeRecordBytes,
  TlsHandshakeShape,
  TlsStreamLayout,
} from './tls-stream';

const INITIAL_WINDOW_SEGMENTS = 10;
/** Window kept on a loss: CUBIC's 0.7 (Linux's default congestion control), not Reno's 0.5. */
const CUBIC_BETA = 0.7;
const DELAYED_ACK_US = 40_000;
const MIN_RTO_US = 200_000;
const MAX_RTO_US = 60_000_000;
/** The phone's stack answers an incoming packet this long after it was captured. */
const PHONE_REACTION_US = 30;
/** Timestamp option bytes on every segment after the SYNs (NOP, NOP, kind, length, 2 × 4). */
const TIMESTAMP_OPTION_BYTES = 12;
/** The phone's MSS: an Ethernet/Wi-Fi/LTE MTU of 1500 less the IP and TCP headers. */
const PHONE_MSS_IPV4 = 1460;
/** Receive windows (raw field, scale): 3 MiB on the phone, 1 MiB on servers. */
const PHONE_WINDOW = { raw: 12288, scale: 8 };
const SERVER_WINDOW = { raw: 2048, scale: 9 };

interface Chunk {
  readonly start: number;
  readonly end: number;
  readonly truth: TruthTag;
}

/** A data segment sent and not yet cumulatively acknowledged. */
interface InFlight {
  readonly seq: number;
  readonly end: number;
  readonly truth: TruthTag;
  readonly psh: boolean;
  /** Sender's clock at the latest transmission (for the phone, also its capture time). */
  xmitUs: number;
  /** Order of the latest transmission among this sender's: RACK's "sent after". */
  xmitOrder: number;
  sacked: boolean;
  retransmitted: boolean;
  /**
   * The latest transmission never arrived. The sender does not know it; the simulator uses it
   * only to hold back a timeout while the segment's ACK is still on its way (see armRto).
   */
  lostInNetwork: boolean;
}

/** One side's TCP state: its sender and its receiver. */
class Endpoint {
  // --- sender ---
  /** Oldest unacknowledged and next new sequence number; data starts at 1 (the SYN is 0). */
  sndUna = 1;
  sndNxt = 1;
  /** Sequence number after the last byte the application wrote. */
  queueEnd = 1;
  readonly chunks: Chunk[] = [];
  chunkHead = 0;
  readonly flight: InFlight[] = [];
  flightHead = 0;
  sackedCount = 0;
  xmitCounter = 0;
  /** Latest xmitOrder known delivered (RACK). */
  rackOrder = 0;
  cwnd = INITIAL_WINDOW_SEGMENTS;
  ssthresh = Number.POSITIVE_INFINITY;
  inRecovery = false;
  recoveryPoint = 0;
  srttUs = 0;
  rttvarUs = 0;
  minRttUs = Number.POSITIVE_INFINITY;
  rtoBackoff = 1;
  rtoGeneration = 0;
  rackGeneration = 0;
  rackTimerUs = Number.POSITIVE_INFINITY;
  lastSendUs = 0;
  /** Pacing: no new segment before this time; a wake-up is scheduled when one is waiting. */
  nextPaceUs = 0;
  pacingArmed = false;
  established = false;
  tlsReady = false;
  readonly pendingApp: ScriptMessage[] = [];
  finRequested = false;
  finSent = false;
  finSeq = 0;
  // --- receiver ---
  rcvNxt = 0;
  /** Out-of-order ranges received beyond rcvNxt: [start, end, …], sorted, disjoint. */
  ooo: number[] = [];
  /** Start of the out-of-order range that grew last: SACK's first block (RFC 2018). */
  lastOooStart = -1;
  unackedSegments = 0;
  ackNow = false;
  delayedAckGeneration = 0;
  delayedAckArmed = false;
  tsRecent = 0;
  lastRxTruth: TruthTag;
  finReceived = false;

  constructor(
    readonly isClient: boolean,
    readonly layout: TlsStreamLayout,
    readonly tsBase: number,
    readonly segmentBytes: number,
    readonly cwndCap: number,
    setupTruth: TruthTag,
  ) {
    this.lastRxTruth = setupTruth;
  }

  get flightCount(): number {
    return this.flight.length - this.flightHead;
  }

  rtoUs(): number {
    const base = this.srttUs > 0 ? Math.max(MIN_RTO_US, this.srttUs + 4 * this.rttvarUs) : 1_000_000;
    return Math.min(MAX_RTO_US, Math.round(base * this.rtoBackoff));
  }

  tsVal(nowUs: number): number {
    return (this.tsBase + Math.floor(nowUs / 1000)) >>> 0;
  }
}

export class TcpConnection {
  private readonly rng: Prng;
  private readonly client: Endpoint;
  private readonly server: Endpoint;
  private readonly frames: TcpFrameBuilder;
  private readonly shape: TlsHandshakeShape;
  private readonly ipv6: boolean;
  private readonly setupTruth: TruthTag;
  private synSentUs = 0;
  private synAckSentUs = 0;
  private clientHelloEnd = Number.POSITIVE_INFINITY;
  private serverFlightEnd = Number.POSITIVE_INFINITY;
  private clientFinishedEnd = Number.POSITIVE_INFINITY;
  private serverFlightQueued = false;
  private clientFinishedQueued = false;
  private closeRequested = false;
  /** When the phone last captured a packet of this connection (µs). */
  private lastCapturedUs = Number.NEGATIVE_INFINITY;
  /** The truth of the FINs and the ACKs they draw: set when the client decides to close. */
  private closeTruth: TruthTag | undefined;

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
    this.setupTruth = script.setupTruth;
    this.shape = drawHandshakeShape(rng);

    const ipHeaderDelta = this.ipv6 ? 20 : 0;
    const phoneMss = PHONE_MSS_IPV4 - ipHeaderDelta;
    const serverMss = ctx.conditions.mss - ipHeaderDelta;
    const segmentBytes = Math.min(phoneMss, serverMss) - TIMESTAMP_OPTION_BYTES;
    // Twice the bandwidth-delay product at the mean RTT, in segments (see the model above).
    const meanRttUs = ctx.conditions.rttBaseUs + 2 * ctx.conditions.jitterUs;
    const cap = (bitsPerSecond: number, peerWindowBytes: number): number =>
      Math.max(
        INITIAL_WINDOW_SEGMENTS,
        Math.min(Math.ceil((2 * bitsPerSecond * meanRttUs) / 8e6 / segmentBytes), Math.floor((0.75 * peerWindowBytes) / segmentBytes)),
      );
    const phoneWindowBytes = PHONE_WINDOW.raw * 2 ** PHONE_WINDOW.scale;
    const serverWindowBytes = SERVER_WINDOW.raw * 2 ** SERVER_WINDOW.scale;

    const clientLayout = new TlsStreamLayout(rng.nextUint32());
    const serverLayout = new TlsStreamLayout(rng.nextUint32());
    this.client = new Endpoint(true, clientLayout, rng.nextUint32(), segmentBytes, cap(ctx.conditions.uplinkBitsPerSecond, serverWindowBytes), this.setupTruth);
    this.server = new Endpoint(false, serverLayout, rng.nextUint32(), segmentBytes, cap(ctx.conditions.downlinkBitsPerSecond, phoneWindowBytes), this.setupTruth);

    const flowLabel = (): number => (this.ipv6 ? rng.int(1, 0xfffff) : 0);
    this.frames = new TcpFrameBuilder(
      {
        mac: ctx.macs.phoneMac,
        ip: addresses.client.bytes,
        port: script.client.port,
        isn: rng.nextUint32(),
        mss: phoneMss,
        windowScale: PHONE_WINDOW.scale,
        window: PHONE_WINDOW.raw,
        ttl: 64,
        ipId: rng.int(0, 0xffff),
        flowLabel: flowLabel(),
        layout: clientLayout,
      },
      {
        mac: ctx.macs.gatewayMac,
        ip: addresses.server.bytes,
        port: script.server.port,
        isn: rng.nextUint32(),
        mss: serverMss,
        windowScale: SERVER_WINDOW.scale,
        window: SERVER_WINDOW.raw,
        // 64 less the hops between server and phone, as Linux servers start from 64.
        ttl: rng.int(44, 58),
        ipId: rng.int(0, 0xffff),
        flowLabel: flowLabel(),
        layout: serverLayout,
      },
    );
  }

  /** The client's SYN, at the connection's open time. */
  open(nowUs: number): void {
    this.synSentUs = nowUs;
    this.send(this.client, TCP_SYN, 0, 0, this.setupTruth, nowUs, false);
  }

  /** An application message handed to its sender at `nowUs`. */
  write(message: ScriptMessage, nowUs: number): void {
    const side = message.direction === 'up' ? this.client : this.server;
    if (side.tlsReady) {
      this.appendApplication(side, message);
      this.trySend(side, nowUs);
    } else {
      // Before its TLS handshake is done a sender can only buffer (TLS 1.3: the client after
      // its Finished, the server once it has the client's Finished).
      side.pendingApp.push(message);
    }
    this.maybeClose(nowUs);
  }

  /** The client application closes the connection: FIN once everything has been delivered. */
  close(nowUs: number): void {
    this.closeRequested = true;
    this.maybeClose(nowUs);
  }

  // --- application and TLS ---------------------------------------------------------------

  private appendApplication(side: Endpoint, message: ScriptMessage): void {
    const start = side.queueEnd;
    for (const length of applicationRecordLengths(message.bytes)) side.layout.addEncrypted(length);
    this.appendChunk(side, start, message.truth);
  }

  /** Makes layout bytes [start, layout end) the next chunk of the send queue. */
  private appendChunk(side: Endpoint, start: number, truth: TruthTag): void {
    const end = side.layout.end;
    side.chunks.push({ start, end, truth });
    side.queueEnd = end;
  }

  private writeClientHello(nowUs: number): void {
    const side = this.client;
    const start = side.queueEnd;
    side.layout.addCleartext(buildClientHello(this.rng));
    this.appendChunk(side, start, this.setupTruth);
    this.clientHelloEnd = side.queueEnd;
    this.trySend(side, nowUs);
  }

  private writeServerFlight(nowUs: number): void {
    const side = this.server;
    const start = side.queueEnd;
    side.layout.addCleartext(buildServerHello(this.rng, this.shape.cipherSuite));
    side.layout.addCleartext(buildChangeCipherSpec());
    side.layout.addEncrypted(encryptedServerHandshakeRecordBytes(this.shape.serverFlightBytes));
    this.appendChunk(side, start, this.setupTruth);
    this.serverFlightEnd = side.queueEnd;
    this.trySend(side, nowUs);
  }

  private writeClientFinished(nowUs: number): void {
    const side = this.client;
    const start = side.queueEnd;
    side.layout.addCleartext(buildChangeCipherSpec());
    side.layout.addEncrypted(this.shape.clientFinishedBytes - buildChangeCipherSpec().length);
    this.appendChunk(side, start, this.setupTruth);
    this.clientFinishedEnd = side.queueEnd;
    this.becomeReady(side, nowUs);
  }

  private writeTickets(nowUs: number): void {
    const side = this.server;
    if (this.shape.ticketBytes.length > 0) {
      const start = side.queueEnd;
      for (const length of this.shape.ticketBytes) side.layout.addEncrypted(length);
      this.appendChunk(side, start, this.setupTruth);
    }
    this.becomeReady(side, nowUs);
  }

  private becomeReady(side: Endpoint, nowUs: number): void {
    side.tlsReady = true;
    for (const message of side.pendingApp) this.appendApplication(side, message);
    side.pendingApp.length = 0;
    this.trySend(side, nowUs);
  }

  /** Handshake steps triggered by what a side has received so far. */
  private advanceHandshake(side: Endpoint, nowUs: number): void {
    if (!side.isClient && !this.serverFlightQueued && side.rcvNxt >= this.clientHelloEnd) {
      this.serverFlightQueued = true;
      // Key exchange and signature on the server: 0.5–3 ms.
      this.after(nowUs + this.rng.int(500, 3000), (t) => this.writeServerFlight(t));
    }
    if (side.isClient && !this.clientFinishedQueued && side.rcvNxt >= this.serverFlightEnd) {
      this.clientFinishedQueued = true;
      // Certificate chain verification on the phone: 1–8 ms.
      this.after(nowUs + this.rng.int(1000, 8000), (t) => this.writeClientFinished(t));
    }
    if (!side.isClient && !side.tlsReady && side.rcvNxt >= this.clientFinishedEnd) {
      this.writeTickets(nowUs);
    }
  }

  private maybeClose(nowUs: number): void {
    if (!this.closeRequested || this.client.finRequested) return;
    const quiet = (side: Endpoint): boolean => side.tlsReady && side.pendingApp.length === 0 && side.sndNxt === side.queueEnd && side.flightCount === 0;
    if (quiet(this.client) && quiet(this.server)) {
      this.client.finRequested = true;
      // A close the capture sees more than a dialog gap after the connection's previous packet is
      // a dialog of its own, and it carries no usage: a few 66-byte packets look the same whatever
      // the connection was for, so its truth is `other` (as the chat connection's handshake is).
      // Sooner, it shares the data's dialog and its label. Nothing of the connection is in
      // flight when the client closes (both sides are quiet), so no packet of the data's truth
      // reaches the capture after this FIN.
      const alone = nowUs - this.lastCapturedUs > DEFAULT_GAPS.dialogGapUs;
      this.closeTruth = alone ? { ...this.setupTruth, usage: 'other' } : this.setupTruth;
      this.trySend(this.client, nowUs);
    }
  }

  /** Runs `action` at `timeUs`, then lets the connection close if it was waiting for that. */
  private after(timeUs: number, action: (nowUs: number) => void): void {
    this.ctx.queue.at(timeUs, () => {
      action(timeUs);
      this.maybeClose(timeUs);
    });
  }

  // --- the wire ----------------------------------------------------------------------------

  /**
   * Puts one packet on the wire from `side` at `nowUs` (the sender's clock, which for the phone
   * is also the capture time); returns whether the network lost it. Only `mayLose` packets —
   * first transmissions of data — can be lost (see links.ts).
   */
  private send(side: Endpoint, flags: number, seq: number, payloadLength: number, truth: TruthTag, nowUs: number, mayLose: boolean): boolean {
    const peer = side.isClient ? this.server : this.client;
    const hasAck = (flags & TCP_ACK) !== 0;
    const sack = hasAck && side.ooo.length > 0 ? this.sackBlocks(side) : undefined;
    const segment: TcpSegment = {
      up: side.isClient,
      flags,
      seq,
      ack: hasAck ? side.rcvNxt : 0,
      payloadLength,
      tsVal: side.tsVal(nowUs),
      tsEcr: flags === TCP_SYN ? 0 : side.tsRecent,
      sack,
      truth,
    };
    if (hasAck) {
      // Any ACK-bearing packet acknowledges everything received: no separate ACK is owed.
      side.unackedSegments = 0;
      side.ackNow = false;
      side.delayedAckArmed = false;
      side.delayedAckGeneration++;
    }
    const frameBytes = tcpFrameLength(this.ipv6, flags, payloadLength, sack === undefined ? 0 : sack.length / 2);
    const { links, queue } = this.ctx;
    if (side.isClient) {
      // The phone's own TCP segments are not lost: a segment lost beyond the capture point is
      // in the capture and so is its retransmission, and Wireshark 4.0 takes such a pipelined
      // retransmission for out-of-order data and reports its reassembly as malformed. Downlink
      // losses (the common case on mobile links) show as they would: a gap, then the repair.
      const { captureUs, arrivalUs } = links.sendUp(frameBytes, nowUs, false, this.rng);
      this.capture(captureUs, segment);
      if (arrivalUs < 0) return true;
      queue.at(arrivalUs, () => this.arrive(peer, segment, arrivalUs));
      return false;
    }
    const arrivalUs = links.sendDown(frameBytes, nowUs, mayLose && this.ctx.tcpLoss, this.rng);
    if (arrivalUs < 0) return true;
    this.capture(arrivalUs, segment);
    const reactUs = arrivalUs + PHONE_REACTION_US;
    queue.at(reactUs, () => this.arrive(peer, segment, reactUs));
    return false;
  }

  private capture(timeUs: number, segment: TcpSegment): void {
    const { queue, sink } = this.ctx;
    queue.at(timeUs, () => {
      this.lastCapturedUs = timeUs;
      sink.capture(this.index, timeUs, segment.up, segment.truth, this.frames.build(sink.frame, segment));
    });
  }

  /** Up to three SACK blocks, the one that changed last first (RFC 2018). */
  private sackBlocks(side: Endpoint): number[] {
    const ooo = side.ooo;
    const blocks: number[] = [];
    const first = ooo.indexOf(side.lastOooStart);
    if (first >= 0 && first % 2 === 0) blocks.push(ooo[first]!, ooo[first + 1]!);
    for (let i = ooo.length - 2; i >= 0 && blocks.length < 6; i -= 2) {
      if (i !== first) blocks.push(ooo[i]!, ooo[i + 1]!);
    }
    return blocks;
  }

  // --- receiving ---------------------------------------------------------------------------

  private arrive(side: Endpoint, segment: TcpSegment, nowUs: number): void {
    if (segment.flags & TCP_SYN) {
      this.arriveSyn(side, segment, nowUs);
    } else {
      if (!side.established) {
        // The client's ACK of the SYN-ACK: the server's first RTT sample.
        side.established = true;
        this.updateRtt(side, nowUs - this.synAckSentUs);
      }
      if (segment.payloadLength > 0) this.receiveData(side, segment, nowUs);
      if (segment.flags & TCP_ACK) this.receiveAck(side, segment, nowUs);
      if (segment.flags & TCP_FIN) this.receiveFin(side, segment);
      this.advanceHandshake(side, nowUs);
      this.trySend(side, nowUs);
    }
    this.maybeClose(nowUs);
  }

  private arriveSyn(side: Endpoint, segment: TcpSegment, nowUs: number): void {
    side.rcvNxt = 1;
    side.tsRecent = segment.tsVal;
    if (!side.isClient) {
      this.synAckSentUs = nowUs;
      this.send(side, TCP_SYN | TCP_ACK, 0, 0, this.setupTruth, nowUs, false);
      return;
    }
    side.established = true;
    this.updateRtt(side, nowUs - PHONE_REACTION_US - this.synSentUs);
    this.send(side, TCP_ACK, 1, 0, this.setupTruth, nowUs, false);
    // connect() returns, the app's TLS library builds its ClientHello: 0.2–2 ms.
    this.after(nowUs + this.rng.int(200, 2000), (t) => this.writeClientHello(t));
  }

  private receiveData(side: Endpoint, segment: TcpSegment, nowUs: number): void {
    const start = segment.seq;
    const end = start + segment.payloadLength;
    if (end <= side.rcvNxt) {
      // A duplicate: tell the sender at once (cannot happen without spurious retransmission).
      side.ackNow = true;
      return;
    }
    side.lastRxTruth = segment.truth;
    if (start <= side.rcvNxt) {
      const filledHole = side.ooo.length > 0;
      side.rcvNxt = end;
      const ooo = side.ooo;
      while (ooo.length > 0 && ooo[0]! <= side.rcvNxt) {
        side.rcvNxt = Math.max(side.rcvNxt, ooo[1]!);
        ooo.splice(0, 2);
      }
      side.tsRecent = segment.tsVal;
      if (filledHole) {
        side.ackNow = true;
      } else if (++side.unackedSegments >= 2) {
        side.ackNow = true;
      } else {
        this.armDelayedAck(side, nowUs);
      }
      return;
    }
    side.lastOooStart = this.addOutOfOrder(side, start, end);
    side.ackNow = true;
  }

  /** Adds [start, end) to the out-of-order ranges; returns the start of the merged range. */
  private addOutOfOrder(side: Endpoint, start: number, end: number): number {
    const ooo = side.ooo;
    let s = start;
    let e = end;
    const kept: number[] = [];
    for (let i = 0; i < ooo.length; i += 2) {
      const a = ooo[i]!;
      const b = ooo[i + 1]!;
      if (b < s || a > e) kept.push(a, b);
      else {
        s = Math.min(s, a);
        e = Math.max(e, b);
      }
    }
    let at = 0;
    while (at < kept.length && kept[at]! < s) at += 2;
    kept.splice(at, 0, s, e);
    side.ooo = kept;
    return s;
  }

  private receiveFin(side: Endpoint, segment: TcpSegment): void {
    if (segment.seq + segment.payloadLength !== side.rcvNxt || side.finReceived) return;
    side.rcvNxt += 1;
    side.finReceived = true;
    side.ackNow = true;
    side.lastRxTruth = this.closeTruth ?? this.setupTruth;
    // The server closes as soon as the client has: its FIN goes with the ACK of the client's.
    if (!side.isClient) side.finRequested = true;
  }

  private armDelayedAck(side: Endpoint, nowUs: number): void {
    if (side.delayedAckArmed) return;
    side.delayedAckArmed = true;
    const generation = side.delayedAckGeneration;
    this.after(nowUs + DELAYED_ACK_US, (t) => {
      if (side.delayedAckGeneration !== generation || side.unackedSegments === 0) return;
      side.delayedAckArmed = false;
      side.ackNow = true;
      this.trySend(side, t);
    });
  }

  // --- sending -----------------------------------------------------------------------------

  private receiveAck(side: Endpoint, segment: TcpSegment, nowUs: number): void {
    const ack = segment.ack;
    let deliveredOrder = 0;
    if (ack > side.sndUna) {
      let acked = 0;
      let sampleUs = -1;
      const flight = side.flight;
      while (side.flightHead < flight.length && flight[side.flightHead]!.end <= ack) {
        const g = flight[side.flightHead++]!;
        if (g.sacked) side.sackedCount--;
        else acked++;
        // Karn: a retransmitted segment's ACK could answer either transmission.
        if (!g.retransmitted) sampleUs = nowUs - g.xmitUs;
        deliveredOrder = Math.max(deliveredOrder, g.xmitOrder);
      }
      if (side.flightHead > 1024 && side.flightHead * 2 > flight.length) {
        flight.splice(0, side.flightHead);
        side.flightHead = 0;
      }
      side.sndUna = Math.min(ack, side.sndNxt);
      if (sampleUs >= 0) this.updateRtt(side, sampleUs);
      if (side.inRecovery && ack >= side.recoveryPoint) side.inRecovery = false;
      if (!side.inRecovery && acked > 0) {
        side.cwnd += side.cwnd < side.ssthresh ? acked : acked / side.cwnd;
        side.cwnd = Math.min(side.cwnd, side.cwndCap);
      }
      side.rtoBackoff = 1;
      if (side.flightCount > 0) this.armRto(side, nowUs);
      else side.rtoGeneration++;
    }
    const sack = segment.sack;
    if (sack !== undefined) {
      const flight = side.flight;
      for (let b = 0; b < sack.length; b += 2) {
        const start = sack[b]!;
        const end = sack[b + 1]!;
        for (let i = side.flightHead; i < flight.length; i++) {
          const g = flight[i]!;
          if (g.seq >= end) break;
          if (!g.sacked && g.seq >= start && g.end <= end) {
            g.sacked = true;
            side.sackedCount++;
            deliveredOrder = Math.max(deliveredOrder, g.xmitOrder);
          }
        }
      }
    }
    if (deliveredOrder > side.rackOrder) side.rackOrder = deliveredOrder;
    if (side.sackedCount > 0 || side.inRecovery) this.detectLosses(side, nowUs);
  }

  /** RACK: a segment sent before one that was delivered, and older than RTT + reordering window, is lost. */
  private detectLosses(side: Endpoint, nowUs: number): void {
    const reorderUs = Math.max(1000, Math.floor(side.minRttUs / 4));
    let nextCheckUs = Number.POSITIVE_INFINITY;
    const flight = side.flight;
    for (let i = side.flightHead; i < flight.length; i++) {
      const g = flight[i]!;
      if (g.sacked || g.xmitOrder >= side.rackOrder) continue;
      const deadlineUs = Math.ceil(g.xmitUs + side.srttUs + reorderUs);
      if (nowUs >= deadlineUs) this.retransmit(side, g, nowUs);
      else nextCheckUs = Math.min(nextCheckUs, deadlineUs);
    }
    if (nextCheckUs < side.rackTimerUs) {
      side.rackTimerUs = nextCheckUs;
      const generation = ++side.rackGeneration;
      this.after(nextCheckUs, (t) => {
        if (side.rackGeneration !== generation) return;
        side.rackTimerUs = Number.POSITIVE_INFINITY;
        this.detectLosses(side, t);
        this.trySend(side, t);
      });
    }
  }

  private retransmit(side: Endpoint, g: InFlight, nowUs: number): void {
    if (!side.inRecovery) {
      // One reduction per loss episode (RFC 6675): until everything sent so far is acknowledged.
      side.inRecovery = true;
      side.recoveryPoint = side.sndNxt;
      side.ssthresh = Math.max(Math.floor(side.cwnd * CUBIC_BETA), 2);
      side.cwnd = side.ssthresh;
    }
    g.retransmitted = true;
    g.xmitOrder = ++side.xmitCounter;
    g.xmitUs = nowUs;
    g.lostInNetwork = this.send(side, TCP_ACK | (g.psh ? TCP_PSH : 0), g.seq, g.end - g.seq, g.truth, nowUs, false);
    this.ctx.counters.retransmissions++;
    this.armRto(side, nowUs);
  }

  /**
   * (Re)starts the retransmission timer. When it fires on a segment that did arrive (its ACK is
   * only late: a deep queue, a delayed ACK), it waits another RTO instead of retransmitting: a
   * real stack's timeout can fire spuriously, but such retransmissions would be noise in the
   * training data, and nothing else in the capture shows that the sender waited longer.
   */
  private armRto(side: Endpoint, nowUs: number): void {
    const generation = ++side.rtoGeneration;
    this.after(nowUs + side.rtoUs(), (t) => {
      if (side.rtoGeneration !== generation) return;
      const flight = side.flight;
      for (let i = side.flightHead; i < flight.length; i++) {
        const g = flight[i]!;
        if (g.sacked) continue;
        if (!g.lostInNetwork) {
          this.armRto(side, t);
          return;
        }
        // Timeout: back to one segment, the RTO doubles until an ACK makes progress.
        side.ssthresh = Math.max(Math.floor(side.cwnd * CUBIC_BETA), 2);
        side.cwnd = 1;
        side.inRecovery = false;
        side.rtoBackoff = Math.min(side.rtoBackoff * 2, 64);
        this.ctx.counters.timeouts++;
        this.retransmit(side, g, t);
        break;
      }
      this.trySend(side, t);
    });
  }

  private trySend(side: Endpoint, nowUs: number): void {
    if (!side.established) return;
    const wasEmpty = side.flightCount === 0;
    if (wasEmpty && side.lastSendUs > 0 && nowUs - side.lastSendUs > side.rtoUs()) {
      // Restart after idle (RFC 5681 §4.1, Linux tcp_slow_start_after_idle): the path may have changed.
      side.cwnd = Math.min(side.cwnd, INITIAL_WINDOW_SEGMENTS);
    }
    let sent = false;
    while (side.sndNxt < side.queueEnd && side.flightCount - side.sackedCount < Math.floor(side.cwnd)) {
      if (side.isClient && nowUs < side.nextPaceUs) {
        this.armPacing(side, side.nextPaceUs);
        break;
      }
      let chunk = side.chunks[side.chunkHead]!;
      while (chunk.end <= side.sndNxt) chunk = side.chunks[++side.chunkHead]!;
      // Segments never span two messages, so each carries exactly one truth tag.
      const end = Math.min(side.sndNxt + side.segmentBytes, chunk.end);
      const psh = end === chunk.end;
      const g: InFlight = {
        seq: side.sndNxt,
        end,
        truth: chunk.truth,
        psh,
        xmitUs: nowUs,
        xmitOrder: ++side.xmitCounter,
        sacked: false,
        retransmitted: false,
        lostInNetwork: false,
      };
      g.lostInNetwork = this.send(side, TCP_ACK | (psh ? TCP_PSH : 0), side.sndNxt, end - side.sndNxt, chunk.truth, nowUs, true);
      side.flight.push(g);
      side.sndNxt = end;
      sent = true;
      if (side.isClient) side.nextPaceUs = nowUs + this.paceGapUs(side, end - g.seq);
    }
    if (side.chunkHead > 256 && side.chunkHead * 2 > side.chunks.length) {
      side.chunks.splice(0, side.chunkHead);
      side.chunkHead = 0;
    }
    if (sent) {
      side.lastSendUs = nowUs;
      if (wasEmpty) this.armRto(side, nowUs);
    }
    if (side.finRequested && !side.finSent && side.sndNxt === side.queueEnd && side.flightCount === 0) {
      side.finSent = true;
      side.finSeq = side.sndNxt;
      this.send(side, TCP_FIN | TCP_ACK, side.finSeq, 0, this.closeTruth ?? this.setupTruth, nowUs, false);
    } else if (side.ackNow) {
      const seq = side.finSent ? side.finSeq + 1 : side.sndNxt;
      this.send(side, TCP_ACK, seq, 0, side.lastRxTruth, nowUs, false);
    }
  }

  /** Time between segments at Linux's pacing rate: 2 (slow start) or 1.2 × cwnd per SRTT. */
  private paceGapUs(side: Endpoint, payloadBytes: number): number {
    if (side.srttUs === 0) return 0;
    const factor = side.cwnd < side.ssthresh ? 2 : 1.2;
    return Math.floor((payloadBytes * side.srttUs) / (factor * side.cwnd * side.segmentBytes));
  }

  private armPacing(side: Endpoint, atUs: number): void {
    if (side.pacingArmed) return;
    side.pacingArmed = true;
    this.after(atUs, (t) => {
      side.pacingArmed = false;
      this.trySend(side, t);
    });
  }

  /** RFC 6298 smoothing; the first sample sets SRTT and RTTVAR = SRTT/2. */
  private updateRtt(side: Endpoint, sampleUs: number): void {
    const sample = Math.max(1, sampleUs);
    side.minRttUs = Math.min(side.minRttUs, sample);
    if (side.srttUs === 0) {
      side.srttUs = sample;
      side.rttvarUs = sample / 2;
    } else {
      side.rttvarUs = 0.75 * side.rttvarUs + 0.25 * Math.abs(side.srttUs - sample);
      side.srttUs = 0.875 * side.srttUs + 0.125 * sample;
    }
  }
}
