/**
 * The labelling thread of `cumma classify` (labeling-protocol.ts): loads the model and answers
 * each batch of dialogs, in order, with their packed verdicts.
 */
import { MessagePort } from 'node:worker_threads';
import { SpareBuffers, unpackDialogBatch } from '../pipeline/dialog-batch';
import { DialogLabeler } from '../pipeline/dialog-labeler';
import { UsageModel } from '../pipeline/usage-model';
import { ALIVE, EVENTS, FailureStage, FromLabeler, HEARTBEAT_MS, LabelingWorkerData, reportFailure, ToLabeler } from './labeling-protocol';

/** `input`: where batches come from (the parent port); `output`: where verdicts go (data.port). */
export function runLabelingWorker(input: MessagePort, data: LabelingWorkerData): void {
  const { counters, port } = data;
  const send = (message: FromLabeler, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
  let failed = false;
  const fail = (error: unknown, stage: FailureStage): void => {
    failed = true;
    reportFailure(port, counters, error instanceof Error ? error.message : String(error), stage);
  };

  let labeler: DialogLabeler | undefined;
  try {
    const model = UsageModel.load(data.modelPath);
    labeler = new DialogLabeler(model, { temporal: data.temporal });
    // Unreferenced: the thread still ends when the reader closes the port.
    setInterval(() => Atomics.add(counters, ALIVE, 1), HEARTBEAT_MS).unref();
    send({ kind: 'ready', header: model.header });
    Atomics.add(counters, EVENTS, 1);
    Atomics.notify(counters, EVENTS);
  } catch (error) {
    fail(error, 'model');
  }

  input.on('message', (message: ToLabeler) => {
    if (failed || labeler === undefined) return;
    try {
      let spare: SpareBuffers | undefined;
      if (message.kind === 'batch') {
        labeler.label(unpackDialogBatch(message.batch));
        const ended = message.batch.endedSessions;
        for (let i = 0; i < ended.length; i += 2) labeler.endSession(ended[i]!, ended[i + 1]!);
        const { features, keys } = message.batch;
        spare = { features: features.buffer as ArrayBuffer, keys: keys.buffer as ArrayBuffer };
      } else {
        labeler.finish();
      }
      const verdicts = labeler.takeVerdicts();
      send({ kind: 'verdicts', verdicts, spare }, [verdicts.buffer as ArrayBuffer, ...(spare === undefined ? [] : [spare.features, spare.keys])]);
      Atomics.add(counters, EVENTS, 1);
      Atomics.notify(counters, EVENTS);
    } catch (error) {
      fail(error, 'labelling');
    }
  });
}
