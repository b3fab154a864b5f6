/**
 * Worker thread of the capture editor: indexes a capture's packets and, when asked, classifies
 * it with the bundled model. One request per worker; the host terminates it afterwards.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { indexCapture, transferList } from './capture-index';
import { classifyLocally } from './local-classify';

export type WorkerRequest = { readonly type: 'index'; readonly path: string } | { readonly type: 'classify'; readonly path: string; readonly modelPath: string };

export type WorkerReply =
  | { readonly type: 'progress'; readonly offset: number; readonly packets: number }
  | { readonly type: 'index'; readonly data: ReturnType<typeof indexCapture> }
  | { readonly type: 'classified'; readonly result: ReturnType<typeof classifyLocally> }
  | { readonly type: 'error'; readonly message: string };

function run(request: WorkerRequest): void {
  const port = parentPort!;
  try {
    if (request.type === 'index') {
      const data = indexCapture(request.path, (offset, packets) => port.postMessage({ type: 'progress', offset, packets } satisfies WorkerReply));
      port.postMessage({ type: 'index', data } satisfies WorkerReply, transferList(data));
    } else {
      port.postMessage({ type: 'classified', result: classifyLocally(request.path, request.modelPath) } satisfies WorkerReply);
    }
  } catch (error) {
    port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies WorkerReply);
  }
}

run(workerData as WorkerRequest);
