// The capture editor finds an open file's agent capture on every message that may change its
// labels, stats included (once a second, for every open editor). For a local agent that resolved
// the real path of every capture until one matched: with hundreds of ring-buffer captures,
// hundreds of realpath calls a second. It is now found again only when the capture list changed.
import { describe, expect, it } from 'vitest';
import type { CaptureInfo } from '../../agent/src/live/label-feed';
import { CaptureMatcher } from '../../vscode-extension/src/host/capture-match';
import { AgentMirror } from '../../vscode-extension/src/shared/agent-mirror';
import { capture, hello } from './fixtures';

const RING = Array.from({ length: 300 }, (_, i) => capture(`ring_${String(i).padStart(5, '0')}.pcapng`, { path: `/caps/ring_${String(i).padStart(5, '0')}.pcapng` }));

describe('an open file matched to a local agent’s captures', () => {
  it('resolves paths only when the capture list changed, not on stats', () => {
    const mirror = new AgentMirror();
    mirror.apply(hello(RING));
    const resolved: string[] = [];
    const matcher = new CaptureMatcher<CaptureInfo>('/home/me/ring_00299.pcapng', (path) => {
      resolved.push(path);
      // The open file is the agent's last ring file, reached through a symbolic link.
      return path === '/home/me/ring_00299.pcapng' ? '/caps/ring_00299.pcapng' : path;
    });
    const match = (): string | undefined => matcher.match(mirror.captures, true, mirror.capturesRevision)?.capture.name;
    expect(match()).toBe('ring_00299.pcapng');
    expect(resolved).toHaveLength(301);
    // A minute of stats messages: nothing resolved again.
    for (let second = 0; second < 60; second++) {
      mirror.apply({ v: 1, type: 'stats', packetsPerSecond: 0, packets: 0, dialogs: 0, captures: [] });
      expect(match()).toBe('ring_00299.pcapng');
    }
    expect(resolved).toHaveLength(301);
    // The ring buffer rotates: the file is gone from the agent's list, and the match with it.
    mirror.apply({ v: 1, type: 'capture', event: 'removed', capture: { ...RING[299]!, state: 'removed' } });
    expect(match()).toBeUndefined();
    expect(resolved.length).toBeGreaterThan(301);
  });

  it('matches again after a new connection (hello) and when the agent is no longer taken as local', () => {
    const mirror = new AgentMirror();
    mirror.apply(hello([]));
    const matcher = new CaptureMatcher<CaptureInfo>('/caps/a.pcapng', (path) => path);
    expect(matcher.match(mirror.captures, true, mirror.capturesRevision)).toBeUndefined();
    mirror.apply(hello([capture('a.pcapng', { path: '/caps/a.pcapng' })]));
    expect(matcher.match(mirror.captures, true, mirror.capturesRevision)).toMatchObject({ by: 'path' });
    // Remote: another rule (by name when the path differs), so not the cached answer.
    const other = new CaptureMatcher<CaptureInfo>('/elsewhere/a.pcapng', (path) => path);
    expect(other.match(mirror.captures, true, mirror.capturesRevision)).toBeUndefined();
    expect(other.match(mirror.captures, false, mirror.capturesRevision)).toMatchObject({ by: 'name' });
  });
});
