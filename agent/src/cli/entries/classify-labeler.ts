// Bundle entry of `cumma classify`'s labelling thread (dist/commands/classify-labeler.js).
import { parentPort, workerData } from 'node:worker_threads';
import { LabelingWorkerData } from '../labeling-protocol';
import { runLabelingWorker } from '../labeling-worker';

if (parentPort === null) throw new Error('classify-labeler runs as a worker thread of cumma classify');
runLabelingWorker(parentPort, workerData as LabelingWorkerData);
