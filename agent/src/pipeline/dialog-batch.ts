/**
 * What a labelling thread needs of a batch of completed dialogs, as one message: the feature
 * vectors packed into one transferable buffer, and each dialog's flow id and session (the keys
 * of the temporal model's beliefs). Posting the DialogToLabel objects as they are would clone a
 * whole object graph per dialog and each feature vector's backing buffer.
 */
import { DialogToScore } from './dialog-labeler';

export interface DialogBatchMessage {
  readonly count: number;
  readonly featureCount: number;
  /** count × featureCount features, dialog after dialog. */
  readonly features: Float64Array;
  /** flow id and session, per dialog. */
  readonly keys: Float64Array;
  /** Sessions that ended after this batch's dialogs closed: (flow id, session) pairs, see session-end.ts. */
  readonly endedSessions: readonly number[];
}

/**
 * `spare`: buffers of an earlier batch that came back, written over when large enough. Reusing
 * them matters: a fresh buffer per batch is memory outside the heap, which a labelling thread
 * that allocates little collects late, so tens of MB of spent batches would pile up.
 */
export function packDialogBatch(dialogs: readonly DialogToScore[], endedSessions: readonly number[], spare?: SpareBuffers): DialogBatchMessage {
  const featureCount = dialogs.length > 0 ? dialogs[0]!.features.length : 0;
  const features = reuse(spare?.features, dialogs.length * featureCount);
  const keys = reuse(spare?.keys, dialogs.length * 2);
  dialogs.forEach((dialog, index) => {
    if (dialog.features.length !== featureCount) throw new RangeError(`dialog batch: ${dialog.features.length} features where the batch has ${featureCount}`);
    features.set(dialog.features, index * featureCount);
    keys[index * 2] = dialog.flowId;
    keys[index * 2 + 1] = dialog.session;
  });
  return { count: dialogs.length, featureCount, features, keys, endedSessions: [...endedSessions] };
}

export interface SpareBuffers {
  readonly features: ArrayBuffer;
  readonly keys: ArrayBuffer;
}

function reuse(buffer: ArrayBuffer | undefined, length: number): Float64Array {
  return buffer !== undefined && buffer.byteLength >= length * 8 ? new Float64Array(buffer, 0, length) : new Float64Array(length);
}

/** The buffers to transfer rather than copy when posting `message` (and to hand back as spares). */
export function transferablesOf(message: DialogBatchMessage): ArrayBuffer[] {
  return [message.features.buffer as ArrayBuffer, message.keys.buffer as ArrayBuffer];
}

export function unpackDialogBatch(message: DialogBatchMessage): DialogToScore[] {
  const { count, featureCount, features, keys } = message;
  const dialogs: DialogToScore[] = [];
  for (let index = 0; index < count; index++) {
    dialogs.push({ flowId: keys[index * 2]!, session: keys[index * 2 + 1]!, features: features.subarray(index * featureCount, (index + 1) * featureCount) });
  }
  return dialogs;
}
