/**
 * `recordUsage`: records a traffic script as real, really encrypted traffic on the loopback
 * interface, captured by Wireshark's own engine (dumpcap), and writes it with ground truth.
 *
 * Order of events, and why:
 *  1. the script is checked and the servers bound first: the capture filter needs their ports,
 *     and listening sends no packet;
 *  2. dumpcap starts; probe datagrams go out until dumpcap has written one, so capture is known
 *     to be on before the first packet of the script;
 *  3. the script is replayed in real time (scaled by speed) and every send is stamped;
 *  4. a final probe is sent and awaited: everything sent before it has been handed to dumpcap;
 *     then SIGINT stops dumpcap, which flushes and exits 0;
 *  5. dumpcap's capture is rewritten with a truth comment on every packet, and the truth sidecar
 *     written; both appear atomically (temp file + rename).
 * dumpcap is killed on every error path, on SIGINT/SIGTERM/SIGHUP of this process (while a
 * recording runs), and at process exit; its `-a duration` autostop covers a SIGKILL of this process.
 */
import { createSocket, Socket as UdpSocket } from 'node:dgram';
import { accessSync, constants, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { captureOutputProblem } from '../capture/capture-output';
import { systemErrorWithCode } from '../common/system-error';
import { Packet, Transport } from '../capture/packet';
import { TrafficScript } from '../simulate/traffic-script';
import { createSelfSignedCertificate } from './certificate';
import { DumpcapCapture } from './dumpcap-capture';
import { DumpcapStats } from './dumpcap-diagnostics';
import { RecordError } from './errors';
import { keptAfterFailure } from './kept-capture';
import { LOOPBACK, LoopbackReplay, ReplayResult } from './loopback-replay';
import { PacketLabeller, liveTupleKeys, minStampGapUs } from './packet-labeller';
import { RealtimeClock } from './realtime-clock';
import { checkScript } from './script-check';
import { rewriteWithTruth } from './truth-rewriter';
import { truthJsonl } from '../truth/truth-sidecar';

export interface RecordOptions {
  readonly script: TrafficScript;
  /** The recording (pcapng); the truth goes to `${output}.truth.jsonl`. */
  readonly output: string;
  /** Replay this many times faster than the script's time (default 1: real time). */
  readonly speed?: number;
  /** Default 'dumpcap' (looked up on PATH). */
  readonly dumpcapPath?: string;
  /** Default 'openssl' (looked up on PATH). */
  readonly opensslPath?: string;
  /** Capture interface (default 'lo'); the servers always listen on 127.0.0.1. */
  readonly iface?: string;
  /** dumpcap's kernel buffer in MiB (default 64). */
  readonly bufferMiB?: number;
  /** The truth records' `capture` field (default: the output's file name). */
  readonly captureName?: string;
  /** Stops the recording (RECORD_INTERRUPTED) when aborted. */
  readonly signal?: AbortSignal;
  /**
   * While recording, SIGINT/SIGTERM/SIGHUP stop it (dumpcap ended, temp files removed) and the
   * promise rejects with RECORD_INTERRUPTED, instead of the process dying with dumpcap left
   * running. Default true.
   */
  readonly handleSignals?: boolean;
  /** How long dumpcap may take to start capturing, and to hand over the final probe (default 10 s). */
  readonly captureTimeoutMs?: number;
  /** How long after the script's end every byte must have arrived (default 10 s). */
  readonly deliveryTimeoutMs?: number;
  /** Progress lines for a human (the CLI prints them on stderr). */
  readonly onProgress?: (line: string) => void;
}

export interface RecordSummary {
  readonly output: string;
  readonly truthOutput: string;
  readonly speed: number;
  readonly scriptDurationUs: number;
  /** Wall time of the whole call, of the replay itself, and until capture was confirmed on. */
  readonly wallMs: number;
  readonly replayMs: number;
  readonly startupMs: number;
  readonly connections: number;
  readonly messages: number;
  /** Packets and bytes (original frame lengths) in the recording, every packet commented. */
  readonly packets: number;
  readonly bytes: number;
  readonly truthRecords: number;
  /** Probe packets and packets of no replayed connection, captured but left out. */
  readonly controlPackets: number;
  readonly foreignPackets: number;
  /** dumpcap's own report; `dropped` > 0 means the kernel buffer overflowed. */
  readonly dumpcap: DumpcapStats | undefined;
  /** Worst lateness of a send against its schedule. */
  readonly maxLateUs: number;
  /** Correction applied to the send stamps (≤ 0; see estimateClockOffsetUs). */
  readonly clockOffsetUs: number;
  /** Smallest stamp-to-capture gap seen (see minStampGapUs): the clock's margin when positive. */
  readonly stampGapUs: number | undefined;
  readonly tlsBytes: ReplayResult['tlsBytes'];
  readonly udpDatagrams: ReplayResult['udpDatagrams'];
  readonly udpEnlarged: number;
}

const DEFAULT_CAPTURE_TIMEOUT_MS = 10_000;
/** Probe payload lengths: they tell the start probe from the final one. */
const START_PROBE_BYTES = 8;
const END_PROBE_BYTES = 16;
const START_PROBE_EVERY_MS = 20;
const END_PROBE_EVERY_MS = 100;
/** Margin added to the expected run time for dumpcap's own autostop. */
const AUTOSTOP_MARGIN_S = 300;
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export async function recordUsage(options: RecordOptions): Promise<RecordSummary> {
  const startedMs = Date.now();
  const speed = options.speed ?? 1;
  const { script, output } = options;
  if (!(Number.isFinite(speed) && speed > 0)) throw new RecordError('RECORD_BAD_OPTION', `speed must be a positive number, got ${speed}`);
  checkOutput(output);
  checkScript(script);
  const truthOutput = `${output}.truth.jsonl`;
  const iface = options.iface ?? 'lo';
  const captureTimeoutMs = options.captureTimeoutMs ?? DEFAULT_CAPTURE_TIMEOUT_MS;
  const progress = options.onProgress ?? ((): void => undefined);

  const abort = new AbortController();
  const stopOn = (error: RecordError): void => {
    if (!abort.signal.aborted) abort.abort(error);
  };
  const onExternal = (): void => stopOn(new RecordError('RECORD_INTERRUPTED', 'recording interrupted: aborted by the caller'));
  if (options.signal?.aborted) onExternal();
  options.signal?.addEventListener('abort', onExternal, { once: true });
  const onSignal = (signal: NodeJS.Signals): void => stopOn(new RecordError('RECORD_INTERRUPTED', `recording interrupted by ${signal}`));
  const handleSignals = options.handleSignals ?? true;
  if (handleSignals) for (const signal of SIGNALS) process.on(signal, onSignal);

  const tempDir = mkdtempSync(join(tmpdir(), 'cumma-record-'));
  const rawCapture = join(tempDir, 'dumpcap.pcapng');
  const partialOutput = `${output}.partial-${process.pid}`;
  const partialTruth = `${truthOutput}.partial-${process.pid}`;
  let replay: LoopbackReplay | undefined;
  let control: UdpSocket | undefined;
  let capture: DumpcapCapture | undefined;
  /** Set while the recording is written out (OUT and its truth), after dumpcap has stopped. */
  let writing = false;
  try {
    const identity = await untilAborted(createSelfSignedCertificate(options.opensslPath ?? 'openssl', tempDir), abort.signal);
    replay = await LoopbackReplay.listen(identity);
    control = await bindControlSocket();
    const controlPort = control.address().port;
    const filter = `tcp port ${replay.tcpPort} or udp port ${replay.udpPort} or udp port ${controlPort}`;

    capture = new DumpcapCapture({
      dumpcapPath: options.dumpcapPath ?? 'dumpcap',
      iface,
      filter,
      outputPath: rawCapture,
      bufferMiB: options.bufferMiB ?? 64,
      autostopS: script.durationUs / 1e6 / speed + AUTOSTOP_MARGIN_S,
    });
    capture.onFailure(stopOn);
    await untilAborted(capture.spawned, abort.signal);
    const probe = control;
    const isProbe = (bytes: number) => (packet: Packet): boolean =>
      packet.transport === Transport.Udp && packet.srcPort === controlPort && packet.dstPort === controlPort && packet.payloadLength === bytes;
    const sendProbe = (bytes: number) => (): void => probe.send(Buffer.alloc(bytes), controlPort, LOOPBACK);
    await untilAborted(
      capture.waitForPacket(isProbe(START_PROBE_BYTES), sendProbe(START_PROBE_BYTES), START_PROBE_EVERY_MS, captureTimeoutMs, 'its start probe'),
      abort.signal,
    );
    const startupMs = Date.now() - startedMs;
    progress(`capturing on ${iface} (dumpcap pid ${capture.pid}, filter '${filter}'); replaying ${script.connections.length} connections, ${script.messages.length} messages over ${(script.durationUs / 1e6 / speed).toFixed(1)} s`);

    // First packet of each tuple, as dumpcap wrote it: evidence for the clock check.
    const firstSeenUs = new Map<string, number>();
    capture.observe((packet) => {
      const keys = liveTupleKeys(packet);
      if (keys === undefined) return;
      for (const key of keys) if (!firstSeenUs.has(key)) firstSeenUs.set(key, packet.timestampUs);
    });

    const replayStartMs = Date.now();
    const result = await replay.run(script, {
      speed,
      clock: RealtimeClock.calibrate(),
      signal: abort.signal,
      ...(options.deliveryTimeoutMs !== undefined ? { deliveryTimeoutMs: options.deliveryTimeoutMs } : {}),
    });
    const replayMs = Date.now() - replayStartMs;
    await untilAborted(
      capture.waitForPacket(isProbe(END_PROBE_BYTES), sendProbe(END_PROBE_BYTES), END_PROBE_EVERY_MS, captureTimeoutMs, 'its final probe'),
      abort.signal,
    );
    progress('stopping dumpcap');
    const stats = await capture.stop();
    // A signal that came while dumpcap was stopping still means: do not write the recording.
    if (abort.signal.aborted) throw abort.signal.reason;

    const stampGapUs = minStampGapUs(result.connections, firstSeenUs);
    const clockOffsetUs = Math.min(0, stampGapUs ?? 0);
    const labeller = new PacketLabeller(result.connections, { controlPort, clockOffsetUs });
    writing = true;
    const rewritten = writingOutput(output, () => rewriteWithTruth(rawCapture, partialOutput, labeller, options.captureName ?? basename(output)));
    writingOutput(truthOutput, () => writeFileSync(partialTruth, truthJsonl(rewritten.truth)));
    // OUT was checked before recording, seconds or an hour ago: what was put there since (a
    // capture of another tool saved under that name, notes) is refused now as it would have been
    // then, rather than renamed over; the recording is kept (keptAfterFailure).
    const changed = captureOutputProblem(output, 'record');
    if (changed !== undefined) throw new RecordError('RECORD_OUTPUT', `${changed} (it changed while recording)`);
    writingOutput(output, () => renameSync(partialOutput, output));
    writingOutput(truthOutput, () => renameSync(partialTruth, truthOutput));
    writing = false;

    return {
      output,
      truthOutput,
      speed,
      scriptDurationUs: script.durationUs,
      wallMs: Date.now() - startedMs,
      replayMs,
      startupMs,
      connections: result.connections.length,
      messages: script.messages.length,
      packets: rewritten.packets,
      bytes: rewritten.bytes,
      truthRecords: rewritten.truth.length,
      controlPackets: rewritten.control,
      foreignPackets: rewritten.foreign,
      dumpcap: stats,
      maxLateUs: result.maxLateUs,
      clockOffsetUs,
      stampGapUs,
      tlsBytes: result.tlsBytes,
      udpDatagrams: result.udpDatagrams,
      udpEnlarged: result.udpEnlarged,
    };
  } catch (error) {
    // An abort surfaces as whatever the interrupted step threw; report why it was aborted.
    const failure = abort.signal.aborted && abort.signal.reason instanceof RecordError ? abort.signal.reason : error;
    // A write that failed (a full disk, a file-size limit, an I/O error, OUT's folder removed)
    // costs the recording its truth, never what dumpcap captured: that is kept, and named.
    const saved = capture?.saveFailure;
    const stoppedEarly = saved !== undefined && failure === capture?.error;
    if (failure instanceof RecordError && failure.code === 'RECORD_OUTPUT' && (writing || stoppedEarly)) {
      throw keptAfterFailure(failure, rawCapture, tempDir, { output, packets: stoppedEarly ? saved.packets : (capture?.packets ?? 0), stoppedEarly });
    }
    throw failure;
  } finally {
    capture?.kill();
    await capture?.exited();
    await replay?.close();
    control?.close();
    if (handleSignals) for (const signal of SIGNALS) process.removeListener(signal, onSignal);
    options.signal?.removeEventListener('abort', onExternal);
    rmSync(tempDir, { recursive: true, force: true });
    rmSync(partialOutput, { force: true });
    rmSync(partialTruth, { force: true });
  }
}

/**
 * Refuses an output path that cannot be written, or whose file the recording must not replace
 * (capture-output.ts: only a pcapng capture or an empty file is), before anything starts.
 */
function checkOutput(output: string): void {
  const problem = captureOutputProblem(output, 'record');
  if (problem !== undefined) throw new RecordError('RECORD_OUTPUT', problem);
  const dir = dirname(output);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new RecordError('RECORD_OUTPUT', `cannot write '${output}': directory '${dir}' does not exist`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new RecordError('RECORD_OUTPUT', `cannot write '${output}': no write permission on directory '${dir}'`);
  }
  try {
    if (statSync(output).isDirectory()) throw new RecordError('RECORD_OUTPUT', `cannot write '${output}': it is a directory`);
  } catch (error) {
    if (error instanceof RecordError) throw error;
    // does not exist yet: fine
  }
}

/**
 * Runs one output step, turning file-system errors into RECORD_OUTPUT naming `path`, the file
 * the user asked for (never the `.partial-PID` file written through, removed on the way out).
 */
function writingOutput<T>(path: string, write: () => T): T {
  try {
    return write();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('E')) {
      throw new RecordError('RECORD_OUTPUT', `cannot write ${path}: ${systemErrorWithCode(error)}`);
    }
    throw error;
  }
}

function bindControlSocket(): Promise<UdpSocket> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, LOOPBACK, () => {
      socket.removeListener('error', reject);
      // The probes arrive here too; nothing is to be done with them.
      socket.on('message', () => undefined);
      resolve(socket);
    });
  });
}

/** Resolves or rejects with `promise`, or rejects with the abort reason first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
