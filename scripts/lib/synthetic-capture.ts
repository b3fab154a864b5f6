/**
 * Seeded, deterministic generator of a realistic mixed messaging capture (pcapng, Ethernet):
 * TLS-over-TCP connections, RTP-like voice calls and DNS lookups, IPv4 with some IPv6, many
 * flows open at once and interleaved in time order. The same options give a byte-identical
 * file. Packets are streamed to the sink as they are made; memory holds only the flow plan and
 * the scripts of currently open flows.
 */
import { renameSync, rmSync } from 'node:fs';
import {
  TcpFrameSpec,
  tcpPayloadOffset,
  udpPayloadOffset,
  writeTcpFrame,
  writeUdpFrame,
} from '../../agent/src/capture/frame-builder';
import { LINKTYPE_ETHERNET } from '../../agent/src/capture/link-layer';
import { TCP_ACK, TCP_SYN } from '../../agent/src/capture/packet';
import { ByteSink, createFileSink, PcapngWriter } from '../../agent/src/capture/pcapng-writer';
import { FlowHeap } from './flow-heap';
import { Prng } from '../../agent/src/common/prng';
import { removeStaleTemporaries } from '../../agent/src/common/stale-temporaries';
import { buildScript, FlowKind, FlowScript, PayloadKind } from './synthetic-flows';
import { FlowPlan, planCapture, PlanOptions } from './synthetic-plan';
import {
  writeApplicationData,
  writeClientFinished,
  writeClientHello,
  writeDnsQuery,
  writeDnsResponse,
  writeRtp,
  writeServerFirstSegment,
} from './synthetic-payloads';

/** Bump when the output for given options changes, so cached files are regenerated. */
export const GENERATOR_VERSION = 1;

/** 2024-01-15T10:00:00Z: a fixed start keeps files identical across runs. */
const DEFAULT_BASE_TIME_US = 1_705_312_800_000_000;

export interface SyntheticCaptureOptions extends PlanOptions {
  baseTimeUs?: number;
  /** The sink is done with each chunk when it returns (see PcapngWriterOptions.reuseChunk). */
  reuseChunk?: boolean;
}

export interface SyntheticCaptureSummary {
  packets: number;
  flows: number;
  tcpFlows: number;
  udpFlows: number;
  callFlows: number;
  dnsFlows: number;
  ipv6Flows: number;
  /** Sum of frame lengths (what Wireshark's conversation table counts). */
  frameBytes: number;
  fileBytes: number;
  firstUs: number;
  lastUs: number;
  /** Most flows open (first packet seen, last not yet) at any one packet. */
  maxOpenFlows: number;
  /** Open flows averaged over packets. */
  meanOpenFlows: number;
}

const GATEWAY_MAC = Uint8Array.of(0x02, 0x00, 0x00, 0x00, 0x00, 0x01);
const DNS_SERVER_V4 = Uint8Array.of(192, 0, 2, 53);
const DNS_SERVER_V6 = ipv6Address(0x2001_0db8, 0x0053_0000, 0, 0x53);
/** Raw window fields; with the SYN's window scale they advertise 256 KiB / 512 KiB. */
const CLIENT_WINDOW = 2048;
const SERVER_WINDOW = 1024;
const CLIENT_WINDOW_SCALE = 7;
const SERVER_WINDOW_SCALE = 9;

function ipv6Address(w0: number, w1: number, w2: number, w3: number): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, w0);
  view.setUint32(4, w1);
  view.setUint32(8, w2);
  view.setUint32(12, w3);
  return bytes;
}

/** Client devices: 10.0.0.0/8 and fd00:c0:ffee::/48 (private space), locally administered MACs. */
function clientAddress(plan: FlowPlan): Uint8Array {
  const n = plan.host + 2;
  return plan.ipv6 ? ipv6Address(0xfd00_00c0, 0xffee_0000, 0, n) : Uint8Array.of(10, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

function clientMac(plan: FlowPlan): Uint8Array {
  return Uint8Array.of(0x02, plan.ipv6 ? 6 : 4, 0, (plan.host >>> 16) & 0xff, (plan.host >>> 8) & 0xff, plan.host & 0xff);
}

/** Servers in documentation space (RFC 5737, RFC 3849): nothing real is addressed. */
function serverAddress(plan: FlowPlan): Uint8Array {
  const n = plan.server + 10;
  switch (plan.kind) {
    case FlowKind.Tls:
      return plan.ipv6 ? ipv6Address(0x2001_0db8, 0x0100_0000, 0, n) : Uint8Array.of(203, 0, 113, n);
    case FlowKind.Call:
      return plan.ipv6 ? ipv6Address(0x2001_0db8, 0x0200_0000, 0, n) : Uint8Array.of(198, 51, 100, n);
    case FlowKind.Dns:
      return plan.ipv6 ? DNS_SERVER_V6 : DNS_SERVER_V4;
  }
}

/** A flow being written: its script, position and the per-direction header state. */
class OpenFlow {
  next = 0;
  nextUs: number;
  readonly index: number;
  readonly tcp: boolean;
  /** [down, up] (indexed by script.up). */
  readonly specs: [TcpFrameSpec, TcpFrameSpec];
  readonly isn: [number, number];
  readonly tsClock: [number, number];
  readonly lastTsVal: [number, number] = [0, 0];
  readonly rtpSeq: [number, number];
  readonly ssrc: [number, number];
  readonly dnsId: number;
  readonly dnsLabel: number;

  constructor(
    readonly plan: FlowPlan,
    readonly script: FlowScript,
    startUs: number,
    rng: Prng,
  ) {
    this.index = plan.index;
    this.nextUs = startUs;
    this.tcp = plan.kind === FlowKind.Tls;
    const client = clientAddress(plan);
    const server = serverAddress(plan);
    const mac = clientMac(plan);
    const flowLabel = plan.ipv6 ? rng.int(1, 0xfffff) : 0;
    // Calls are marked Expedited Forwarding (DSCP 46) as voice apps request; the rest best effort.
    const trafficClass = plan.kind === FlowKind.Call ? 46 << 2 : 0;
    const base = { flowLabel, trafficClass, payloadLength: 0, seq: 0, ack: 0, flags: 0, window: 0, options: new Uint8Array(0) };
    const up: TcpFrameSpec = {
      ...base,
      srcMac: mac,
      dstMac: GATEWAY_MAC,
      srcIp: client,
      dstIp: server,
      srcPort: plan.clientPort,
      dstPort: plan.serverPort,
      ttl: 64,
      ipId: rng.int(0, 0xffff),
      window: CLIENT_WINDOW,
    };
    const down: TcpFrameSpec = {
      ...base,
      srcMac: GATEWAY_MAC,
      dstMac: mac,
      srcIp: server,
      dstIp: client,
      srcPort: plan.serverPort,
      dstPort: plan.clientPort,
      ttl: rng.int(44, 58), // 64 less the hops from the server
      ipId: rng.int(0, 0xffff),
      window: SERVER_WINDOW,
    };
    this.specs = [down, up];
    this.isn = [rng.nextUint32(), rng.nextUint32()];
    this.tsClock = [rng.nextUint32(), rng.nextUint32()];
    this.rtpSeq = [rng.int(0, 0xffff), rng.int(0, 0xffff)];
    this.ssrc = [rng.nextUint32(), rng.nextUint32()];
    this.dnsId = rng.int(0, 0xffff);
    this.dnsLabel = rng.nextUint32();
  }
}

const synOptions = new Uint8Array(20);
const tsOptions = new Uint8Array(12);

/** SYN options as Linux sends them: MSS, SACK permitted, timestamps, NOP, window scale. */
function fillSynOptions(mss: number, tsVal: number, tsEcr: number, windowScale: number): Uint8Array {
  synOptions.set([2, 4, mss >>> 8, mss & 0xff, 4, 2, 8, 10], 0);
  putU32(synOptions, 8, tsVal);
  putU32(synOptions, 12, tsEcr);
  synOptions.set([1, 3, 3, windowScale], 16);
  return synOptions;
}

/** NOP, NOP, timestamps: on every segment after the SYNs, hence MSS 1448 rather than 1460. */
function fillTsOptions(tsVal: number, tsEcr: number): Uint8Array {
  tsOptions[0] = 1;
  tsOptions[1] = 1;
  tsOptions[2] = 8;
  tsOptions[3] = 10;
  putU32(tsOptions, 4, tsVal);
  putU32(tsOptions, 8, tsEcr);
  return tsOptions;
}

function putU32(out: Uint8Array, at: number, value: number): void {
  out[at] = (value >>> 24) & 0xff;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

/** Builds the frame of the flow's current packet into `frame`; returns its length. */
function buildFrame(flow: OpenFlow, frame: Uint8Array, timeUs: number): number {
  const s = flow.script;
  const i = flow.next;
  const dir = s.up[i]!;
  const spec = flow.specs[dir]!;
  const length = s.payloadLength[i]!;
  const variant = (flow.plan.seed + Math.imul(i, 0x9e3779b1)) >>> 0;
  spec.payloadLength = length;
  spec.ipId = (spec.ipId + 1) & 0xffff;

  if (flow.tcp) {
    const flags = s.flags[i]!;
    const other = dir ^ 1;
    const tsVal = (flow.tsClock[dir]! + Math.floor(timeUs / 1000)) >>> 0;
    flow.lastTsVal[dir] = tsVal;
    const tsEcr = flags & TCP_ACK ? flow.lastTsVal[other]! : 0;
    const mss = flow.plan.ipv6 ? 1440 : 1460;
    spec.options =
      flags & TCP_SYN ? fillSynOptions(mss, tsVal, tsEcr, dir ? CLIENT_WINDOW_SCALE : SERVER_WINDOW_SCALE) : fillTsOptions(tsVal, tsEcr);
    // SYN segments carry the unscaled window (scaling applies only after the handshake).
    spec.window = flags & TCP_SYN ? 65535 : dir ? CLIENT_WINDOW : SERVER_WINDOW;
    spec.seq = (flow.isn[dir]! + s.seqRel[i]!) >>> 0;
    spec.ack = flags & TCP_ACK ? (flow.isn[other]! + s.ackRel[i]!) >>> 0 : 0;
    spec.flags = flags;
    const at = tcpPayloadOffset(spec);
    switch (s.payloadKind[i]) {
      case PayloadKind.ClientHello:
        writeClientHello(frame, at, variant);
        break;
      case PayloadKind.ServerFirst:
        writeServerFirstSegment(frame, at, length, variant);
        break;
      case PayloadKind.ClientFinished:
        writeClientFinished(frame, at, length, variant);
        break;
      case PayloadKind.ApplicationData:
        writeApplicationData(frame, at, length, variant);
        break;
      default:
        break;
    }
    return writeTcpFrame(frame, spec);
  }

  const at = udpPayloadOffset(spec);
  switch (s.payloadKind[i]) {
    case PayloadKind.DnsQuery:
      writeDnsQuery(frame, at, flow.dnsId, flow.dnsLabel, flow.plan.ipv6);
      break;
    case PayloadKind.DnsResponse:
      writeDnsResponse(frame, at, flow.dnsId, flow.dnsLabel, flow.plan.ipv6);
      break;
    default: {
      const seq = flow.rtpSeq[dir]!;
      flow.rtpSeq[dir] = (seq + 1) & 0xffff;
      // 48 kHz clock, 20 ms frames: the RTP timestamp advances 960 per packet.
      writeRtp(frame, at, length, seq, Math.imul(seq, 960) >>> 0, flow.ssrc[dir]!, variant);
    }
  }
  return writeUdpFrame(frame, spec);
}

/** Streams the capture to `sink` (pcapng bytes, in order) and returns what was written. */
export function writeSyntheticCapture(sink: ByteSink, options: SyntheticCaptureOptions): SyntheticCaptureSummary {
  const baseUs = options.baseTimeUs ?? DEFAULT_BASE_TIME_US;
  const plans = planCapture(options);
  const starts = [...plans].sort((a, b) => a.startUs - b.startUs || a.index - b.index);
  const writer = new PcapngWriter(sink, {
    reuseChunk: options.reuseChunk ?? false,
    userApplication: `Cumma synthetic capture v${GENERATOR_VERSION}`,
  });
  const iface = writer.addInterface({ linkType: LINKTYPE_ETHERNET, snapLen: 262144, name: 'synthetic0' });
  const frame = new Uint8Array(65536);
  const heap = new FlowHeap<OpenFlow>();

  const summary: SyntheticCaptureSummary = {
    packets: 0,
    flows: plans.length,
    tcpFlows: plans.filter((p) => p.kind === FlowKind.Tls).length,
    udpFlows: plans.filter((p) => p.kind !== FlowKind.Tls).length,
    callFlows: plans.filter((p) => p.kind === FlowKind.Call).length,
    dnsFlows: plans.filter((p) => p.kind === FlowKind.Dns).length,
    ipv6Flows: plans.filter((p) => p.ipv6).length,
    frameBytes: 0,
    fileBytes: 0,
    firstUs: 0,
    lastUs: 0,
    maxOpenFlows: 0,
    meanOpenFlows: 0,
  };
  let openSum = 0;
  let nextStart = 0;

  for (;;) {
    const top = heap.peek();
    const starting = starts[nextStart];
    if (starting !== undefined && (top === undefined || baseUs + starting.startUs <= top.nextUs)) {
      const rng = new Prng(starting.seed);
      const script = buildScript(starting.kind, starting.packets, starting.ipv6, rng);
      heap.push(new OpenFlow(starting, script, baseUs + starting.startUs, rng));
      nextStart++;
      continue;
    }
    if (top === undefined) break;

    const timeUs = top.nextUs;
    const length = buildFrame(top, frame, timeUs);
    writer.writePacket(iface, timeUs, frame.subarray(0, length));
    summary.packets++;
    summary.frameBytes += length;
    if (summary.packets === 1) summary.firstUs = timeUs;
    summary.lastUs = timeUs;
    summary.maxOpenFlows = Math.max(summary.maxOpenFlows, heap.size);
    openSum += heap.size;

    top.next++;
    if (top.next < top.script.count) {
      top.nextUs = baseUs + top.plan.startUs + top.script.timeUs[top.next]!;
      heap.updateTop();
    } else {
      heap.pop();
    }
  }
  writer.flush();
  summary.fileBytes = writer.bytesWritten;
  summary.meanOpenFlows = summary.packets > 0 ? openSum / summary.packets : 0;
  return summary;
}

/**
 * Writes the capture to `path` through a temporary file renamed at the end, so an interrupted
 * run never leaves a truncated file where a cache would trust it.
 */
export function writeSyntheticCaptureFile(path: string, options: SyntheticCaptureOptions): SyntheticCaptureSummary {
  // A run stopped while writing (Ctrl-C during the bench's first run) left its half of a
  // 441 MB file behind: swept here, as the agent sweeps its own.
  removeStaleTemporaries(path);
  const temporary = `${path}.${process.pid}.tmp`;
  const file = createFileSink(temporary);
  try {
    let summary: SyntheticCaptureSummary;
    try {
      summary = writeSyntheticCapture(file.sink, { ...options, reuseChunk: true });
    } finally {
      file.close();
    }
    renameSync(temporary, path);
    return summary;
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
