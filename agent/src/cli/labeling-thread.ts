/**
 * The reading thread's side of `cumma classify`'s labelling thread (labeling-protocol.ts). All
 * of it is synchronous, because the capture is read synchronously: verdicts are collected from
 * the port as they come (receiveMessageOnPort), and the reader blocks on a shared counter when
 * too many batches wait, so memory stays bounded when labelling is the slower half.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel, MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { packDialogBatch, SpareBuffers, transferablesOf } from '../pipeline/dialog-batch';
import { AwaitingVerdicts, DialogIdentity, DialogToLabel } from '../pipeline/dialog-labeler';
import { ModelHeader } from '../pipeline/usage-model';
import { SegmentationGaps } from '../segment/dialog';
import { ALIVE, COUNTERS, EVENTS, FAILED, FromLabeler, LabelingWorkerData, ToLabeler } from './labeling-protocol';

/** Batches (of up to 256 dialogs) posted and not yet answered before the reader waits. */
const MAX_IN_FLIGHT = 32;
/** A labeller that answers nothing for this long has hung (loading the model runs no timer). */
const STALL_MS = 60_000;
/**
 * Once the model is loaded, a labeller whose heartbeat (labeling-protocol.ts, ALIVE) has not
 * moved for this long is gone: answering a batch takes milliseconds, and the heartbeat moves
 * between batches.
 */
const SILENCE_MS = 10_000;
/** How often a waiting reader looks at the heartbeat. */
const LOOK_MS = 500;
const BUNDLE = 'classify-labeler.js';
const WORKER_YOUNG_GENERATION_MB = 8;

/**
 * Receives verdicts as they come (DialogLabeler.recordsOf makes the records, given the model's
 * header); `dialogOf` names each handle's dialog.
 */
export type VerdictSink = (verdicts: Float64Array, dialogOf: (handle: number) => DialogIdentity, header: ModelHeader) => void;

export class LabelingThread {
  private readonly awaiting = new AwaitingVerdicts();
  private readonly dialogOf = (handle: number): DialogIdentity => this.awaiting.take(handle);
  /** Buffers of answered batches, for the next ones. */
  private readonly spares: SpareBuffers[] = [];
  private posted = 0;
  private answered = 0;
  /** Once the labeller failed, every later call throws this. */
  private failure: Error | undefined;
  /** Set when the failure is the model's (it could not be loaded, or its gaps disagree): no result. */
  private modelFailed = false;
  private header: ModelHeader | undefined;
  /** The gaps the reading thread segments with, when it did not wait for the labeller's header. */
  private expectedGaps: SegmentationGaps | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly port: MessagePort,
    private readonly counters: Int32Array,
    private readonly deliver: VerdictSink,
    private readonly silenceMs: number,
  ) {}

  /** The labelling thread's bundle next to this command's; undefined when absent (running from sources). */
  static scriptIn(directory: string): string | undefined {
    const path = join(directory, BUNDLE);
    return existsSync(path) ? path : undefined;
  }

  /** Starts the thread, which loads the model at once (modelHeader() waits for it). */
  static start(
    script: string,
    data: Omit<LabelingWorkerData, 'counters' | 'port'>,
    deliver: VerdictSink,
    options: { readonly silenceMs?: number } = {},
  ): LabelingThread {
    const counters = new Int32Array(new SharedArrayBuffer(COUNTERS * 4));
    const { port1, port2 } = new MessageChannel();
    const workerData: LabelingWorkerData = { ...data, counters, port: port2 };
    // The bundle is loaded by a small wrapper, so that a bundle that fails to load (missing,
    // damaged) is reported on the port like any failure: the reader, blocked in Atomics.wait,
    // would not see the worker's 'error' event.
    const loader = `const { workerData } = require('node:worker_threads');
try { require(workerData.script); } catch (error) { (${reportLoadFailure.toString()})(workerData, error, ${FAILED}, ${EVENTS}); }`;
    // A small young generation: the labeller's garbage is short-lived, and V8's default lets
    // the thread's heap grow by ≈ 20 MB more for no speed (bench file: ≈ 1.4 s either way).
    const worker = new Worker(loader, {
      eval: true,
      workerData: { ...workerData, script },
      transferList: [port2],
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    // Failures arrive as 'failed' messages on the port; an 'error' event would otherwise be fatal.
    worker.on('error', () => undefined);
    return new LabelingThread(worker, port1, counters, deliver, options.silenceMs ?? SILENCE_MS);
  }

  /** Hands a batch of closed dialogs (and the sessions ended after them, session-end.ts) to the labeller, in order. */
  post(dialogs: DialogToLabel[], endedSessions: number[]): void {
    if (this.failure !== undefined) throw this.failure;
    const batch = packDialogBatch(dialogs, endedSessions, this.spares.pop());
    this.awaiting.add(dialogs);
    this.send({ kind: 'batch', batch }, transferablesOf(batch));
    this.collect();
    while (this.posted - this.answered >= MAX_IN_FLIGHT) this.awaitAnswer();
  }

  /**
   * The model's header, once the labeller has loaded the model (waits for that): all the reading
   * thread needs of it, so the model is parsed and held once, not in both threads.
   */
  modelHeader(): ModelHeader {
    if (this.failure !== undefined) throw this.failure;
    this.collect();
    while (this.header === undefined) this.awaitAnswer();
    return this.header;
  }

  /**
   * The reading thread segments with `gaps`, read ahead from the model file (model-gaps-ahead.ts)
   * instead of waiting for modelHeader(): they are checked against the loaded model's when its
   * header comes, before any verdict.
   */
  expectGaps(gaps: SegmentationGaps): void {
    this.expectedGaps = gaps;
    if (this.header !== undefined) this.checkGaps(this.header);
  }

  /**
   * Takes what the labeller has sent without waiting, and throws its failure if it failed. The
   * reader calls it between chunks: a model that cannot be loaded stops the reading at once,
   * instead of when the first batch of dialogs (or the end of a large capture) comes.
   */
  poll(): void {
    if (this.failure !== undefined) throw this.failure;
    this.collect();
  }

  /**
   * Whether the labeller failed because of the model (not loadable, gaps that disagree with
   * those read ahead): the capture then has no result, not even "0 dialogs".
   */
  get failedOnModel(): boolean {
    return this.modelFailed;
  }

  /** End of input: waits for every verdict and emits the last records. */
  finish(): void {
    if (this.failure !== undefined) throw this.failure;
    this.send({ kind: 'finish' }, []);
    while (this.answered < this.posted) this.awaitAnswer();
    if (this.awaiting.size > 0) throw (this.failure = new Error(`labelling thread: ${this.awaiting.size} dialogs got no verdict`));
  }

  private send(message: ToLabeler, transfer: ArrayBuffer[]): void {
    this.worker.postMessage(message, transfer);
    this.posted++;
  }

  /** Stops the thread (after finish(), or after a failure). */
  async close(): Promise<void> {
    this.port.close();
    await this.worker.terminate();
  }

  /** Waits for the next message from the labeller (an answer, its header, or its failure). */
  private awaitAnswer(): void {
    // Read before looking at the port: whatever the labeller sends after this moves it, so the
    // wait below returns at once instead of sleeping through it.
    const events = Atomics.load(this.counters, EVENTS);
    if (this.collect()) return;
    if (Atomics.load(this.counters, FAILED) !== 0) {
      this.collect(); // throws the reason, which the labeller sent before raising the flag
      throw (this.failure = new Error('the labelling thread failed'));
    }
    let beat = Atomics.load(this.counters, ALIVE);
    let lastSign = performance.now();
    while (Atomics.wait(this.counters, EVENTS, events, LOOK_MS) === 'timed-out') {
      if (this.collect()) return;
      const now = performance.now();
      const latest = Atomics.load(this.counters, ALIVE);
      if (latest !== beat) {
        beat = latest;
        lastSign = now;
        continue;
      }
      // Until the header comes the labeller is loading the model, synchronously: no heartbeat.
      const limit = this.header === undefined ? STALL_MS : this.silenceMs;
      if (now - lastSign < limit) continue;
      this.collect(); // a reason that came without a signal is still the one to report
      throw (this.failure = new Error(
        this.header === undefined
          ? `the labelling thread answered nothing for ${STALL_MS / 1000} s while loading the model (it may have run out of memory)`
          : `the labelling thread stopped: no answer and no sign of life for ${this.silenceMs / 1000} s (it may have run out of memory)`,
      ));
    }
  }

  private checkGaps(header: ModelHeader): void {
    const expected = this.expectedGaps;
    if (expected === undefined) return;
    if (expected.dialogGapUs !== header.gaps.dialogGapUs || expected.sessionGapUs !== header.gaps.sessionGapUs) {
      this.modelFailed = true;
      throw (this.failure = new Error(
        // Both come from the same file: it names `gaps` twice (JSON.parse keeps the last, the
        // read-ahead the first it finds).
        `labelling: the gaps read ahead from the model file (${JSON.stringify(expected)}) differ from the loaded model's (${JSON.stringify(header.gaps)}): ` +
          "the file names 'gaps' more than once (the read-ahead takes the first, a full parse the last); keep one",
      ));
    }
  }

  /** Takes every message that came (answers are delivered); true when there was one. */
  private collect(): boolean {
    let any = false;
    for (let received = receiveMessageOnPort(this.port); received !== undefined; received = receiveMessageOnPort(this.port)) {
      const message = received.message as FromLabeler;
      if (message.kind === 'failed') {
        // The model's own error names the file and its code ([MODEL_INVALID]), as when it is
        // loaded on this thread: "labelling:" before it would only blur that.
        this.modelFailed = message.stage === 'model';
        throw (this.failure = new Error(this.modelFailed ? message.message : `labelling: ${message.message}`));
      }
      any = true;
      if (message.kind === 'ready') {
        this.header = message.header;
        this.checkGaps(message.header);
        continue;
      }
      if (this.answered === this.posted) throw new Error('labelling thread: an answer to no message');
      this.answered++;
      if (message.spare !== undefined) this.spares.push(message.spare);
      // The labeller sends its header before any answer.
      if (this.header === undefined) throw (this.failure = new Error('labelling thread: verdicts before the model header'));
      this.deliver(message.verdicts, this.dialogOf, this.header);
    }
    return any;
  }
}

/**
 * Runs inside the worker, as source text, when the bundle cannot be loaded: the same report as
 * labeling-protocol.ts's reportFailure (which is in the bundle that failed). Self-contained: the
 * counter indices come in as arguments.
 */
function reportLoadFailure(data: { port: MessagePort; counters: Int32Array; script: string }, error: unknown, failed: number, events: number): void {
  data.port.postMessage({ kind: 'failed', stage: 'labelling', message: `cannot load ${data.script}: ${error instanceof Error ? error.message : String(error)}` });
  Atomics.store(data.counters, failed, 1);
  Atomics.add(data.counters, events, 1);
  Atomics.notify(data.counters, events);
}
