import { describe, expect, it } from 'vitest';
import { packDialogBatch, transferablesOf, unpackDialogBatch } from '../../agent/src/pipeline/dialog-batch';

describe('dialog batches for the labelling thread', () => {
  it('round-trips feature vectors (views of one slab), flow ids, sessions and ended flows', () => {
    const slab = new Float64Array(3 * 5).map((_, i) => i * 1.5 - 7);
    const dialogs = [0, 1, 2].map((i) => ({ flowId: 100 + i, session: i + 1, features: slab.subarray(i * 5, i * 5 + 5) }));
    const message = packDialogBatch(dialogs, [7, 9]);
    // Packed copies: the batch owns exactly its vectors, not the slab they were cut from.
    expect(message.features.length).toBe(15);
    expect(message.features.buffer).not.toBe(slab.buffer);
    const back = unpackDialogBatch(structuredClone(message, { transfer: transferablesOf(message) }));
    expect(back.map((d) => [d.flowId, d.session])).toEqual([[100, 1], [101, 2], [102, 3]]);
    back.forEach((d, i) => expect(Array.from(d.features)).toEqual(Array.from(slab.subarray(i * 5, i * 5 + 5))));
    expect(message.endedSessions).toEqual([7, 9]);
  });

  it('packs an empty batch (only ended flows) and refuses vectors of different lengths', () => {
    expect(unpackDialogBatch(packDialogBatch([], [3]))).toEqual([]);
    const dialogs = [
      { flowId: 1, session: 1, features: new Float64Array(4) },
      { flowId: 2, session: 1, features: new Float64Array(3) },
    ];
    expect(() => packDialogBatch(dialogs, [])).toThrow(/3 features where the batch has 4/);
  });
});
