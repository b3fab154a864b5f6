/**
 * The live agent: watches folders for pcap/pcapng files (chokidar), reads each as it grows
 * (LiveCapture), and is the LabelFeed its publishers — the WebSocket server, the terminal
 * table — read from. Reading is sliced (a budget per turn of the event loop) so that serving
 * clients never waits behind a large file.
 */
import { FSWatcher, watch } from 'chokidar';
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { UsageModel } from '../pipeline/usage-model';
import { AgentStats, CaptureInfo, FeedEvent, LabelFeed, LiveDialog, ModelInfo } from './label-feed';
import { LiveCapture } from './live-capture';
import { removeOrphanJournals } from './state-journal';

/** Files the agent reads; the format is still checked by magic bytes when reading. */
export const CAPTURE_NAME = /\.(pcapng|pcap|cap|ntar)$/i;

export interface LiveAgentOptions {
  readonly model: UsageModel;
  /** Where per-capture state journals are kept. */
  readonly stateDirectory: string;
  readonly sidecars?: boolean;
  /** Poll and tick period (default 250 ms): the fallback when a file-system event is missed. */
  readonly pollIntervalMs?: number;
  readonly clock?: () => number;
  /** Most folders watched at once (default MAX_WATCHED_FOLDERS). */
  readonly maxFolders?: number;
}

/**
 * Each watched folder holds an inotify watch for the agent's life, out of a per-user budget the
 * user's other programs share; clients may ask for folders (the `watch` message), so their
 * number is bounded. Far more than anyone watches by hand.
 */
export const MAX_WATCHED_FOLDERS = 256;

export class LiveAgent implements LabelFeed {
  readonly model: ModelInfo;
  private readonly byName = new Map<string, LiveCapture>();
  private readonly byPath = new Map<string, LiveCapture>();
  private readonly listeners = new Set<(event: FeedEvent) => void>();
  private readonly watchers: FSWatcher[] = [];
  private readonly folders = new Set<string>();
  private readonly scheduled = new Set<LiveCapture>();
  private readonly timer: NodeJS.Timeout;
  private readonly clock: () => number;
  private ticks = 0;
  private packetsAtLastStats = 0;
  private lastStatsMs: number;
  private rate = 0;
  private closed = false;
  /** What each capture's last `updated` event said, so only changes are announced. */
  private readonly announced = new WeakMap<LiveCapture, string>();

  constructor(private readonly options: LiveAgentOptions) {
    this.clock = options.clock ?? Date.now;
    this.lastStatsMs = this.clock();
    this.model = { name: `${options.model.json.name}@${options.model.json.version}`, classes: options.model.classes, gaps: options.model.gaps };
    this.timer = setInterval(() => this.periodic(), options.pollIntervalMs ?? 250);
  }

  /** Starts watching a folder: its existing captures are read, new ones picked up. */
  watchFolder(folder: string): Promise<void> {
    const path = resolve(folder);
    let isFolder = false;
    try {
      isFolder = statSync(path).isDirectory();
    } catch (error) {
      return Promise.reject(new Error(`cannot watch ${path}: ${error instanceof Error ? error.message : String(error)}`));
    }
    if (!isFolder) return Promise.reject(new Error(`cannot watch ${path}: not a folder`));
    if (this.folders.has(path)) return Promise.resolve();
    const most = this.options.maxFolders ?? MAX_WATCHED_FOLDERS;
    if (this.folders.size >= most) return Promise.reject(new Error(`cannot watch ${path}: the agent already watches ${most} folders, the most it watches at once`));
    this.folders.add(path);
    // Captures of this folder deleted while no agent ran (a ring buffer rotates on regardless)
    // left journals that no unlink event will ever remove.
    removeOrphanJournals(this.options.stateDirectory, path);
    const watcher = watch(path, {
      depth: 0,
      ignoreInitial: false,
      ignored: (file, stats) => stats !== undefined && stats.isFile() && !CAPTURE_NAME.test(file),
    });
    this.watchers.push(watcher);
    watcher.on('add', (file) => this.added(resolve(file)));
    watcher.on('change', (file) => {
      const capture = this.byPath.get(resolve(file));
      if (capture) this.schedule(capture);
    });
    watcher.on('unlink', (file) => this.removedFile(resolve(file)));
    watcher.on('error', (error) => this.emit({ kind: 'capture', event: 'error', capture: this.folderInfo(path), message: `watching ${path}: ${error instanceof Error ? error.message : String(error)}` }));
    return new Promise((ready) => watcher.once('ready', () => ready()));
  }

  captures(): readonly CaptureInfo[] {
    return [...this.byName.values()].map((capture) => capture.info());
  }

  dialogs(capture: string): readonly LiveDialog[] {
    return this.byName.get(capture)?.dialogs() ?? [];
  }

  stats(): AgentStats {
    const captures = [...this.byName.values()];
    return {
      packetsPerSecond: Math.round(this.rate),
      packets: captures.reduce((sum, capture) => sum + capture.info().packets, 0),
      dialogs: captures.reduce((sum, capture) => sum + capture.info().dialogs, 0),
      captures: captures.map((capture) => ({ name: capture.name, lagBytes: capture.lagBytes, lagMs: capture.lagMs() })),
    };
  }

  subscribe(listener: (event: FeedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops watching; sidecars get their final state. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await Promise.all(this.watchers.map((watcher) => watcher.close()));
    for (const capture of this.byName.values()) capture.close();
  }

  private added(path: string): void {
    if (this.closed || this.byPath.has(path) || !CAPTURE_NAME.test(path)) return;
    const capture = new LiveCapture({
      path,
      name: this.uniqueName(path),
      model: this.options.model,
      stateDirectory: this.options.stateDirectory,
      sidecar: this.options.sidecars ?? true,
      clock: this.clock,
      onDialog: (dialog, restored) => this.emit(restored ? { kind: 'dialog', dialog, restored } : { kind: 'dialog', dialog }),
      onCaptureEvent: (event, message) => this.emit({ kind: 'capture', event, capture: capture.info(), message }),
    });
    this.byName.set(capture.name, capture);
    this.byPath.set(path, capture);
    this.emit({ kind: 'capture', event: 'added', capture: capture.info() });
    this.schedule(capture);
  }

  private removedFile(path: string): void {
    const capture = this.byPath.get(path);
    if (capture === undefined) return;
    this.byPath.delete(path);
    this.byName.delete(capture.name);
    this.scheduled.delete(capture);
    capture.removed();
    this.emit({ kind: 'capture', event: 'removed', capture: capture.info() });
  }

  /** File names identify captures; a second file of the same name gets a suffix. */
  private uniqueName(path: string): string {
    const name = basename(path);
    if (!this.byName.has(name)) return name;
    for (let n = 2; ; n++) if (!this.byName.has(`${name}#${n}`)) return `${name}#${n}`;
  }

  private schedule(capture: LiveCapture): void {
    if (this.closed || this.scheduled.has(capture)) return;
    this.scheduled.add(capture);
    setImmediate(() => {
      this.scheduled.delete(capture);
      if (this.closed || !this.byName.has(capture.name)) return;
      if (capture.poll()) this.schedule(capture);
    });
  }

  private periodic(): void {
    for (const capture of this.byName.values()) this.schedule(capture);
    // Ticks at half the poll rate: provisional labels, wall-clock closing, sidecars.
    if (++this.ticks % 2 === 0) for (const capture of this.byName.values()) capture.tick();
    const now = this.clock();
    if (now - this.lastStatsMs >= 1000) {
      const packets = this.stats().packets;
      this.rate = ((packets - this.packetsAtLastStats) * 1000) / (now - this.lastStatsMs);
      this.packetsAtLastStats = packets;
      this.lastStatsMs = now;
      this.announceProgress();
    }
  }

  /** Once a second: an `updated` event for each capture whose size, progress or state changed. */
  private announceProgress(): void {
    for (const capture of this.byName.values()) {
      const info = capture.info();
      const summary = `${info.state}/${info.sizeBytes}/${info.bytesRead}/${info.packets}/${info.dialogs}`;
      if (this.announced.get(capture) === summary) continue;
      const first = !this.announced.has(capture);
      this.announced.set(capture, summary);
      if (!first) this.emit({ kind: 'capture', event: 'updated', capture: info });
    }
  }

  private folderInfo(path: string): CaptureInfo {
    return { name: basename(path), path, state: 'error', sizeBytes: 0, bytesRead: 0, packets: 0, dialogs: 0 };
  }

  private emit(event: FeedEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // One failing listener (a client gone mid-send) must not starve the others.
      }
    }
  }
}
