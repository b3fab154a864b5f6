/**
 * Runs dumpcap on one interface and watches what it writes, packet by packet.
 *
 * Why dumpcap writes to a pipe (`-w -`) that we save, rather than straight to a file: measured
 * with dumpcap 4.0 on lo,
 *   - "Capturing on 'Loopback: lo'" is printed *before* the device is opened (it is printed even
 *     when opening then fails for lack of permission), and the output file appears before
 *     packets are captured: neither proves that capture has started;
 *   - libpcap hands packets over in ring-buffer blocks, about every 250 ms, and on SIGINT the
 *     packets of the last, partly filled block are lost (20 datagrams sent 0–200 ms before
 *     SIGINT: 0–4 captured; 300 ms before: all 20).
 * Reading the stream live lets the recorder send probe packets and wait until dumpcap has
 * really written one: once at the start (capture is on) and once at the end (everything sent
 * before the probe is on disk), instead of guessing delays.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, truncateSync, writeSync } from 'node:fs';
import { CaptureReader } from '../capture/capture-reader';
import { systemErrorWithCode } from '../common/system-error';
import { CaptureError } from '../capture/errors';
import { Packet } from '../capture/packet';
import { DumpcapStats, explainDumpcapFailure, explainSpawnFailure, meaningfulStderr, parseDumpcapStats } from './dumpcap-diagnostics';
import { RecordError } from './errors';

export interface DumpcapOptions {
  readonly dumpcapPath: string;
  /** Interface name, e.g. 'lo'. */
  readonly iface: string;
  /** libpcap capture filter. */
  readonly filter: string;
  /** Where the captured pcapng stream is saved. */
  readonly outputPath: string;
  /** Kernel capture buffer (dumpcap -B); large transfers at high speed overrun the 2 MiB default. */
  readonly bufferMiB: number;
  /**
   * dumpcap stops by itself after this many seconds (-a duration): the last guard against a
   * capture left running if this process dies without a chance to stop it (SIGKILL).
   */
  readonly autostopS: number;
}

/** Called for every packet dumpcap writes, in file order, while capture runs. */
export type PacketObserver = (packet: Packet) => void;

/** What the output file holds after saving it failed: its complete blocks, cut back to them. */
export interface SavedPart {
  readonly bytes: number;
  readonly packets: number;
}

/** How long dumpcap may take to exit after SIGINT before it is killed. */
const STOP_TIMEOUT_MS = 10_000;
/** Stderr kept for diagnostics; dumpcap's messages are short. */
const MAX_STDERR = 16_384;

export class DumpcapCapture {
  private readonly child: ChildProcess;
  private readonly reader = new CaptureReader();
  private readonly observers = new Set<PacketObserver>();
  private readonly failureListeners = new Set<(error: RecordError) => void>();
  private readonly closed: Promise<void>;
  private fd: number | undefined;
  private readonly outputPath: string;
  /** Packets in the complete blocks read from the stream so far. */
  private packetsRead = 0;
  private savedPart: SavedPart | undefined;
  private stderr = '';
  private exit: number | string | null | undefined;
  private stopping = false;
  private failure: RecordError | undefined;
  private readonly exitGuard = (): void => this.kill();

  /** Resolves once dumpcap runs, rejects when it cannot be started (missing, not executable). */
  readonly spawned: Promise<void>;

  constructor(options: DumpcapOptions) {
    this.outputPath = options.outputPath;
    this.fd = openSync(options.outputPath, 'w');
    const args = [
      '-i', options.iface,
      // No promiscuous mode: useless on lo, and it would need CAP_NET_ADMIN on top of CAP_NET_RAW.
      '-p',
      '-B', String(options.bufferMiB),
      '-f', options.filter,
      '-a', `duration:${Math.ceil(options.autostopS)}`,
      '-w', '-',
    ];
    // detached: a terminal's Ctrl-C must reach only this process, which then stops dumpcap in
    // order (last packets flushed) instead of racing it.
    this.child = spawn(options.dumpcapPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    process.on('exit', this.exitGuard);
    this.spawned = new Promise((resolve, reject) => {
      this.child.once('spawn', resolve);
      this.child.once('error', (error: NodeJS.ErrnoException) => {
        const failure = explainSpawnFailure(error, options.dumpcapPath);
        if (this.child.pid === undefined) {
          // Never started: no 'close' will clean up after it.
          process.removeListener('exit', this.exitGuard);
          this.closeFile();
        }
        this.fail(failure);
        reject(failure);
      });
    });
    // Avoid an unhandled rejection when the caller only learns of the failure through onFailure.
    this.spawned.catch(() => undefined);
    this.child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-MAX_STDERR);
    });
    this.closed = new Promise((resolve) => {
      this.child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        this.exit = signal ?? code;
        process.removeListener('exit', this.exitGuard);
        this.closeFile();
        if (!this.stopping || code !== 0) this.fail(explainDumpcapFailure(this.stderr, this.exit, options.iface));
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined && this.child.pid !== undefined;
  }

  /** The first failure seen (early exit, unreadable stream), if any. */
  get error(): RecordError | undefined {
    return this.failure;
  }

  /** Packets dumpcap has handed over so far (in complete blocks). */
  get packets(): number {
    return this.packetsRead;
  }

  /**
   * Set once saving the stream to the output file failed (a full disk, a file-size limit, an I/O
   * error): what the file was cut back to. Capture stopped then, with a RECORD_OUTPUT failure.
   */
  get saveFailure(): SavedPart | undefined {
    return this.savedPart;
  }

  /** Registers a packet observer; returns a function that removes it. */
  observe(observer: PacketObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** Called once if dumpcap fails or exits before stop(); immediately if it already has. */
  onFailure(listener: (error: RecordError) => void): void {
    if (this.failure) listener(this.failure);
    else this.failureListeners.add(listener);
  }

  /**
   * Waits until dumpcap has written a packet that `match` accepts, calling `poke` (which should
   * send such a packet) at once and every `pokeMs` until then.
   */
  waitForPacket(match: (packet: Packet) => boolean, poke: () => void, pokeMs: number, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (error?: RecordError): void => {
        if (settled) return;
        settled = true;
        clearInterval(pokes);
        clearTimeout(deadline);
        unobserve();
        if (error) reject(error);
        else resolve();
      };
      const unobserve = this.observe((packet) => {
        if (match(packet)) finish();
      });
      const pokes = setInterval(poke, pokeMs);
      const deadline = setTimeout(() => {
        const said = meaningfulStderr(this.stderr);
        finish(new RecordError('RECORD_CAPTURE_TIMEOUT', `dumpcap did not capture ${what} within ${timeoutMs} ms${said ? ` (dumpcap said: ${said})` : ''}`));
      }, timeoutMs);
      this.onFailure((error) => finish(error));
      if (!settled) poke();
    });
  }

  /**
   * Stops capture with SIGINT (dumpcap then writes its last blocks and statistics) and waits
   * for it to exit. Throws the failure if dumpcap had already failed or does not exit with 0.
   */
  async stop(): Promise<DumpcapStats | undefined> {
    if (this.exit === undefined && !this.stopping) {
      this.stopping = true;
      this.child.kill('SIGINT');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.closed;
      clearTimeout(timer);
    } else {
      await this.closed;
    }
    if (this.failure) throw this.failure;
    return parseDumpcapStats(this.stderr);
  }

  /** Ends dumpcap at once, whatever state it is in; safe to call on every error path. */
  kill(): void {
    if (this.exit !== undefined || this.child.pid === undefined) return;
    this.stopping = true;
    try {
      this.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }

  /** Waits for the process to be gone (after kill() or stop()). */
  async exited(): Promise<void> {
    if (this.child.pid === undefined) return;
    await this.closed;
  }

  private onData(chunk: Buffer): void {
    if (this.fd !== undefined) {
      try {
        let done = 0;
        while (done < chunk.length) done += writeSync(this.fd, chunk, done, chunk.length - done);
      } catch (error) {
        // Thrown from a stream's 'data' handler, it ended the process with a stack trace, dumpcap
        // killed by the exit guard and the working files left behind.
        this.saveFailed(error);
        return;
      }
    }
    if (this.failure) return;
    try {
      this.reader.append(chunk);
      for (let packet = this.reader.next(); packet !== undefined; packet = this.reader.next()) {
        this.packetsRead++;
        for (const observer of this.observers) observer(packet);
      }
    } catch (error) {
      if (!(error instanceof CaptureError)) throw error;
      this.fail(new RecordError('RECORD_DUMPCAP_FAILED', `dumpcap wrote a stream the capture reader rejects: ${error.message}`));
      this.kill();
    }
  }

  /**
   * The stream cannot be saved any more: capture stops at once (nothing more can be kept), and the
   * file is cut back to the end of its last complete block, so that what it holds is a valid
   * capture rather than one ending in half a block. The reader was given every chunk written
   * before this one, so its next offset is that end (after a failure of the reader, the start of
   * the block it refused: a block boundary all the same).
   */
  private saveFailed(error: unknown): void {
    const bytes = this.reader.nextOffset;
    this.closeFile();
    let kept = bytes;
    try {
      truncateSync(this.outputPath, bytes);
    } catch {
      kept = 0; // Not cut back: not to be offered as a capture.
    }
    this.savedPart = { bytes: kept, packets: kept === 0 ? 0 : this.packetsRead };
    this.fail(new RecordError('RECORD_OUTPUT', `cannot save what dumpcap captures to ${this.outputPath}: ${systemErrorWithCode(error)}`));
    this.kill();
  }

  private fail(error: RecordError): void {
    if (this.failure) return;
    this.failure = error;
    for (const listener of this.failureListeners) listener(error);
    this.failureListeners.clear();
  }

  private closeFile(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
