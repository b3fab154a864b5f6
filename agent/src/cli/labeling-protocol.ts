/**
 * Messages between `cumma classify`'s reading thread and its labelling thread. The reading
 * thread segments the capture, computes features, and builds and prints the records; the
 * labelling thread loads the model and runs it (scores, temporal model, outlier check) in
 * between, so the work runs on two cores and only one thread holds the model. The verdicts are
 * DialogLabeler's and the records DialogRecordMaker's on either path, so they are the ones a
 * single thread makes.
 */
import { MessagePort } from 'node:worker_threads';
import { DialogBatchMessage, SpareBuffers } from '../pipeline/dialog-batch';
import { TemporalMode } from '../pipeline/dialog-labeler';
import { ModelHeader } from '../pipeline/usage-model';

export interface LabelingWorkerData {
  readonly modelPath: string;
  readonly temporal: TemporalMode;
  /** Shared counters (Int32Array over a SharedArrayBuffer), indexed below. */
  readonly counters: Int32Array;
  /** Where verdicts go: the reader takes them off its end synchronously (receiveMessageOnPort). */
  readonly port: MessagePort;
}

/**
 * Moves on every message the labeller sends, answers and failures alike: the reader waits on it
 * (for an answer, or for room when too many batches are pending), so nothing it must see can
 * slip between its last look at the port and its wait.
 */
export const EVENTS = 0;
/** 1 once the labeller failed (its reason is the 'failed' message on the port). */
export const FAILED = 1;
/**
 * Moved by a timer of the labeller's, every HEARTBEAT_MS while its event loop runs: a thread
 * killed outright (out of memory) runs no code that could report it, and this stops moving.
 */
export const ALIVE = 2;
export const COUNTERS = 3;
export const HEARTBEAT_MS = 200;

/**
 * What failed: the model (it could not be loaded: a result of the capture would be no result,
 * and the model's own error says all) or the labelling of dialogs.
 */
export type FailureStage = 'model' | 'labelling';

/** What the labeller does to report a failure: the reason on the port first, then the counters. */
export function reportFailure(port: MessagePort, counters: Int32Array, message: string, stage: FailureStage): void {
  const failed: FromLabeler = { kind: 'failed', message, stage };
  port.postMessage(failed);
  Atomics.store(counters, FAILED, 1);
  Atomics.add(counters, EVENTS, 1);
  Atomics.notify(counters, EVENTS);
}

export type ToLabeler =
  | { readonly kind: 'batch'; readonly batch: DialogBatchMessage }
  /** End of input: the sessions still open are complete (DialogLabeler.finish). */
  | { readonly kind: 'finish' };

/**
 * One answer per message: the verdicts final after it (DialogLabeler.takeVerdicts: for a batch
 * labelled `viterbi`, those of the sessions it completed, possibly none). A batch's answer
 * hands its buffers back for the next batch (dialog-batch.ts, SpareBuffers).
 */
export type FromLabeler =
  /** First, once the model is loaded: the reading thread makes records from its header alone. */
  | { readonly kind: 'ready'; readonly header: ModelHeader }
  | { readonly kind: 'verdicts'; readonly verdicts: Float64Array; readonly spare?: SpareBuffers }
  | { readonly kind: 'failed'; readonly message: string; readonly stage: FailureStage };
