/**
 * One capture open in the capture editor: its packet index (read by an index worker), the
 * labels chosen for it, and the file followed while it grows. A capture being written (dumpcap
 * into the file, or the file still being copied) is re-read incrementally: only the appended
 * bytes, by the worker that kept the reader's state. A file truncated or replaced is read again
 * from the start; a deleted one keeps what was read.
 */
import { Stats, unwatchFile, watchFile } from 'node:fs';
import type * as vscode from 'vscode';
import type { LabelSource } from '../shared/bridge';
import type { PanelDialog } from '../shared/protocol-guard';
import { CaptureIndexData, applyDelta } from './capture-index';
import { IndexWorker } from './index-worker';
import type { LabelAssignment } from './label-match';
import type { LocalClassification } from './local-classify';

/** How often the file's size is checked: a stat a second is nothing, and works on any file system. */
const FOLLOW_INTERVAL_MS = 1000;

export type IndexChange = 'indexed' | 'grew' | 'failed';

export class CaptureDocument implements vscode.CustomDocument {
  index: CaptureIndexData | undefined;
  indexError: string | undefined;
  /** The dialogs labels came from (agent's or local), with what they assign per packet. */
  dialogs: readonly PanelDialog[] = [];
  assignment: LabelAssignment | undefined;
  source: LabelSource = { kind: 'pending', detail: 'reading the capture…', dialogs: 0, labelledPackets: 0 };
  revision = 0;
  local: LocalClassification | undefined;
  localRunning = false;
  /** The file grew since the local labels were computed: they are re-computed (in the background). */
  localStale = false;
  /** How long the last local classification took: the next one waits at least that long. */
  lastClassifyMs = 0;
  lastClassifyEnd = 0;
  /** Counts the readings from the start: labels computed for an earlier one are of another file. */
  generation = 0;
  /** Set by "Classify current capture": keep the local labels even when the agent has some. */
  preferLocal = false;
  readonly views = new Set<vscode.WebviewPanel>();
  relabelTimer: ReturnType<typeof setTimeout> | undefined;
  selectedPacket = -1;
  /** How long the last relabelling took: the next waits at least four times that. */
  lastRelabelMs = 0;

  private indexer: IndexWorker | undefined;
  private disposed = false;
  private reading = false;
  /** What the file did while a read ran: read it again (from the start if it was replaced). */
  private queued: 'more' | 'again' | undefined;
  private readonly follow: (current: Stats, previous: Stats) => void;

  constructor(
    readonly uri: vscode.Uri,
    private readonly workerScript: string,
    private readonly progress: (text: string) => void,
    /** After every reading that changed the index or its error. */
    private readonly changed: (change: IndexChange) => void,
  ) {
    void this.run('again');
    this.follow = (current, previous) => this.fileChanged(current, previous);
    watchFile(this.path, { interval: FOLLOW_INTERVAL_MS, persistent: false }, this.follow);
  }

  get path(): string {
    return this.uri.fsPath;
  }

  dispose(): void {
    this.disposed = true;
    unwatchFile(this.path, this.follow);
    this.indexer?.dispose();
    this.indexer = undefined;
    if (this.relabelTimer !== undefined) clearTimeout(this.relabelTimer);
    this.index = undefined;
    this.assignment = undefined;
    // The bundled classifier's records (58 617 for the 1 M-packet capture, ≈ 35 MiB as JSON):
    // the extension host may hold this object a while after the last editor closed.
    this.local = undefined;
  }

  private fileChanged(current: Stats, previous: Stats): void {
    // Deleted (a ring buffer rotating it away): keep what was read.
    if (current.nlink === 0 && current.size === 0 && current.ino === 0) return;
    const known = this.index?.sizeBytes ?? 0;
    const replaced = previous.ino !== 0 && current.ino !== previous.ino;
    if (replaced || current.size < known) this.request('again');
    else if (current.size > known || (this.indexError !== undefined && current.size !== previous.size)) this.request('more');
  }

  private request(kind: 'more' | 'again'): void {
    if (this.disposed) return;
    if (this.reading) {
      this.queued = this.queued === 'again' || kind === 'again' ? 'again' : 'more';
      return;
    }
    void this.run(kind);
  }

  /** Reads the file: all of it in a new worker ('again'), or what it gained ('more'). */
  private async run(kind: 'more' | 'again'): Promise<void> {
    this.reading = true;
    try {
      const grown = kind === 'more' && this.indexer !== undefined && this.index !== undefined;
      const worker = grown ? this.indexer! : this.restart();
      try {
        const delta = await worker.read();
        if (worker !== this.indexer) return;
        const before = this.index;
        this.index = applyDelta(grown ? this.index : undefined, delta);
        this.indexError = undefined;
        if (!grown || this.index.packets !== before?.packets || this.index.error !== before.error) this.changed(grown ? 'grew' : 'indexed');
      } catch (error) {
        if (worker !== this.indexer) return;
        worker.dispose();
        this.indexer = undefined;
        this.index = undefined;
        this.indexError = error instanceof Error ? error.message : String(error);
        this.changed('failed');
      }
    } finally {
      this.reading = false;
      const queued = this.queued;
      this.queued = undefined;
      // 'more' without a working index (the last read failed) reads from the start anyway.
      if (queued !== undefined && !this.disposed) void this.run(queued);
    }
  }

  private restart(): IndexWorker {
    this.indexer?.dispose();
    this.indexer = new IndexWorker(this.workerScript, this.path, (offset, packets) =>
      this.progress(`reading… ${packets.toLocaleString('en')} packets, ${Math.round(offset / 1024 / 1024)} MiB`),
    );
    return this.indexer;
  }
}
