/**
 * The extension host's WebSocket to the agent (Node `ws`, bundled). Authenticates with the
 * token in an Authorization header (never in the URL, so it is in no log), validates every
 * frame, reconnects with exponential backoff, and reports a problem once per outage — the
 * first failure after a success or an explicit connect — not on every retry. A refused token
 * stops the retries until connect() is called again. After each hello it sends what the
 * connection must re-establish (options.resume).
 */
import WebSocket from 'ws';
import type { ClientMessage, ServerMessage } from '../../../agent/src/serve/protocol';
import { Backoff, BackoffOptions } from '../shared/backoff';
import type { ConnectionStatus } from '../shared/connection';
import { GuardError } from '../shared/guard';
import { parseClientMessage, parseServerFrame } from '../shared/protocol-guard';

export interface AgentProblem {
  readonly kind: 'unreachable' | 'unauthorized' | 'protocol' | 'bad-url';
  readonly message: string;
}

export interface AgentClientEvents {
  status(status: ConnectionStatus): void;
  message(message: ServerMessage): void;
  /** Once per outage. */
  problem(problem: AgentProblem): void;
  /** Frames that failed validation (logged, never shown as errors). */
  invalid?(reason: string): void;
}

export interface AgentClientOptions {
  readonly url: string;
  /** Tokens to try in order (e.g. the stored secret, then the local agent's token file). */
  readonly tokens: () => Promise<readonly string[]>;
  readonly backoff?: BackoffOptions;
  readonly handshakeTimeoutMs?: number;
  /** Largest frame accepted: a snapshot of a big capture is large. */
  readonly maxPayload?: number;
  /**
   * Messages to send after every hello, i.e. on each (re)connection: a restarted agent has
   * forgotten the last connection's subscription and the folders it was asked to watch.
   */
  readonly resume?: () => readonly ClientMessage[];
}

/** Validates the agent address setting: ws:// or wss://, no credentials, no token in it. */
export function checkAgentUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`cumma.agentUrl is not a URL: ${text}`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error(`cumma.agentUrl must start with ws:// or wss://, not ${url.protocol}//`);
  if (url.username || url.password) throw new Error('cumma.agentUrl must not carry credentials: set the token with "Cumma: Set agent token"');
  if (url.searchParams.has('token')) throw new Error('cumma.agentUrl must not carry the token: set it with "Cumma: Set agent token"');
  return url;
}

export class AgentClient {
  private socket: WebSocket | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly backoff: Backoff;
  private wanted = false;
  private problemShown = false;
  private tokenIndex = 0;
  private generation = 0;
  private current: ConnectionStatus;

  constructor(
    private readonly options: AgentClientOptions,
    private readonly events: AgentClientEvents,
  ) {
    this.backoff = new Backoff(options.backoff);
    this.current = { state: 'disconnected', url: options.url };
  }

  get status(): ConnectionStatus {
    return this.current;
  }

  get connected(): boolean {
    return this.current.state === 'connected';
  }

  /** Starts connecting (again): resets the backoff and the once-per-outage problem flag. */
  connect(): void {
    this.wanted = true;
    this.problemShown = false;
    this.tokenIndex = 0;
    this.backoff.reset();
    this.closeSocket();
    void this.attempt();
  }

  disconnect(): void {
    this.wanted = false;
    this.closeSocket();
    this.setStatus({ state: 'disconnected', url: this.options.url });
  }

  /** Validates and sends; false when not connected. */
  send(message: ClientMessage): boolean {
    const checked = parseClientMessage(message);
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(checked));
    return true;
  }

  dispose(): void {
    this.disconnect();
  }

  private closeSocket(): void {
    this.generation++;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.terminate();
    }
  }

  private setStatus(status: ConnectionStatus): void {
    this.current = status;
    this.events.status(status);
  }

  private report(problem: AgentProblem): void {
    if (this.problemShown) return;
    this.problemShown = true;
    this.events.problem(problem);
  }

  private async attempt(): Promise<void> {
    const generation = this.generation;
    let url: URL;
    try {
      url = checkAgentUrl(this.options.url);
    } catch (error) {
      this.wanted = false;
      this.setStatus({ state: 'disconnected', url: this.options.url, detail: (error as Error).message });
      this.report({ kind: 'bad-url', message: (error as Error).message });
      return;
    }
    this.setStatus({ state: 'connecting', url: this.options.url });
    const tokens = await this.options.tokens();
    if (generation !== this.generation || !this.wanted) return;
    const token = tokens[this.tokenIndex];
    const headers: Record<string, string> = token !== undefined ? { Authorization: `Bearer ${token}` } : {};
    const socket = new WebSocket(url, { headers, handshakeTimeout: this.options.handshakeTimeoutMs ?? 5000, maxPayload: this.options.maxPayload ?? 512 * 1024 * 1024, perMessageDeflate: false });
    this.socket = socket;
    let opened = false;
    let failure = '';
    socket.on('open', () => {
      opened = true;
      this.tokenIndex = 0;
      this.setStatus({ state: 'connected', url: this.options.url });
    });
    socket.on('message', (data, isBinary) => {
      if (isBinary) return this.events.invalid?.('binary frame');
      let message: ServerMessage;
      try {
        message = parseServerFrame(data.toString());
      } catch (error) {
        return this.events.invalid?.(error instanceof GuardError ? error.message : String(error));
      }
      if (message.type === 'hello') {
        // A working connection: the next outage is reported again.
        this.backoff.reset();
        this.problemShown = false;
      }
      this.events.message(message);
      if (message.type === 'hello') for (const resumed of this.options.resume?.() ?? []) this.send(resumed);
    });
    socket.on('error', (error) => {
      failure = error.message;
    });
    socket.on('close', (code, reason) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (!this.wanted) return;
      const status = /Unexpected server response: (\d+)/.exec(failure)?.[1];
      if (!opened && (status === '401' || status === '403')) {
        if (this.tokenIndex + 1 < tokens.length) {
          // Try the next token source at once (e.g. the agent's token file after a stale secret).
          this.tokenIndex++;
          void this.attempt();
          return;
        }
        const message = token === undefined ? 'the agent needs a token: run "Cumma: Set agent token"' : 'the agent refused the token: run "Cumma: Set agent token"';
        this.setStatus({ state: 'unauthorized', url: this.options.url, refusal: token === undefined ? 'no-token' : 'token', detail: message });
        this.report({ kind: 'unauthorized', message });
        return;
      }
      const detail = opened ? `connection closed (${code}${reason.length ? `: ${reason.toString()}` : ''})` : failure || 'connection failed';
      const delay = this.backoff.next();
      this.setStatus({ state: 'retrying', url: this.options.url, detail, retryInMs: delay });
      this.report({ kind: 'unreachable', message: `Cumma agent at ${this.options.url}: ${detail}` });
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.wanted && generation === this.generation) void this.attempt();
      }, delay);
    });
  }
}
