/**
 * The extension host's side of an index worker (capture-worker.ts, 'index'): the first read()
 * resolves with the whole index, each later one with what the file gained since. One read at a
 * time; the worker keeps the reader's state in between, so growth costs only the new bytes.
 */
import { Worker } from 'node:worker_threads';
import type { CaptureIndexDelta } from './capture-index';
import type { ReadMore, WorkerReply, WorkerRequest } from './capture-worker';

export class IndexWorker {
  private readonly worker: Worker;
  private waiting: { resolve(delta: CaptureIndexDelta): void; reject(error: Error): void } | undefined;
  /** The reply to the read the worker starts with, until read() takes it. */
  private first: Promise<CaptureIndexDelta> | undefined;
  private dead: Error | undefined;

  constructor(script: string, path: string, onProgress?: (offset: number, packets: number) => void) {
    this.worker = new Worker(script, { workerData: { type: 'index', path } satisfies WorkerRequest });
    this.first = this.reply();
    this.worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'progress') return onProgress?.(reply.offset, reply.packets);
      const waiting = this.waiting;
      this.waiting = undefined;
      if (reply.type === 'index') waiting?.resolve(reply.data);
      else waiting?.reject(new Error(reply.type === 'error' ? reply.message : `unexpected reply ${reply.type}`));
    });
    const stop = (error: Error): void => {
      this.dead ??= error;
      this.waiting?.reject(error);
      this.waiting = undefined;
    };
    this.worker.on('error', stop);
    this.worker.on('exit', (code) => stop(new Error(`index worker stopped (exit code ${code})`)));
  }

  /** The whole index the first time, then what the file gained since the previous read. */
  read(): Promise<CaptureIndexDelta> {
    const first = this.first;
    if (first) {
      this.first = undefined;
      return first;
    }
    if (this.dead) return Promise.reject(this.dead);
    if (this.waiting) return Promise.reject(new Error('a read is already running'));
    const reply = this.reply();
    this.worker.postMessage({ type: 'read' } satisfies ReadMore);
    return reply;
  }

  dispose(): void {
    this.dead ??= new Error('index worker disposed');
    void this.worker.terminate();
  }

  private reply(): Promise<CaptureIndexDelta> {
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }
}
