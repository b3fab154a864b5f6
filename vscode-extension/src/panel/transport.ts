/**
 * How the panel reaches the agent. In VS Code the extension host holds the WebSocket and relays
 * validated messages through postMessage; on the page the agent serves, the page opens the
 * WebSocket itself. Either way the panel sees validated ServerMessages and a ConnectionStatus.
 */
import type { ClientMessage, ServerMessage } from '../../../agent/src/serve/protocol';
import { Backoff } from '../shared/backoff';
import { PanelHostAction, PanelToHost, parseHostToPanel } from '../shared/bridge';
import type { ConnectionStatus } from '../shared/connection';
import { GuardError } from '../shared/guard';
import { PanelDialog, parseClientMessage, parseServerFrame } from '../shared/protocol-guard';

export interface TransportListener {
  onMessage(message: ServerMessage): void;
  onStatus(status: ConnectionStatus): void;
}

export interface PanelTransport {
  readonly kind: 'vscode' | 'browser';
  start(listener: TransportListener): void;
  send(message: ClientMessage): void;
  connect(): void;
  disconnect(): void;
  copyDialog(dialog: PanelDialog): void;
  selectDialog(capture: string, id: string | undefined): void;
  /** Actions only the extension host can do (set token, pick a folder to watch); absent on the page. */
  readonly hostAction?: (action: Exclude<PanelHostAction, 'connect' | 'disconnect'>) => void;
  readonly openCapture?: (name: string) => void;
}

interface VsCodeApi {
  postMessage(message: unknown): void;
}

declare const acquireVsCodeApi: (() => VsCodeApi) | undefined;

export function createTransport(): PanelTransport {
  return typeof acquireVsCodeApi === 'function' ? new VsCodeTransport(acquireVsCodeApi()) : new BrowserTransport();
}

class VsCodeTransport implements PanelTransport {
  readonly kind = 'vscode';
  constructor(private readonly api: VsCodeApi) {}

  start(listener: TransportListener): void {
    window.addEventListener('message', (event: MessageEvent) => {
      try {
        const message = parseHostToPanel(event.data);
        if (message.kind === 'server') listener.onMessage(message.message);
        else listener.onStatus(message.status);
      } catch (error) {
        console.warn('cumma: dropped a message from the extension host:', error instanceof GuardError ? error.message : error);
      }
    });
    this.post({ kind: 'ready' });
  }

  send(message: ClientMessage): void {
    this.post({ kind: 'client', message: parseClientMessage(message) });
  }

  connect(): void {
    this.post({ kind: 'action', action: 'connect' });
  }

  disconnect(): void {
    this.post({ kind: 'action', action: 'disconnect' });
  }

  copyDialog(dialog: PanelDialog): void {
    this.post({ kind: 'copyDialog', capture: dialog.capture, id: dialog.id });
  }

  selectDialog(capture: string, id: string | undefined): void {
    this.post({ kind: 'selectDialog', capture, id });
  }

  readonly hostAction = (action: Exclude<PanelHostAction, 'connect' | 'disconnect'>): void => this.post({ kind: 'action', action });
  readonly openCapture = (name: string): void => this.post({ kind: 'openCapture', name });

  private post(message: PanelToHost): void {
    this.api.postMessage(message);
  }
}

const TOKEN_KEY = 'cumma.token';

/**
 * The token arrives in the page address's fragment (#token=…), which browsers never send to a
 * server. It is moved to sessionStorage and removed from the address bar at once, so it does
 * not end up in history or a screenshot; it travels only in the WebSocket URL's query.
 */
export function takeTokenFromFragment(): string | undefined {
  const match = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (match) {
    const token = decodeURIComponent(match[1]!);
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
    } catch {
      // Storage disabled: the token lives for this page only.
    }
    history.replaceState(null, '', location.pathname + location.search);
    return token;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

class BrowserTransport implements PanelTransport {
  readonly kind = 'browser';
  private socket: WebSocket | undefined;
  private listener: TransportListener | undefined;
  private readonly backoff = new Backoff();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private wanted = true;
  private readonly token = takeTokenFromFragment();
  private readonly address = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;

  start(listener: TransportListener): void {
    this.listener = listener;
    this.open();
  }

  send(message: ClientMessage): void {
    const checked = parseClientMessage(message);
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(checked));
  }

  connect(): void {
    this.wanted = true;
    this.backoff.reset();
    if (this.socket === undefined) this.open();
  }

  disconnect(): void {
    this.wanted = false;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    socket?.close(1000, 'disconnect');
    this.status({ state: 'disconnected', url: this.address });
  }

  copyDialog(dialog: PanelDialog): void {
    void navigator.clipboard?.writeText(JSON.stringify(dialog, null, 2));
  }

  selectDialog(): void {
    // Nothing to tell: the page has no host.
  }

  private status(status: ConnectionStatus): void {
    this.listener?.onStatus(status);
  }

  private open(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.token === undefined) {
      this.status({ state: 'unauthorized', url: this.address, detail: 'no token: open the address the agent printed (…/#token=…)' });
      return;
    }
    this.status({ state: 'connecting', url: this.address });
    const socket = new WebSocket(`${this.address}?token=${encodeURIComponent(this.token)}`);
    this.socket = socket;
    let opened = false;
    socket.addEventListener('open', () => {
      opened = true;
      this.status({ state: 'connected', url: this.address });
    });
    socket.addEventListener('message', (event: MessageEvent) => {
      if (typeof event.data !== 'string') return;
      try {
        const message = parseServerFrame(event.data);
        if (message.type === 'hello') this.backoff.reset();
        this.listener?.onMessage(message);
      } catch (error) {
        console.warn('cumma: dropped a message from the agent:', error instanceof GuardError ? error.message : error);
      }
    });
    socket.addEventListener('close', (event: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (!this.wanted) return;
      // A browser cannot see why a handshake failed; a refused token and a stopped agent look alike.
      const detail = opened ? `connection closed (${event.code}${event.reason ? `: ${event.reason}` : ''})` : 'agent not reachable, or it refused the token';
      const delay = this.backoff.next();
      this.status({ state: 'retrying', url: this.address, detail, retryInMs: delay });
      this.retryTimer = setTimeout(() => this.open(), delay);
    });
  }
}
