/**
 * Stands in for the agent towards one panel webview. The extension host keeps a single
 * connection subscribed to every capture (the capture editors need any of them); each panel
 * subscribes to the capture it shows, and gets its snapshot from the host's mirror and then
 * only that capture's dialogs. Everything passed on has been validated by the AgentClient;
 * everything a panel asks for is validated again before it reaches the agent.
 */
import type { ClientMessage, HelloMessage, ServerMessage } from '../../../agent/src/serve/protocol';
import type { AgentMirror } from '../shared/agent-mirror';
import type { HostToPanel } from '../shared/bridge';
import type { ConnectionStatus } from '../shared/connection';

export class PanelRelay {
  private subscription: ReadonlySet<string> | '*' | undefined;

  constructor(
    private readonly mirror: AgentMirror,
    private readonly post: (message: HostToPanel) => void,
    private readonly toAgent: (message: ClientMessage) => boolean,
  ) {}

  /** The panel (re)loaded: tell it where things stand. */
  ready(status: ConnectionStatus): void {
    this.subscription = undefined;
    this.post({ kind: 'connection', status });
    const hello = this.hello();
    if (status.state === 'connected' && hello) this.post({ kind: 'server', message: hello });
  }

  status(status: ConnectionStatus): void {
    if (status.state !== 'connected') this.subscription = undefined;
    this.post({ kind: 'connection', status });
  }

  /** A message from the agent, already applied to the mirror. */
  fromAgent(message: ServerMessage): void {
    switch (message.type) {
      case 'hello':
        this.subscription = undefined;
        this.post({ kind: 'server', message });
        return;
      case 'snapshot': {
        // The host's own subscription answered: pass on what this panel subscribed to.
        const wanted = this.subscription;
        if (wanted === undefined) return;
        const captures = wanted === '*' ? message.captures : message.captures.filter((name) => wanted.has(name));
        if (captures.length === 0) return;
        this.post({ kind: 'server', message: this.snapshot(captures) });
        return;
      }
      case 'dialog':
        if (this.subscribed(message.dialog.capture)) this.post({ kind: 'server', message });
        return;
      case 'pong':
        return;
      default:
        this.post({ kind: 'server', message });
    }
  }

  /** A message from the panel (already validated as a ClientMessage). */
  fromPanel(message: ClientMessage): void {
    switch (message.type) {
      case 'subscribe': {
        const captures = message.captures;
        this.subscription = captures === '*' ? '*' : new Set(captures);
        const names = captures === '*' ? this.mirror.captures.map((capture) => capture.name) : captures;
        this.post({ kind: 'server', message: this.snapshot(names) });
        return;
      }
      case 'unsubscribe':
        this.subscription = undefined;
        return;
      case 'ping':
        this.post({ kind: 'server', message: message.id === undefined ? { v: 1, type: 'pong' } : { v: 1, type: 'pong', id: message.id } });
        return;
      case 'watch':
        if (!this.toAgent(message)) this.post({ kind: 'server', message: { v: 1, type: 'error', code: 'WATCH_FAILED', message: 'not connected to the agent' } });
        return;
    }
  }

  private subscribed(capture: string): boolean {
    return this.subscription === '*' || (this.subscription !== undefined && this.subscription.has(capture));
  }

  private snapshot(captures: readonly string[]): ServerMessage {
    return { v: 1, type: 'snapshot', captures: [...captures], dialogs: captures.flatMap((name) => this.mirror.dialogs(name)) };
  }

  private hello(): HelloMessage | undefined {
    const identity = this.mirror.identity;
    if (!identity) return undefined;
    return { v: 1, type: 'hello', agent: identity.agent, protocol: 1, model: identity.model, captures: this.mirror.captures, folders: this.mirror.folders, anonymized: identity.anonymized };
  }
}
