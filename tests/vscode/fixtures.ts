// Protocol messages for the extension's tests, shaped as agent/src/serve/protocol.ts says.
import type { CaptureInfo, FolderInfo, LiveDialog } from '../../agent/src/live/label-feed';
import type { UsageVerdict } from '../../agent/src/labels';
import type { ServerMessage } from '../../agent/src/serve/protocol';

export function dialog(overrides: Partial<LiveDialog> & { id: string }): LiveDialog {
  return {
    capture: 'a.pcapng',
    l4: 'tcp',
    client: { ip: '10.0.0.2', port: 50000 },
    server: { ip: '157.240.1.1', port: 443 },
    firstUs: 1_700_000_000_000_000,
    lastUs: 1_700_000_001_000_000,
    packets: { up: 3, down: 4 },
    bytes: { up: 300, down: 4000 },
    session: 1,
    dialog: 1,
    startUs: 1_700_000_000_000_000,
    endUs: 1_700_000_001_000_000,
    usage: 'text' as UsageVerdict,
    confidence: 0.9,
    scores: { text: 0.9, photo: 0.1 },
    status: 'final',
    outlier: false,
    model: 'default@1',
    ...overrides,
  };
}

export function capture(name: string, overrides: Partial<CaptureInfo> = {}): CaptureInfo {
  return { name, path: `/captures/${name}`, state: 'idle', sizeBytes: 1000, bytesRead: 1000, packets: 10, dialogs: 2, ...overrides };
}

export function hello(captures: CaptureInfo[], folders: FolderInfo[] = []): ServerMessage {
  return {
    v: 1,
    type: 'hello',
    agent: 'cumma 0.1.0',
    protocol: 1,
    model: { name: 'default', classes: ['text', 'photo'], gaps: { sessionGapUs: 60_000_000, dialogGapUs: 5_000_000 } },
    captures,
    folders,
    anonymized: false,
  };
}

export function snapshot(captures: string[], dialogs: LiveDialog[]): ServerMessage {
  return { v: 1, type: 'snapshot', captures, dialogs };
}

export function dialogMessage(value: LiveDialog): ServerMessage {
  return { v: 1, type: 'dialog', dialog: value };
}
