/**
 * An in-memory LabelFeed for the server tests: the server is the unit under test, so its data
 * source is this small, fully controlled implementation of the real interface. Like the live
 * pipeline, it stores a dialog's latest state before announcing it.
 */
import { USAGE_CLASSES } from '../../../agent/src/labels';
import {
  AgentStats,
  CaptureInfo,
  FeedEvent,
  FolderInfo,
  LabelFeed,
  LiveDialog,
  ModelInfo,
} from '../../../agent/src/live/label-feed';
import { DEFAULT_GAPS } from '../../../agent/src/segment/dialog';

export class MemoryFeed implements LabelFeed {
  readonly model: ModelInfo = { name: 'test@1', classes: [...USAGE_CLASSES], gaps: DEFAULT_GAPS };
  readonly watched: string[] = [];
  /** What folders() reports; tests set states with setFolder. */
  private readonly folderInfos = new Map<string, FolderInfo>();
  /** When set, watchFolder rejects with this message. */
  watchError: string | undefined;
  currentStats: AgentStats = { packetsPerSecond: 0, packets: 0, dialogs: 0, captures: [] };
  private readonly captureInfos = new Map<string, CaptureInfo>();
  private readonly dialogStore = new Map<string, Map<string, LiveDialog>>();
  private readonly listeners = new Set<(event: FeedEvent) => void>();

  get listenerCount(): number {
    return this.listeners.size;
  }

  captures(): readonly CaptureInfo[] {
    return [...this.captureInfos.values()];
  }

  dialogs(capture: string): readonly LiveDialog[] {
    return [...(this.dialogStore.get(capture)?.values() ?? [])];
  }

  stats(): AgentStats {
    return this.currentStats;
  }

  folders(): readonly FolderInfo[] {
    return [...this.folderInfos.values()];
  }

  async watchFolder(path: string): Promise<string> {
    await Promise.resolve();
    if (this.watchError !== undefined) throw new Error(this.watchError);
    this.watched.push(path);
    return path;
  }

  /** Sets a folder's state and, with a message, announces it as the live agent does. */
  setFolder(path: string, state: FolderInfo['state'], message?: string): void {
    const folder: FolderInfo = { path, state };
    this.folderInfos.set(path, folder);
    if (message !== undefined) this.emit({ kind: 'folder', event: state === 'missing' ? 'missing' : 'back', folder, message });
  }

  subscribe(listener: (event: FeedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  addCapture(name: string, extra: Partial<CaptureInfo> = {}): CaptureInfo {
    const capture: CaptureInfo = { name, path: `/captures/${name}`, state: 'reading', sizeBytes: 0, bytesRead: 0, packets: 0, dialogs: 0, ...extra };
    this.captureInfos.set(name, capture);
    this.dialogStore.set(name, this.dialogStore.get(name) ?? new Map());
    this.emit({ kind: 'capture', event: 'added', capture });
    return capture;
  }

  captureEvent(name: string, event: 'removed' | 'error' | 'updated', message?: string): void {
    const capture = this.captureInfos.get(name);
    if (capture === undefined) throw new Error(`test bug: no capture ${name}`);
    this.emit({ kind: 'capture', event, capture, ...(message === undefined ? {} : { message }) });
  }

  /** Stores the dialog's new state (replacing one with the same id), then announces it. */
  putDialog(dialog: LiveDialog): void {
    const store = this.dialogStore.get(dialog.capture);
    if (store === undefined) throw new Error(`test bug: no capture ${dialog.capture}`);
    store.set(dialog.id, dialog);
    this.emit({ kind: 'dialog', dialog });
  }

  private emit(event: FeedEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

let counter = 0;

/** A plausible dialog record; override what a test looks at. */
export function makeDialog(capture: string, overrides: Partial<LiveDialog> = {}): LiveDialog {
  counter += 1;
  const startUs = 1_705_312_800_000_000 + counter * 1000;
  return {
    l4: 'tcp',
    client: { ip: '10.0.0.2', port: 40_000 + (counter % 20_000) },
    server: { ip: '157.240.1.53', port: 443 },
    firstUs: startUs,
    lastUs: startUs + 500_000,
    packets: { up: 12, down: 10 },
    bytes: { up: 2400, down: 1800 },
    capture,
    session: 1,
    dialog: counter,
    startUs,
    endUs: startUs + 500_000,
    usage: 'text',
    confidence: 0.91,
    scores: { text: 0.91, photo: 0.05, other: 0.04 },
    status: 'final',
    outlier: false,
    model: 'test@1',
    id: `${capture}#${counter}`,
    ...overrides,
  };
}
