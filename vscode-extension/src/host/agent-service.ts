/**
 * The extension's one link to the agent: settings, the token (SecretStorage, or the local
 * agent's token file), the AgentClient, the mirror every view reads, the status-bar item,
 * problems shown once per outage, and the folders this workspace asked the agent to watch
 * (asked again on every connection: a restarted agent has forgotten them).
 */
import * as vscode from 'vscode';
import type { ClientMessage, ServerMessage } from '../../../agent/src/serve/protocol';
import { AgentMirror, MirrorChange } from '../shared/agent-mirror';
import { ConnectionStatus, describeConnection, statusAfter } from '../shared/connection';
import type { PanelDialog } from '../shared/protocol-guard';
import { isLoopback } from '../shared/connection';
import { AgentClient, AgentProblem, checkAgentUrl } from './agent-client';
import { CaptureWarnings } from './capture-warnings';
import { readAgentToken } from './token-file';
import { FolderStore, WatchedFolders } from './watched-folders';

export const TOKEN_SECRET = 'cumma.agentToken';
export const DEFAULT_AGENT_URL = 'ws://127.0.0.1:7345';

export interface AgentEvent {
  readonly message: ServerMessage;
  readonly change: MirrorChange;
}

export class AgentService implements vscode.Disposable {
  readonly mirror = new AgentMirror();
  private client: AgentClient | undefined;
  private readonly statusEmitter = new vscode.EventEmitter<ConnectionStatus>();
  private readonly messageEmitter = new vscode.EventEmitter<AgentEvent>();
  readonly onDidChangeStatus = this.statusEmitter.event;
  readonly onDidReceive = this.messageEmitter.event;
  private readonly statusItem: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private current: ConnectionStatus = { state: 'disconnected', url: this.url() };
  /** When `current` was set (performance.now()): its retry delay counts from then. */
  private currentAt = performance.now();
  /** The dialog last selected in the panel or an editor: what "Copy dialog as JSON" copies. */
  lastSelectedDialog: PanelDialog | undefined;
  private readonly watched: WatchedFolders;
  /** Folders the user asked for on this connection (not re-asked ones): a refusal forgets them. */
  private readonly askedNow = new Set<string>();
  /** The warning last logged per capture, across reconnections: a lasting one is logged once. */
  private readonly captureWarnings = new CaptureWarnings();

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly log: vscode.LogOutputChannel,
    workspaceState: FolderStore,
  ) {
    this.watched = new WatchedFolders(workspaceState);
    this.statusItem = vscode.window.createStatusBarItem('cumma.status', vscode.StatusBarAlignment.Left, 10);
    this.statusItem.name = 'Cumma agent';
    this.statusItem.command = 'cumma.statusMenu';
    this.renderStatus();
    this.statusItem.show();
    this.disposables.push(
      this.statusItem,
      this.statusEmitter,
      this.messageEmitter,
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('cumma.agentUrl') && this.client) this.connect();
      }),
      secrets.onDidChange((event) => {
        if (event.key === TOKEN_SECRET && this.current.state === 'unauthorized') this.connect();
      }),
    );
  }

  /**
   * The status as it stands now. A retry delay is what is left of it: a panel or editor that
   * (re)opens mid-wait counts down from there, not from the whole delay again.
   */
  get status(): ConnectionStatus {
    return statusAfter(this.current, performance.now() - this.currentAt);
  }

  get connected(): boolean {
    return this.current.state === 'connected';
  }

  url(): string {
    return vscode.workspace.getConfiguration('cumma').get<string>('agentUrl', DEFAULT_AGENT_URL).trim() || DEFAULT_AGENT_URL;
  }

  /** The agent runs on this machine (a loopback address): its capture paths are this machine's. */
  get isLocal(): boolean {
    try {
      return isLoopback(checkAgentUrl(this.url()));
    } catch {
      return false;
    }
  }

  /** Asks the agent to watch a folder, now and after every reconnection; false when not connected. */
  watchFolder(path: string): boolean {
    if (!this.send({ v: 1, type: 'watch', path })) return false;
    this.askedNow.add(path);
    void this.watched.remember(this.url(), path);
    return true;
  }

  connect(): void {
    this.client?.dispose();
    const url = this.url();
    this.log.info(`connecting to ${url}`);
    this.askedNow.clear();
    const client = new AgentClient(
      {
        url,
        tokens: () => this.tokens(url),
        // The host follows every capture (any of them may be open in an editor), and the folders
        // this workspace asked for are asked for again: the agent may have restarted since.
        resume: () => [{ v: 1, type: 'subscribe', captures: '*' }, ...this.watched.list(url).map((path) => ({ v: 1, type: 'watch', path }) as const)],
      },
      {
        status: (status) => {
          if (this.client !== client) return;
          this.current = status;
          this.currentAt = performance.now();
          if (status.state !== 'connected') this.log.info(describeConnection(status) + (status.detail ? ` (${status.detail})` : ''));
          this.renderStatus();
          this.statusEmitter.fire(status);
        },
        message: (message) => {
          if (this.client !== client) return;
          this.onMessage(message);
        },
        problem: (problem) => {
          if (this.client === client) void this.showProblem(problem);
        },
        invalid: (reason) => this.log.warn(`dropped an invalid message from the agent: ${reason}`),
      },
    );
    this.client = client;
    client.connect();
  }

  disconnect(): void {
    const client = this.client;
    this.client = undefined;
    client?.dispose();
    this.current = { state: 'disconnected', url: this.url() };
    this.currentAt = performance.now();
    this.renderStatus();
    this.statusEmitter.fire(this.current);
  }

  /** Validated and sent; false when not connected. */
  send(message: ClientMessage): boolean {
    return this.client?.send(message) ?? false;
  }

  async setToken(): Promise<void> {
    const token = await vscode.window.showInputBox({
      title: 'Cumma agent token',
      prompt: 'The token the agent printed when it started (kept in VS Code secret storage). Leave empty to forget the stored token.',
      password: true,
      ignoreFocusOut: true,
      validateInput: (value) => (value === '' || /^[\x21-\x7e]{1,512}$/.test(value) ? undefined : 'A token is one word of printable characters.'),
    });
    if (token === undefined) return;
    if (token === '') await this.secrets.delete(TOKEN_SECRET);
    else await this.secrets.store(TOKEN_SECRET, token);
    this.connect();
  }

  dispose(): void {
    if (this.statusTimer !== undefined) clearTimeout(this.statusTimer);
    this.statusTimer = undefined;
    this.client?.dispose();
    this.client = undefined;
    for (const disposable of this.disposables) disposable.dispose();
  }

  private async tokens(url: string): Promise<string[]> {
    const tokens: string[] = [];
    const stored = await this.secrets.get(TOKEN_SECRET);
    if (stored) tokens.push(stored);
    let local = false;
    try {
      local = isLoopback(checkAgentUrl(url));
    } catch {
      // The client reports the bad URL.
    }
    if (local) {
      const fromFile = await readAgentToken();
      if (fromFile && !tokens.includes(fromFile)) tokens.push(fromFile);
    }
    return tokens;
  }

  private onMessage(message: ServerMessage): void {
    const change = this.mirror.apply(message);
    if (message.type === 'hello') {
      const again = this.watched.list(this.url());
      this.log.info(
        `connected to ${message.agent} (model ${message.model.name}, ${message.captures.length} captures${message.anonymized ? ', anonymised' : ''})` +
          (again.length > 0 ? `; asking it again to watch ${again.join(', ')}` : ''),
      );
    }
    // The status bar counts the watched captures: a hello lists them, capture events add and
    // remove them (docs/protocol.md).
    if (change.captures) this.renderStatus();
    if (message.type === 'error') {
      this.log.warn(`agent error ${message.code}: ${message.message}`);
      if (message.code === 'WATCH_FAILED') void this.watchFailed(message.message);
    }
    if (message.type === 'capture' && message.event === 'error') this.log.warn(`capture ${message.capture.name}: ${message.message ?? message.capture.error ?? 'error'}`);
    // A capture that needs attention without being in error (its file ends inside a block, its
    // journal or sidecar failed): when the warning appears, changes or clears, not on every event.
    for (const line of this.captureWarnings.linesFor(message)) {
      if (line.level === 'warn') this.log.warn(line.text);
      else this.log.info(line.text);
    }
    if (message.type === 'folder') {
      // Events this extension does not know yet (a newer agent) are logged like `back`.
      if (message.event === 'missing' || message.event === 'error') this.log.warn(`agent: ${message.message}`);
      else this.log.info(`agent: ${message.message}`);
    }
    this.messageEmitter.fire({ message, change });
  }

  /**
   * A refused watch request. A folder the user just asked for is not remembered; one asked for
   * again after a reconnection (it may be back later, e.g. a drive not mounted yet) is kept
   * unless the user says to forget it. The agent's message names the folder it refused.
   */
  private async watchFailed(text: string): Promise<void> {
    const url = this.url();
    const folder = this.watched.list(url).find((path) => text.includes(path));
    if (folder === undefined || this.askedNow.has(folder)) {
      if (folder !== undefined) await this.watched.forget(url, folder);
      void vscode.window.showErrorMessage(`Cumma agent could not watch the folder: ${text}`);
      return;
    }
    const choice = await vscode.window.showWarningMessage(`Cumma agent could not watch ${folder} again: ${text}`, 'Forget Folder');
    if (choice === 'Forget Folder') await this.watched.forget(url, folder);
  }

  private async showProblem(problem: AgentProblem): Promise<void> {
    this.log.warn(problem.message);
    const actions = problem.kind === 'unauthorized' ? ['Set Token'] : problem.kind === 'bad-url' ? ['Open Settings'] : ['Retry Now', 'Open Settings'];
    const choice = await vscode.window.showWarningMessage(problem.message, ...actions);
    if (choice === 'Set Token') await this.setToken();
    else if (choice === 'Retry Now') this.connect();
    else if (choice === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'cumma.');
  }

  /** Re-renders the status-bar item while a retry is pending, so its "retrying in N s" counts down. */
  private statusTimer: ReturnType<typeof setTimeout> | undefined;

  private renderStatus(): void {
    if (this.statusTimer !== undefined) clearTimeout(this.statusTimer);
    this.statusTimer = undefined;
    const status = this.status;
    if (status.state === 'retrying' && status.retryInMs !== undefined && status.retryInMs > 0) {
      // Wake when the whole seconds shown change; the connection's own state change re-renders too.
      const untilNextSecond = status.retryInMs % 1000 || 1000;
      this.statusTimer = setTimeout(() => this.renderStatus(), untilNextSecond);
    }
    const icons = { connected: '$(radio-tower)', connecting: '$(sync~spin)', retrying: '$(sync~spin)', unauthorized: '$(lock)', disconnected: '$(debug-disconnect)' };
    const captures = this.mirror.captures.length;
    this.statusItem.text = `${icons[status.state]} Cumma${status.state === 'connected' ? ` ${captures}` : ''}`;
    this.statusItem.tooltip = `Cumma agent: ${describeConnection(status)}${status.detail ? `\n${status.detail}` : ''}${status.state === 'connected' ? `\n${captures} captures watched` : ''}`;
    this.statusItem.backgroundColor = status.state === 'unauthorized' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }
}
