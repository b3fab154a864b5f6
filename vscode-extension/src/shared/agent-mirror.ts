/**
 * What a client knows of the agent, built only from validated server messages: the hello
 * (agent, model, anonymisation), the captures and, per capture, the latest version of each
 * dialog in order of first publication. Used by the extension host (one connection shared by
 * the panel and the capture editors) and by the panel itself.
 */
import type { AgentStats, CaptureInfo, FolderInfo, ModelInfo } from '../../../agent/src/live/label-feed';
import type { ErrorMessage, ServerMessage } from '../../../agent/src/serve/protocol';
import type { PanelDialog } from './protocol-guard';

export interface AgentIdentity {
  readonly agent: string;
  readonly model: ModelInfo;
  readonly anonymized: boolean;
}

/** What a message changed, so that views redraw only what they must. */
export interface MirrorChange {
  readonly captures: boolean;
  /** Captures whose dialogs changed. */
  readonly dialogs: readonly string[];
  readonly stats: boolean;
  readonly error?: ErrorMessage;
  /** The capture event's message (error events carry one). */
  readonly captureMessage?: string;
  /** Something happened to a watched folder: added, missing, back, its watcher failed (the folder event's message). */
  readonly folderMessage?: string;
}

const NO_CHANGE: MirrorChange = { captures: false, dialogs: [], stats: false };

export class AgentMirror {
  identity: AgentIdentity | undefined;
  stats: AgentStats | undefined;
  private readonly captureMap = new Map<string, CaptureInfo>();
  private readonly folderMap = new Map<string, FolderInfo>();
  private readonly dialogMap = new Map<string, Map<string, PanelDialog>>();
  /**
   * Captures of which dialogs were held when a stats message, the latest news of them after
   * their latest capture event, said nothing was left to read (lagBytes 0).
   */
  private readonly caughtUp = new Set<string>();
  /** Increases with every change: cheap memoisation key for derived views. */
  revision = 0;
  /**
   * Increases whenever the capture list or a capture's info may have changed (hello, capture
   * events, clear), not with stats or dialogs: the key for what depends on the captures alone.
   */
  capturesRevision = 0;

  get captures(): readonly CaptureInfo[] {
    return [...this.captureMap.values()];
  }

  /** The agent's watched folders, each with whether it is there (`missing`: gone for now). */
  get folders(): readonly FolderInfo[] {
    return [...this.folderMap.values()];
  }

  capture(name: string): CaptureInfo | undefined {
    return this.captureMap.get(name);
  }

  /** Dialogs of a capture in order of first publication. */
  dialogs(capture: string): PanelDialog[] {
    const map = this.dialogMap.get(capture);
    return map ? [...map.values()] : [];
  }

  dialogCount(capture: string): number {
    return this.dialogMap.get(capture)?.size ?? 0;
  }

  dialog(capture: string, id: string): PanelDialog | undefined {
    return this.dialogMap.get(capture)?.get(id);
  }

  /**
   * A capture as what this mirror holds shows it. A capture event carries the counts of its
   * moment, and the agent may send none after it (a file read whole within a second of being
   * added got no update): more dialogs held than it says is the true count, and a capture still
   * 'reading' whose dialogs are held and which the stats since found caught up is idle, the
   * agent's own rule (live-capture.ts: nothing left to read → idle).
   */
  asHeld(capture: CaptureInfo): CaptureInfo {
    const dialogs = Math.max(capture.dialogs, this.dialogCount(capture.name));
    const idle = capture.state === 'reading' && this.caughtUp.has(capture.name);
    if (dialogs === capture.dialogs && !idle) return capture;
    return { ...capture, dialogs, ...(idle ? { state: 'idle' as const } : {}) };
  }

  /** Forgets everything (a new connection starts from its own hello and snapshot). */
  clear(): void {
    this.identity = undefined;
    this.stats = undefined;
    this.captureMap.clear();
    this.folderMap.clear();
    this.dialogMap.clear();
    this.caughtUp.clear();
    this.revision++;
    this.capturesRevision++;
  }

  apply(message: ServerMessage): MirrorChange {
    switch (message.type) {
      case 'hello': {
        this.identity = { agent: message.agent, model: message.model, anonymized: message.anonymized };
        const names = new Set(message.captures.map((capture) => capture.name));
        const dropped = [...this.dialogMap.keys()].filter((name) => !names.has(name));
        for (const name of dropped) this.dialogMap.delete(name);
        this.captureMap.clear();
        this.caughtUp.clear();
        for (const capture of message.captures) this.captureMap.set(capture.name, capture);
        this.folderMap.clear();
        for (const folder of message.folders) this.folderMap.set(folder.path, folder);
        this.revision++;
        this.capturesRevision++;
        return { captures: true, dialogs: dropped, stats: false };
      }
      case 'snapshot': {
        const changed = new Set<string>(message.captures);
        for (const name of message.captures) this.dialogMap.set(name, new Map());
        for (const dialog of message.dialogs) {
          changed.add(dialog.capture);
          this.dialogsOf(dialog.capture).set(dialog.id, dialog);
        }
        this.revision++;
        return { captures: false, dialogs: [...changed], stats: false };
      }
      case 'dialog': {
        this.dialogsOf(message.dialog.capture).set(message.dialog.id, message.dialog);
        this.revision++;
        return { captures: false, dialogs: [message.dialog.capture], stats: false };
      }
      case 'capture': {
        const name = message.capture.name;
        this.caughtUp.delete(name);
        this.revision++;
        this.capturesRevision++;
        const extra = message.message !== undefined ? { captureMessage: message.message } : {};
        if (message.event === 'removed') {
          this.captureMap.delete(name);
          const had = this.dialogMap.delete(name);
          return { captures: true, dialogs: had ? [name] : [], stats: false, ...extra };
        }
        this.captureMap.set(name, message.capture);
        // Read again from the start: the dialogs held for it are gone; the new ones follow.
        if (message.event === 'restarted' && this.dialogMap.delete(name)) return { captures: true, dialogs: [name], stats: false, ...extra };
        return { captures: true, dialogs: [], stats: false, ...extra };
      }
      case 'folder':
        this.folderMap.set(message.folder.path, message.folder);
        this.revision++;
        return { ...NO_CHANGE, folderMessage: message.message };
      case 'stats': {
        const { v: _v, type: _type, ...stats } = message;
        this.stats = stats;
        for (const { name, lagBytes } of stats.captures) {
          // Only once dialogs are held: a capture just added has a size of 0 until the agent first
          // looks at it, so "nothing left" then means "not read yet".
          const capture = this.captureMap.get(name);
          if (lagBytes === 0 && capture !== undefined && this.asHeld(capture).dialogs > 0) this.caughtUp.add(name);
          else this.caughtUp.delete(name);
        }
        this.revision++;
        return { captures: false, dialogs: [], stats: true };
      }
      case 'error':
        return { ...NO_CHANGE, error: message };
      case 'pong':
        return NO_CHANGE;
    }
  }

  private dialogsOf(capture: string): Map<string, PanelDialog> {
    let map = this.dialogMap.get(capture);
    if (!map) {
      map = new Map();
      this.dialogMap.set(capture, map);
    }
    return map;
  }
}
