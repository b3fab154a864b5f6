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
  /** A watched folder went missing or came back (the folder event's message). */
  readonly folderMessage?: string;
}

const NO_CHANGE: MirrorChange = { captures: false, dialogs: [], stats: false };

export class AgentMirror {
  identity: AgentIdentity | undefined;
  stats: AgentStats | undefined;
  private readonly captureMap = new Map<string, CaptureInfo>();
  private readonly folderMap = new Map<string, FolderInfo>();
  private readonly dialogMap = new Map<string, Map<string, PanelDialog>>();
  /** Increases with every change: cheap memoisation key for derived views. */
  revision = 0;

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

  /** Forgets everything (a new connection starts from its own hello and snapshot). */
  clear(): void {
    this.identity = undefined;
    this.stats = undefined;
    this.captureMap.clear();
    this.folderMap.clear();
    this.dialogMap.clear();
    this.revision++;
  }

  apply(message: ServerMessage): MirrorChange {
    switch (message.type) {
      case 'hello': {
        this.identity = { agent: message.agent, model: message.model, anonymized: message.anonymized };
        const names = new Set(message.captures.map((capture) => capture.name));
        const dropped = [...this.dialogMap.keys()].filter((name) => !names.has(name));
        for (const name of dropped) this.dialogMap.delete(name);
        this.captureMap.clear();
        for (const capture of message.captures) this.captureMap.set(capture.name, capture);
        this.folderMap.clear();
        for (const folder of message.folders) this.folderMap.set(folder.path, folder);
        this.revision++;
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
        this.revision++;
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
