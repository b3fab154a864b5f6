// AgentMirror.asHeld: a capture as the dialogs a client holds show it, when the agent's last
// capture event is older news (a file read whole before the agent's first progress update).
import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../agent/src/serve/protocol';
import { AgentMirror } from '../../vscode-extension/src/shared/agent-mirror';
import { capture, dialog, dialogMessage, hello } from './fixtures';

const stats = (name: string, lagBytes: number): ServerMessage => ({ v: 1, type: 'stats', packetsPerSecond: 0, packets: 0, dialogs: 0, captures: [{ name, lagBytes, lagMs: 0 }] });
const added = capture('b.pcapng', { state: 'reading', sizeBytes: 0, bytesRead: 0, packets: 0, dialogs: 0 });

function mirrorWithAdded(): AgentMirror {
  const mirror = new AgentMirror();
  mirror.apply(hello([]));
  mirror.apply({ v: 1, type: 'capture', event: 'added', capture: added });
  return mirror;
}

describe('AgentMirror.asHeld', () => {
  it('counts the dialogs held when the capture event says fewer', () => {
    const mirror = mirrorWithAdded();
    for (const id of ['b1', 'b2', 'b3']) mirror.apply(dialogMessage(dialog({ id, capture: 'b.pcapng' })));
    expect(mirror.asHeld(mirror.capture('b.pcapng')!)).toEqual({ ...added, dialogs: 3 });
    // The agent's own count, when larger (dialogs of a capture not subscribed to), stays.
    expect(mirror.asHeld(capture('c.pcapng', { dialogs: 7 })).dialogs).toBe(7);
  });

  it('calls a reading capture idle once stats find it caught up with dialogs held', () => {
    const mirror = mirrorWithAdded();
    mirror.apply(stats('b.pcapng', 0));
    // Just added, size not known yet: not read, whatever the lag says.
    expect(mirror.asHeld(mirror.capture('b.pcapng')!).state).toBe('reading');
    mirror.apply(dialogMessage(dialog({ id: 'b1', capture: 'b.pcapng' })));
    expect(mirror.asHeld(mirror.capture('b.pcapng')!).state).toBe('reading');
    mirror.apply(stats('b.pcapng', 0));
    expect(mirror.asHeld(mirror.capture('b.pcapng')!)).toEqual({ ...added, state: 'idle', dialogs: 1 });
    // Bytes left to read again: reading.
    mirror.apply(stats('b.pcapng', 4096));
    expect(mirror.asHeld(mirror.capture('b.pcapng')!).state).toBe('reading');
  });

  it('believes a capture event newer than the stats', () => {
    const mirror = mirrorWithAdded();
    mirror.apply(dialogMessage(dialog({ id: 'b1', capture: 'b.pcapng' })));
    mirror.apply(stats('b.pcapng', 0));
    mirror.apply({ v: 1, type: 'capture', event: 'updated', capture: { ...added, sizeBytes: 9000, bytesRead: 4000, dialogs: 1 } });
    expect(mirror.asHeld(mirror.capture('b.pcapng')!).state).toBe('reading');
  });
});
