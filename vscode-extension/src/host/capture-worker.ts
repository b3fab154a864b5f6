/**
 * Worker thread of the capture editor. Two kinds, chosen by workerData:
 * - 'index': indexes a capture's packets and stays: each { type: 'read' } message from the host
 *   reads what was appended to the file since (CaptureIndexer), so a growing capture costs only
 *   its new bytes; the host terminates it when the editor closes or the file is read again from
 *   the start (replaced, truncated, or rewritten in place);
 * - 'classify': classifies the capture with the bundled model, once; the host terminates it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CaptureIndexDelta, CaptureIndexer, transferList } from './capture-index';
import { classifyLocally } from './local-classify';

export type WorkerRequest = { readonly type: 'index'; readonly path: string } | { readonly type: 'classify'; readonly path: string; readonly modelPath: string };

/** Host → an index worker, after the first reply: read what the file gained. */
export interface ReadMore {
  readonly type: 'read';
}

export type WorkerReply =
  | { readonly type: 'progress'; readonly offset: number; readonly packets: number }
  | { readonly type: 'index'; readonly data: CaptureIndexDelta }
  | { readonly type: 'classified'; readonly result: ReturnType<typeof classifyLocally> }
  | { readonly type: 'error'; readonly message: string };

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(message, transfer);
}

function failed(error: unknown): void {
  reply({ type: 'error', message: error instanceof Error ? error.message : String(error) });
}

function index(path: string): void {
  const indexer = new CaptureIndexer(path);
  const read = (): void => {
    try {
      const data = indexer.read((offset, packets) => reply({ type: 'progress', offset, packets }));
      reply({ type: 'index', data }, transferList(data));
    } catch (error) {
      failed(error);
    }
  };
  parentPort!.on('message', (message: ReadMore) => {
    if (message.type === 'read') read();
  });
  read();
}

const request = workerData as WorkerRequest;
if (request.type === 'index') index(request.path);
else {
  try {
    reply({ type: 'classified', result: classifyLocally(request.path, request.modelPath) });
  } catch (error) {
    failed(error);
  }
}
