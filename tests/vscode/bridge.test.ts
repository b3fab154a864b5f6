import { describe, expect, it } from 'vitest';
import { parseEditorToHost, parseHostToEditor, parseHostToPanel, parsePanelToHost } from '../../vscode-extension/src/shared/bridge';
import { GuardError } from '../../vscode-extension/src/shared/guard';
import { dialog } from './fixtures';

describe('host ↔ webview messages', () => {
  it('passes what the panel may ask and refuses the rest', () => {
    expect(parsePanelToHost({ kind: 'client', message: { v: 1, type: 'subscribe', captures: ['a'] } })).toEqual({ kind: 'client', message: { v: 1, type: 'subscribe', captures: ['a'] } });
    expect(parsePanelToHost({ kind: 'action', action: 'watchFolder' })).toEqual({ kind: 'action', action: 'watchFolder' });
    expect(() => parsePanelToHost({ kind: 'action', action: 'workbench.action.terminal.new' })).toThrow(GuardError);
    expect(() => parsePanelToHost({ kind: 'client', message: { v: 1, type: 'subscribe', captures: 5 } })).toThrow(GuardError);
    expect(() => parsePanelToHost({ kind: 'eval', code: '1' })).toThrow(GuardError);
  });

  it('validates what the host sends the panel, server messages included', () => {
    expect(parseHostToPanel({ kind: 'connection', status: { state: 'retrying', url: 'ws://x', retryInMs: 1000, detail: 'ECONNREFUSED' } })).toMatchObject({ kind: 'connection' });
    expect(() => parseHostToPanel({ kind: 'server', message: { v: 1, type: 'dialog', dialog: { ...dialog({ id: 'd' }), usage: 'evil' } } })).toThrow(GuardError);
    expect(() => parseHostToPanel({ kind: 'connection', status: { state: 'happy', url: 'x' } })).toThrow(GuardError);
  });

  it('bounds the capture editor row requests', () => {
    expect(parseEditorToHost({ kind: 'rows', requestId: 1, first: 0, count: 256 })).toEqual({ kind: 'rows', requestId: 1, first: 0, count: 256 });
    expect(() => parseEditorToHost({ kind: 'rows', requestId: 1, first: 0, count: 1e9 })).toThrow(GuardError);
    expect(() => parseEditorToHost({ kind: 'select', packet: -1 })).toThrow(GuardError);
  });

  it("passes a label source with what the agent has for the capture, and refuses one without", () => {
    const source = { kind: 'local', detail: 'default (asked for)', dialogs: 3, labelledPackets: 40, agentLabels: 'fit' };
    expect(parseHostToEditor({ kind: 'labels', source, revision: 2 })).toEqual({ kind: 'labels', source, revision: 2 });
    expect(() => parseHostToEditor({ kind: 'labels', source: { ...source, agentLabels: 'maybe' }, revision: 2 })).toThrow(GuardError);
    const { agentLabels: _agentLabels, ...without } = source;
    expect(() => parseHostToEditor({ kind: 'labels', source: without, revision: 2 })).toThrow(GuardError);
  });

  it('checks every field of a packet row', () => {
    const row = [1, 1.7e15, '10.0.0.2:5000', '1.1.1.1:443', 'TCP', 74, 0, 0, 3];
    expect(parseHostToEditor({ kind: 'rows', requestId: 2, first: 0, rows: [row] })).toEqual({ kind: 'rows', requestId: 2, first: 0, rows: [row] });
    expect(() => parseHostToEditor({ kind: 'rows', requestId: 2, first: 0, rows: [[...row.slice(0, 8)]] })).toThrow(GuardError);
    expect(() => parseHostToEditor({ kind: 'rows', requestId: 2, first: 0, rows: [[...row.slice(0, 6), 300, 0, 3]] })).toThrow(GuardError);
    expect(() => parseHostToEditor({ kind: 'selection', selection: { packet: 0, flowId: 0, flowPackets: 1, dialogRef: 0, dialog: { id: 'x' } } })).toThrow(GuardError);
  });
});
