/**
 * Stands in for the agent towards one panel webview. The extension host keeps a single
 * connection subscribed to every capture (the capture editors need any of them); each panel
 * subscribes to the capture it shows, and gets its snapshot from the host's mirror and then
 * only that capture's dialogs. Everything passed on has been validated by the AgentClient;
 * everything a panel asks for is validated again before it reaches the agent.
 *
 * The panel holds the dialogs of its own capture only, so the counts of the others are the
 * host's to tell: capture infos go out as the host's mirror holds them (AgentMirror.asHeld),
 * and when that differs from what the panel was last told, the next stats (once a second)
 * bring an `updated` capture event with it.
 */
import type { CaptureInfo } from '../../../agent/src/live/label-feed';
import type { ClientMessage, HelloMessage, ServerMessage } from '../../../agent/src/serve/protocol';
import type { AgentMirror } from '../shared/agent-mirror';
import type { HostToPanel } from '../shared/bridge';
import type { ConnectionStatus } from '../shared/connection';

export class PanelRelay {
  private subscription: ReadonlySet<string> | '*' | undefined;
  /** Per capture, the state and dialog count the panel was last told. */
  private readonly told = new Map<string, string>();

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
    if (status.state === 'connected' && hello) this.postHello(hello);
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
        // Passed on as the agent sent it: until the snapshot that follows, the dialogs held are
        // the last connection's, no truer than its counts.
        this.told.clear();
        this.post({ kind: 'server', message });
        for (const capture of message.captures) this.told.set(capture.name, summary(capture));
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
      case 'capture': {
        const capture = message.event === 'removed' ? message.capture : this.mirror.asHeld(message.capture);
        if (message.event === 'removed') this.told.delete(capture.name);
        else this.told.set(capture.name, summary(capture));
        this.post({ kind: 'server', message: { ...message, capture } });
        return;
      }
      case 'stats':
        for (const capture of this.mirror.captures) {
          const held = this.mirror.asHeld(capture);
          if (this.told.get(held.name) === summary(held)) continue;
          this.told.set(held.name, summary(held));
          this.post({ kind: 'server', message: { v: 1, type: 'capture', event: 'updated', capture: held } });
        }
        this.post({ kind: 'server', message });
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

  /** A hello made from the mirror, for a panel that (re)loads: the captures as held. */
  private hello(): HelloMessage | undefined {
    const identity = this.mirror.identity;
    if (!identity) return undefined;
    const captures = this.mirror.captures.map((capture) => this.mirror.asHeld(capture));
    return { v: 1, type: 'hello', agent: identity.agent, protocol: 1, model: identity.model, captures, folders: this.mirror.folders, anonymized: identity.anonymized };
  }

  private postHello(hello: HelloMessage): void {
    this.told.clear();
    for (const capture of hello.captures) this.told.set(capture.name, summary(capture));
    this.post({ kind: 'server', message: hello });
  }
}

/** What the relay may amend of a capture info (AgentMirror.asHeld). */
function summary(capture: CaptureInfo): string {
  return `${capture.state}/${capture.dialogs}`;
}
