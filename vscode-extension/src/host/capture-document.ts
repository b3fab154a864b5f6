/**
 * One capture open in the capture editor: its packet index (read by an index worker), the
 * labels chosen for it, and the file followed while it grows. A capture being written (dumpcap
 * into the file, or the file still being copied) is re-read incrementally: only the appended
 * bytes, by the worker that kept the reader's state. A file truncated, replaced or rewritten in
 * place (its first bytes changed) is read again from the start; a deleted one keeps what was read.
 */
import { Stats, unwatchFile, watchFile } from 'node:fs';
import type * as vscode from 'vscode';
import type { LabelSource } from '../shared/bridge';
import type { PanelDialog } from '../shared/protocol-guard';
import { CaptureIndexData, applyDelta, fileStartsWith } from './capture-index';
import { IndexWorker } from './index-worker';
import { followAction } from './label-plan';
import type { LabelAssignment } from './label-match';
import type { LocalClassification } from './local-classify';

/**
 * How often the file is checked: a stat a second is nothing, and works on any file system.
 * When the stat changed, the first 4 KiB are compared too (run()).
 */
const FOLLOW_INTERVAL_MS = 1000;

/** 'missing': the file was deleted or moved away (what was read stays); 'restored': it is back. */
export type IndexChange = 'indexed' | 'grew' | 'failed' | 'missing' | 'restored';

export class CaptureDocument implements vscode.CustomDocument {
  index: CaptureIndexData | undefined;
  indexError: string | undefined;
  /** The dialogs labels came from (agent's or local), with what they assign per packet. */
  dialogs: readonly PanelDialog[] = [];
  assignment: LabelAssignment | undefined;
  source: LabelSource = { kind: 'pending', detail: 'reading the capture…', dialogs: 0, labelledPackets: 0, agentLabels: 'none' };
  /** The agent's state of the capture, as the label line names it (agent labels only). */
  agentState: string | undefined;
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
  /** The file is not there (deleted, moved away): what was read, and its labels, stay. */
  missing = false;
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

  /** Called by watchFile when the file's stat changed (size, times, inode). */
  private fileChanged(current: Stats, previous: Stats): void {
    if (this.disposed) return;
    const action = followAction(current, previous, this.index?.sizeBytes ?? 0);
    // Deleted (a ring buffer rotating it away): keep what was read.
    if (action.kind === 'deleted') {
      if (!this.missing) {
        this.missing = true;
        this.changed('missing');
      }
      return;
    }
    if (action.restored || this.missing) {
      this.missing = false;
      this.changed('restored');
    }
    // Anything else — grown, or as long as before with new times (a capture of the same size
    // copied over it) — is read on, once run() has found the first bytes unchanged.
    this.request(action.read);
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
      // Same inode and not shorter, yet other first bytes: written over in place. Reading on from
      // where the last read stopped would land inside the new file's blocks (and the fault there
      // would stay for good): read it from the start. Checked here, when the read starts, so a
      // rewrite during the previous read is caught too.
      const grown = kind === 'more' && this.indexer !== undefined && this.index !== undefined && fileStartsWith(this.path, this.index.head);
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
