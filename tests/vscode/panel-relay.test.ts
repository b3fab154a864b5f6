import { describe, expect, it } from 'vitest';
import { PanelRelay } from '../../vscode-extension/src/host/panel-relay';
import { AgentMirror } from '../../vscode-extension/src/shared/agent-mirror';
import type { HostToPanel } from '../../vscode-extension/src/shared/bridge';
import type { ClientMessage, ServerMessage } from '../../agent/src/serve/protocol';
import { capture, dialog, dialogMessage, hello, snapshot } from './fixtures';

function setup() {
  const mirror = new AgentMirror();
  const posted: HostToPanel[] = [];
  const sent: ClientMessage[] = [];
  let connected = true;
  const relay = new PanelRelay(mirror, (message) => posted.push(message), (message) => (connected ? (sent.push(message), true) : false));
  const fromAgent = (message: ServerMessage) => {
    mirror.apply(message);
    relay.fromAgent(message);
  };
  return { mirror, posted, sent, relay, fromAgent, disconnect: () => (connected = false) };
}

describe('PanelRelay', () => {
  it('answers a panel subscription from the host mirror, then passes on only that capture', () => {
    const { posted, relay, fromAgent } = setup();
    fromAgent(hello([capture('a.pcapng'), capture('b.pcapng')]));
    fromAgent(snapshot(['a.pcapng', 'b.pcapng'], [dialog({ id: 'a1' }), dialog({ id: 'b1', capture: 'b.pcapng' })]));
    posted.length = 0;
    relay.fromPanel({ v: 1, type: 'subscribe', captures: ['b.pcapng'] });
    expect(posted).toEqual([{ kind: 'server', message: snapshot(['b.pcapng'], [dialog({ id: 'b1', capture: 'b.pcapng' })]) }]);
    fromAgent(dialogMessage(dialog({ id: 'a2' })));
    fromAgent(dialogMessage(dialog({ id: 'b2', capture: 'b.pcapng' })));
    fromAgent({ v: 1, type: 'stats', packetsPerSecond: 1, packets: 2, dialogs: 3, captures: [] });
    expect(posted.slice(1).map((p) => (p.kind === 'server' ? p.message.type + (p.message.type === 'dialog' ? `:${p.message.dialog.id}` : '') : p.kind))).toEqual(['dialog:b2', 'stats']);
  });

  it('greets a (re)loaded panel with the connection state and a hello from the mirror', () => {
    const { posted, relay, fromAgent } = setup();
    fromAgent(hello([capture('a.pcapng')], [{ path: '/caps', state: 'watching' }]));
    fromAgent({ v: 1, type: 'capture', event: 'added', capture: capture('c.pcapng') });
    fromAgent({ v: 1, type: 'folder', event: 'missing', folder: { path: '/caps', state: 'missing' }, message: '/caps: the watched folder is gone' });
    posted.length = 0;
    relay.ready({ state: 'connected', url: 'ws://x' });
    expect(posted[0]).toEqual({ kind: 'connection', status: { state: 'connected', url: 'ws://x' } });
    const helloPosted = posted[1];
    expect(helloPosted?.kind === 'server' && helloPosted.message.type === 'hello' && helloPosted.message.captures.map((c) => c.name)).toEqual(['a.pcapng', 'c.pcapng']);
    // The folders as they are now: a panel loaded while one is missing shows it.
    expect(helloPosted?.kind === 'server' && helloPosted.message.type === 'hello' && helloPosted.message.folders).toEqual([{ path: '/caps', state: 'missing' }]);
  });

  it("tells the panel the dialogs the host holds of a capture it does not show, and that it was read, once", () => {
    const { posted, relay, fromAgent } = setup();
    fromAgent(hello([capture('a.pcapng')]));
    relay.fromPanel({ v: 1, type: 'subscribe', captures: ['a.pcapng'] });
    // Added while connected, and read whole before the agent's first progress update: the
    // agent says nothing more of it than this.
    const added = capture('b.pcapng', { state: 'reading', sizeBytes: 0, bytesRead: 0, packets: 0, dialogs: 0 });
    fromAgent({ v: 1, type: 'capture', event: 'added', capture: added });
    const stats = (lagBytes: number): ServerMessage => ({ v: 1, type: 'stats', packetsPerSecond: 0, packets: 0, dialogs: 0, captures: [{ name: 'b.pcapng', lagBytes, lagMs: 0 }] });
    // Not looked at yet: nothing left to read only because its size is not known.
    fromAgent(stats(0));
    fromAgent(dialogMessage(dialog({ id: 'b1', capture: 'b.pcapng' })));
    fromAgent(dialogMessage(dialog({ id: 'b2', capture: 'b.pcapng' })));
    posted.length = 0;
    fromAgent(stats(0));
    fromAgent(stats(0));
    const updates = posted.flatMap((p) => (p.kind === 'server' && p.message.type === 'capture' ? [p.message] : []));
    expect(updates).toEqual([{ v: 1, type: 'capture', event: 'updated', capture: { ...added, state: 'idle', dialogs: 2 } }]);
    expect(posted.map((p) => (p.kind === 'server' ? p.message.type : p.kind))).toEqual(['capture', 'stats', 'stats']);
  });

  it('forwards watch requests to the agent, answers pings itself, and says when the agent is away', () => {
    const { posted, sent, relay, disconnect } = setup();
    relay.fromPanel({ v: 1, type: 'watch', path: '/srv/captures' });
    expect(sent).toEqual([{ v: 1, type: 'watch', path: '/srv/captures' }]);
    relay.fromPanel({ v: 1, type: 'ping', id: 4 });
    expect(posted).toEqual([{ kind: 'server', message: { v: 1, type: 'pong', id: 4 } }]);
    disconnect();
    relay.fromPanel({ v: 1, type: 'watch', path: '/srv/other' });
    expect(posted[1]).toMatchObject({ kind: 'server', message: { type: 'error', code: 'WATCH_FAILED' } });
  });
});
