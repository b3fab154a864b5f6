/**
 * Renders a traffic script into a pcapng capture: one discrete-event simulation of every
 * connection over a shared path (links.ts), packets written to the PcapngWriter as the clock
 * reaches their capture time — so in time order, and without holding the capture in memory:
 * only the packets in flight and each open connection's state are held — each with the truth
 * comment, and the dialog-level truth sidecar written beside it.
 *
 * Deterministic: the same script, conditions, seed and start time give a byte-identical file
 * (own seeded PRNG, integer µs clock, ties broken by scheduling order).
 */
import { basename } from 'node:path';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { removeStaleTemporaries, unguessableTemporary } from '../../common/stale-temporaries';
import { LINKTYPE_ETHERNET } from '../../capture/link-layer';
import { ByteSink, createFileSink, PcapngWriter } from '../../capture/pcapng-writer';
import { ScriptMessage, TrafficScript } from '../traffic-script';
import { drawLinkAddresses } from './addresses';
import { CaptureSink, NetworkCounters } from './capture-sink';
import { EventQueue } from './event-queue';
import { SharedLinks } from './links';
import { NetworkConditions, validateNetworkConditions } from './network-conditions';
import { deriveSeed, Prng } from '../../common/prng';
import { checkScript } from './script-check';
import { SimulationContext } from './simulation-context';
import { TcpConnection } from './tcp-connection';
import { TruthFlow, TruthRecord, TruthTable, truthJsonl, truthSidecarPath } from '../../truth/truth-sidecar';
import { UdpConnection } from './udp-connection';

/** 2024-01-15T10:00:00Z: a fixed default start keeps files reproducible. */
export const DEFAULT_START_US = 1_705_312_800_000_000;

/** Written into the section header (Wireshark's capture file properties show it). */
const USER_APPLICATION = 'Cumma simulator';
/** Largest frame: a full-sized TCP segment or datagram in a 1500-byte MTU, plus Ethernet. */
const FRAME_BUFFER_BYTES = 2048;

export interface RenderOptions {
  readonly conditions: NetworkConditions;
  /** Unsigned 32-bit integer. */
  readonly seed: number;
  /** Absolute time of the script's 0, µs since the Unix epoch (default DEFAULT_START_US). */
  readonly startUs?: number;
  /**
   * Whether TCP data segments from servers can be lost (default false; datagrams always can).
   * A downlink loss shows in the capture as a gap, then the repair — as in real captures, and
   * Wireshark flags both ("previous segment not captured", out-of-order, duplicate ACKs).
   * Off by default so that simulated captures open without expert warnings.
   */
  readonly tcpLoss?: boolean;
}

export interface RenderFileOptions extends RenderOptions {
  /** The pcapng to write; the truth goes to `<outputPath>.truth.jsonl`. */
  readonly outputPath: string;
  /**
   * Asked just before the capture is renamed over `outputPath`: undefined when what is there now
   * may be replaced, else why not (nothing is then written, and the error says why).
   */
  readonly mayReplace?: (path: string) => string | undefined;
}

export interface RenderSummary {
  readonly packets: number;
  /** Captured packets sent by the phone / by servers. */
  readonly packetsUp: number;
  readonly packetsDown: number;
  /** Sum of frame lengths. */
  readonly frameBytes: number;
  readonly fileBytes: number;
  /** First and last packet, µs since the Unix epoch (0 when no packet). */
  readonly firstUs: number;
  readonly lastUs: number;
  readonly connections: number;
  readonly tcpConnections: number;
  readonly udpConnections: number;
  /** Random losses after the phone (captured) and before it (absent from the capture). */
  readonly lostUp: number;
  readonly lostDown: number;
  /** Packets dropped by a full bottleneck buffer: the script sent faster than the link carries. */
  readonly queueDropsUp: number;
  readonly queueDropsDown: number;
  readonly retransmissions: number;
  readonly timeouts: number;
  readonly truthRecords: number;
  readonly conditions: NetworkConditions;
  readonly seed: number;
}

export interface RenderResult {
  readonly summary: RenderSummary;
  readonly truth: readonly TruthRecord[];
}

interface SimulatedConnection {
  open(nowUs: number): void;
  write(message: ScriptMessage, nowUs: number): void;
  close(nowUs: number): void;
}

function checkOptions(options: RenderOptions): number {
  validateNetworkConditions(options.conditions);
  if (!Number.isInteger(options.seed) || options.seed < 0 || options.seed > 0xffffffff) {
    throw new RangeError(`seed must be an integer in 0..4294967295, got ${String(options.seed)}`);
  }
  const startUs = options.startUs ?? DEFAULT_START_US;
  if (!Number.isSafeInteger(startUs) || startUs < 0) throw new RangeError(`startUs must be a non-negative integer, got ${String(startUs)}`);
  return startUs;
}

/**
 * Renders `script` as pcapng bytes handed to `sink` (in order); `captureName` is what the truth
 * records name as their capture. Returns the summary and the truth records. `sinkCopies`: the
 * sink is done with each chunk when it returns (a synchronous file write), so the writer may
 * reuse its chunk (see PcapngWriterOptions.reuseChunk).
 */
export function renderCaptureToSink(script: TrafficScript, options: RenderOptions, sink: ByteSink, captureName: string, sinkCopies = false): RenderResult {
  const startUs = checkOptions(options);
  const checked = checkScript(script);
  const { conditions, seed } = options;

  const writer = new PcapngWriter(sink, { userApplication: USER_APPLICATION, reuseChunk: sinkCopies });
  const iface = writer.addInterface({ linkType: LINKTYPE_ETHERNET, name: 'sim0' });
  const truth = new TruthTable(captureName);
  const flows: TruthFlow[] = checked.connections.map((c, i) => ({
    l4: c.kind === 'tls' ? 'tcp' : 'udp',
    client: { ip: checked.addresses[i]!.client.text, port: c.client.port },
    server: { ip: checked.addresses[i]!.server.text, port: c.server.port },
  }));
  const counters: NetworkCounters = { retransmissions: 0, timeouts: 0 };
  const stats = { packets: 0, packetsUp: 0, frameBytes: 0, firstUs: 0, lastUs: 0 };
  const captureSink: CaptureSink = {
    frame: new Uint8Array(FRAME_BUFFER_BYTES),
    capture(connectionIndex, timeUs, up, tag, length) {
      const absoluteUs = startUs + timeUs;
      writer.writePacket(iface, absoluteUs, captureSink.frame.subarray(0, length), length, truth.comment(tag));
      truth.add(flows[connectionIndex]!, tag, up ? 'up' : 'down', absoluteUs, length);
      if (stats.packets === 0) stats.firstUs = absoluteUs;
      stats.lastUs = absoluteUs;
      stats.packets++;
      if (up) stats.packetsUp++;
      stats.frameBytes += length;
    },
  };

  const queue = new EventQueue();
  const links = new SharedLinks(conditions);
  const ctx: SimulationContext = {
    queue,
    links,
    sink: captureSink,
    counters,
    conditions,
    tcpLoss: options.tcpLoss ?? false,
    macs: drawLinkAddresses(new Prng(deriveSeed(seed ^ 0x6d616373, 0))),
  };

  const simulated: SimulatedConnection[] = checked.connections.map((c, i) => {
    // Each connection draws from its own stream, keyed by its id: adding a connection to a
    // script leaves the others' ISNs, handshake sizes and losses as they were.
    const connectionSeed = deriveSeed(seed, c.id);
    if (c.kind === 'tls') return new TcpConnection(i, c, checked.addresses[i]!, ctx, connectionSeed);
    const udp = new UdpConnection(i, c, checked.addresses[i]!, ctx, connectionSeed);
    return { open: () => undefined, write: (m, t) => udp.write(m, t), close: () => undefined };
  });

  // Opens and closes are few: schedule them all now, ordered by time then script order, so a
  // connection opened at the same µs as its first message is open before the message.
  const order = checked.connections.map((_, i) => i).sort((a, b) => checked.connections[a]!.openUs - checked.connections[b]!.openUs || a - b);
  for (const i of order) {
    const c = checked.connections[i]!;
    queue.at(c.openUs, () => simulated[i]!.open(c.openUs));
  }
  for (const i of order) {
    const c = checked.connections[i]!;
    if (c.closeUs !== undefined) {
      const closeUs = c.closeUs;
      queue.at(closeUs, () => simulated[i]!.close(closeUs));
    }
  }
  // Messages can be many: one pending event walks through them in script order.
  const messages = script.messages;
  const scheduleMessage = (index: number): void => {
    const message = messages[index];
    if (message === undefined) return;
    queue.at(message.atUs, () => {
      simulated[checked.byId.get(message.connection)!]!.write(message, message.atUs);
      scheduleMessage(index + 1);
    });
  };
  scheduleMessage(0);

  while (queue.runNext()) {
    // every action schedules its own follow-ups
  }
  writer.flush();

  const records = truth.records();
  const tcpConnections = checked.connections.filter((c) => c.kind === 'tls').length;
  return {
    truth: records,
    summary: {
      packets: stats.packets,
      packetsUp: stats.packetsUp,
      packetsDown: stats.packets - stats.packetsUp,
      frameBytes: stats.frameBytes,
      fileBytes: writer.bytesWritten,
      firstUs: stats.firstUs,
      lastUs: stats.lastUs,
      connections: checked.connections.length,
      tcpConnections,
      udpConnections: checked.connections.length - tcpConnections,
      lostUp: links.lostUp,
      lostDown: links.lostDown,
      queueDropsUp: links.queueDropsUp,
      queueDropsDown: links.queueDropsDown,
      retransmissions: counters.retransmissions,
      timeouts: counters.timeouts,
      truthRecords: records.length,
      conditions,
      seed,
    },
  };
}

/**
 * Renders `script` into `options.outputPath` and its truth sidecar. Both are written to
 * temporary files and renamed at the end, so an interrupted or failed run never leaves a
 * truncated capture where a cache or a test would trust it; temporaries of killed runs into the
 * same path are removed first (stale-temporaries.ts).
 */
export function renderCapture(script: TrafficScript, options: RenderFileOptions): RenderSummary {
  const capturePath = options.outputPath;
  const truthPath = truthSidecarPath(capturePath);
  // -o's folder may be writable by others (/tmp): a predictable temporary name would let them
  // plant a symbolic link there and have the capture written through it. The names are
  // unguessable and the files created exclusively, as the live sidecar's and train's are.
  const temporaryCapture = unguessableTemporary(capturePath);
  const temporaryTruth = unguessableTemporary(truthPath);
  removeStaleTemporaries(capturePath);
  removeStaleTemporaries(truthPath);
  const created: string[] = [];
  try {
    const file = createFileSink(temporaryCapture, { exclusive: true });
    created.push(temporaryCapture);
    let result: RenderResult;
    try {
      result = renderCaptureToSink(script, options, file.sink, basename(capturePath), true);
    } finally {
      file.close();
    }
    writeFileSync(temporaryTruth, truthJsonl(result.truth), { flag: 'wx' });
    created.push(temporaryTruth);
    // Checked by the caller before rendering, which may take a while: what was put at the path
    // since is refused now too, rather than renamed over.
    const refusal = options.mayReplace?.(capturePath);
    if (refusal !== undefined) throw new Error(refusal);
    renameSync(temporaryCapture, capturePath);
    renameSync(temporaryTruth, truthPath);
    return result.summary;
  } catch (error) {
    // Only what this run made: a temporary name already taken is someone else's file.
    for (const path of created) rmSync(path, { force: true });
    // The temporary names mean nothing to the user: name the files they asked for.
    if (error instanceof Error) error.message = error.message.replaceAll(temporaryCapture, capturePath).replaceAll(temporaryTruth, truthPath);
    throw error;
  }
}
