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
 * Undefined when the fragment holds no token.
 */
export function takeFragmentToken(): string | undefined {
  const match = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (!match) return undefined;
  let token: string;
  try {
    token = decodeURIComponent(match[1]!);
  } catch {
    token = match[1]!; // Not percent-encoded after all: take it as it is.
  }
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage disabled: the token lives for this page only.
  }
  history.replaceState(null, '', location.pathname + location.search);
  return token;
}

/** The fragment's token, else the one this tab stored before (a reload has no fragment). */
export function takeTokenFromFragment(): string | undefined {
  const token = takeFragmentToken();
  if (token !== undefined) return token;
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/** What the agent says of a token, asked over plain HTTP. */
type TokenVerdict = 'accepted' | 'refused' | 'origin-refused' | 'unreachable' | 'unexpected';

/**
 * A browser cannot see why a WebSocket handshake failed: a refused token and a stopped agent
 * both end in a bare close event. So the page asks the same agent an authenticated question
 * over HTTP (GET /captures with the token): 401 is a refused token, 403 a refused origin, 200 a
 * good token (the WebSocket failed for another reason), a network error an agent gone.
 */
async function checkToken(token: string): Promise<TokenVerdict> {
  let response: Response;
  try {
    response = await fetch(new URL('/captures', location.href), { method: 'HEAD', headers: { Authorization: `Bearer ${token}` }, cache: 'no-store', credentials: 'omit' });
  } catch {
    return 'unreachable';
  }
  if (response.status === 401) return 'refused';
  if (response.status === 403) return 'origin-refused';
  return response.ok ? 'accepted' : 'unexpected';
}

class BrowserTransport implements PanelTransport {
  readonly kind = 'browser';
  private socket: WebSocket | undefined;
  private listener: TransportListener | undefined;
  private readonly backoff = new Backoff();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private wanted = true;
  /** Bumped on every new attempt, so that late events of an abandoned one are ignored. */
  private attempt = 0;
  private token = takeTokenFromFragment();
  private readonly address = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;

  start(listener: TransportListener): void {
    this.listener = listener;
    // Opening another …/#token= address in the same tab only changes the fragment: the page is
    // not reloaded, so the new token must be taken here, not only at load.
    window.addEventListener('hashchange', () => {
      const token = takeFragmentToken();
      if (token === undefined) return;
      this.token = token;
      this.connect();
    });
    this.open();
  }

  send(message: ClientMessage): void {
    const checked = parseClientMessage(message);
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(checked));
  }

  /** Connects afresh (closing any connection or pending retry), with the backoff reset. */
  connect(): void {
    this.wanted = true;
    this.backoff.reset();
    this.closeSocket();
    this.open();
  }

  disconnect(): void {
    this.wanted = false;
    this.closeSocket();
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

  private closeSocket(): void {
    this.attempt++;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    socket?.close(1000, 'disconnect');
  }

  private open(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const token = this.token;
    if (token === undefined) {
      this.status({ state: 'unauthorized', url: this.address, refusal: 'no-token', detail: 'no token: open the address the agent printed (…/#token=…)' });
      return;
    }
    const attempt = ++this.attempt;
    this.status({ state: 'connecting', url: this.address });
    const socket = new WebSocket(`${this.address}?token=${encodeURIComponent(token)}`);
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
      if (opened) {
        this.retry(attempt, `connection closed (${event.code}${event.reason ? `: ${event.reason}` : ''})`);
        return;
      }
      void checkToken(token).then((verdict) => this.handshakeFailed(attempt, verdict));
    });
  }

  /** After a handshake failed: stop on a refusal (retrying cannot help), else retry. */
  private handshakeFailed(attempt: number, verdict: TokenVerdict): void {
    if (attempt !== this.attempt || !this.wanted) return;
    switch (verdict) {
      case 'refused':
        this.status({ state: 'unauthorized', url: this.address, refusal: 'token', detail: 'the agent refused the token: open the address the agent printed (…/#token=…) again' });
        return;
      case 'origin-refused':
        this.status({ state: 'unauthorized', url: this.address, refusal: 'origin', detail: `the agent refused this page's origin (${location.origin}): open the address the agent printed` });
        return;
      case 'unreachable':
        return this.retry(attempt, 'agent not reachable');
      case 'accepted':
        return this.retry(attempt, 'the agent accepts the token but refused the WebSocket (too many clients?)');
      case 'unexpected':
        return this.retry(attempt, 'the WebSocket failed, and the agent gave an unexpected answer to a token check');
    }
  }

  private retry(attempt: number, detail: string): void {
    if (attempt !== this.attempt) return;
    const delay = this.backoff.next();
    this.status({ state: 'retrying', url: this.address, detail, retryInMs: delay });
    this.retryTimer = setTimeout(() => this.open(), delay);
  }
}
