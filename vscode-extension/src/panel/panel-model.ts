/**
 * The panel's state: what it knows of the agent (an AgentMirror), the connection, and the
 * user's choices (capture, usage filter, address search, sort, selected dialog). dispatch()
 * applies one action and returns the protocol messages to send; nothing here touches the DOM
 * or the network, so the same logic runs in the VS Code webview and the agent-served page.
 */
import type { UsageVerdict } from '../../../agent/src/labels';
import type { FolderInfo } from '../../../agent/src/live/label-feed';
import type { ClientMessage, ServerMessage } from '../../../agent/src/serve/protocol';
import { AgentMirror } from '../shared/agent-mirror';
import type { ConnectionStatus } from '../shared/connection';
import type { PanelDialog } from '../shared/protocol-guard';
import { DEFAULT_SORT, SortKey, SortOrder, filterDialogs, nextSort, sortDialogs } from './dialog-view';

export type PanelAction =
  | { readonly type: 'server'; readonly message: ServerMessage }
  | { readonly type: 'connection'; readonly status: ConnectionStatus }
  | { readonly type: 'selectCapture'; readonly name: string }
  | { readonly type: 'toggleUsage'; readonly usage: UsageVerdict }
  | { readonly type: 'clearUsages' }
  | { readonly type: 'search'; readonly text: string }
  | { readonly type: 'sort'; readonly key: SortKey }
  | { readonly type: 'selectDialog'; readonly id: string | undefined };

/**
 * What the banner says while watched folders are missing (deleted, unmounted), or undefined: the
 * agent watches them again when they are back, and until then no new capture there is read.
 */
export function missingFolders(folders: readonly FolderInfo[]): string | undefined {
  const missing = folders.filter((folder) => folder.state === 'missing').map((folder) => folder.path);
  if (missing.length === 0) return undefined;
  return `${missing.length === 1 ? 'Watched folder' : 'Watched folders'} missing: ${missing.join(', ')} (watched again when back)`;
}

export class PanelModel {
  readonly mirror = new AgentMirror();
  connection: ConnectionStatus = { state: 'disconnected', url: '' };
  selectedCapture: string | undefined;
  readonly usages = new Set<UsageVerdict>();
  search = '';
  sort: SortOrder = DEFAULT_SORT;
  selectedDialogId: string | undefined;
  /** The latest problem the agent reported (error message, capture error, folder watcher error), for a banner. */
  lastError: string | undefined;
  /** Increases with every change of the user's choices. */
  uiRevision = 0;
  private subscribed: string | undefined;
  private memo: { key: string; rows: PanelDialog[] } | undefined;

  dispatch(action: PanelAction): ClientMessage[] {
    switch (action.type) {
      case 'server':
        return this.onServer(action.message);
      case 'connection':
        this.connection = action.status;
        if (action.status.state !== 'connected') this.subscribed = undefined;
        this.uiRevision++;
        return [];
      case 'selectCapture':
        if (!this.mirror.capture(action.name) || action.name === this.selectedCapture) return [];
        this.selectedCapture = action.name;
        this.selectedDialogId = undefined;
        this.uiRevision++;
        return this.subscription();
      case 'toggleUsage':
        if (this.usages.has(action.usage)) this.usages.delete(action.usage);
        else this.usages.add(action.usage);
        this.uiRevision++;
        return [];
      case 'clearUsages':
        this.usages.clear();
        this.uiRevision++;
        return [];
      case 'search':
        this.search = action.text;
        this.uiRevision++;
        return [];
      case 'sort':
        this.sort = nextSort(this.sort, action.key);
        this.uiRevision++;
        return [];
      case 'selectDialog':
        this.selectedDialogId = action.id;
        this.uiRevision++;
        return [];
    }
  }

  /** Dialogs of the chosen capture after the filter and search, in the chosen order. */
  rows(): PanelDialog[] {
    const key = `${this.mirror.revision}/${this.uiRevision}`;
    if (this.memo?.key === key) return this.memo.rows;
    const dialogs = this.selectedCapture === undefined ? [] : this.mirror.dialogs(this.selectedCapture);
    const rows = sortDialogs(filterDialogs(dialogs, { usages: this.usages, search: this.search }), this.sort);
    this.memo = { key, rows };
    return rows;
  }

  selectedDialog(): PanelDialog | undefined {
    if (this.selectedCapture === undefined || this.selectedDialogId === undefined) return undefined;
    return this.mirror.dialog(this.selectedCapture, this.selectedDialogId);
  }

  /** Dialogs of the chosen capture, unfiltered. */
  allDialogs(): PanelDialog[] {
    return this.selectedCapture === undefined ? [] : this.mirror.dialogs(this.selectedCapture);
  }

  private onServer(message: ServerMessage): ClientMessage[] {
    const change = this.mirror.apply(message);
    if (change.error) this.lastError = `${change.error.code}: ${change.error.message}`;
    if (message.type === 'capture' && message.event === 'error') this.lastError = `${message.capture.name}: ${message.message ?? message.capture.error ?? 'error'}`;
    // A folder's watcher failed: new captures there may go unnoticed, which the banner says. (The
    // message names the folder, as served: its digest when the agent anonymises.)
    if (message.type === 'folder' && message.event === 'error') this.lastError = message.message;
    if (message.type === 'hello') {
      // A (re)connection: the agent knows no subscription yet.
      this.subscribed = undefined;
      this.lastError = undefined;
    }
    if (change.captures) return this.subscription();
    return [];
  }

  /** Keeps the subscription on the chosen capture, choosing one when none (or a gone one) is. */
  private subscription(): ClientMessage[] {
    if (this.selectedCapture === undefined || !this.mirror.capture(this.selectedCapture)) {
      const first = this.mirror.captures.find((capture) => capture.state !== 'removed');
      if (this.selectedCapture !== first?.name) {
        this.selectedCapture = first?.name;
        this.selectedDialogId = undefined;
        this.uiRevision++;
      }
    }
    if (this.selectedCapture === undefined || this.selectedCapture === this.subscribed) return [];
    if (this.connection.state !== 'connected' && this.mirror.identity === undefined) return [];
    this.subscribed = this.selectedCapture;
    return [{ v: 1, type: 'subscribe', captures: [this.selectedCapture] }];
  }
}
