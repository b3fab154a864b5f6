/**
 * Messages between `cumma classify`'s reading thread and its labelling thread. The reading
 * thread segments the capture, computes features, and builds and prints the records; the
 * labelling thread runs the model (scores, temporal filter, outlier check) in between, so the
 * work runs on two cores. Both ends use the same DialogLabeler, so the records are the ones a
 * single thread makes.
 */
import { MessagePort } from 'node:worker_threads';
import { DialogBatchMessage, SpareBuffers } from '../pipeline/dialog-batch';

export interface LabelingWorkerData {
  readonly modelPath: string;
  readonly temporal: boolean;
  /** Shared counters (Int32Array over a SharedArrayBuffer), indexed below. */
  readonly counters: Int32Array;
  /** Where verdicts go: the reader takes them off its end synchronously (receiveMessageOnPort). */
  readonly port: MessagePort;
}

/** Batches labelled so far (the reader waits on it: for results, or for room when too many are pending). */
export const LABELLED = 0;
/** 1 once the labeller failed (its reason follows as a 'failed' message). */
export const FAILED = 1;
export const COUNTERS = 2;

export type ToLabeler = { readonly kind: 'batch'; readonly batch: DialogBatchMessage };

export type FromLabeler =
  /** With the batch's own buffers, handed back for the next batch (dialog-batch.ts, SpareBuffers). */
  | { readonly kind: 'verdicts'; readonly verdicts: Float64Array; readonly spare: SpareBuffers }
  | { readonly kind: 'failed'; readonly message: string };
