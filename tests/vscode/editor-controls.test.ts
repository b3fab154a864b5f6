// The capture editor's controls, as the webview applies them: which buttons would change
// something (editor-buttons.ts), and what "Go to packet…" makes of what was typed (packet-goto.ts).
import { describe, expect, it } from 'vitest';
import { editorButtons } from '../../vscode-extension/src/editor/editor-buttons';
import { gotoTarget } from '../../vscode-extension/src/editor/packet-goto';
import type { LabelSource } from '../../vscode-extension/src/shared/bridge';

const source = (kind: LabelSource['kind'], agentLabels: LabelSource['agentLabels']): LabelSource => ({ kind, detail: '', dialogs: 0, labelledPackets: 0, agentLabels });

describe('editorButtons', () => {
  it('offers nothing for a capture the connected agent does not watch but watching its folder', () => {
    expect(editorButtons(source('local', 'none'), 'connected')).toEqual({ classify: false, useAgent: false, watchFolder: true });
  });

  it("does not offer watching the capture's folder to an agent on another machine, whose folders are not this machine's", () => {
    expect(editorButtons(source('local', 'none'), 'connected', false)).toEqual({ classify: false, useAgent: false, watchFolder: false });
    expect(editorButtons(source('local', 'none'), 'connected', true).watchFolder).toBe(true);
  });

  it("offers the agent's labels after Classify locally when the agent has labels for the capture", () => {
    expect(editorButtons(source('local', 'fit'), 'connected')).toEqual({ classify: false, useAgent: true, watchFolder: false });
  });

  it("offers neither the agent's labels nor watching for a same-named capture whose labels do not fit", () => {
    expect(editorButtons(source('local', 'misfit'), 'connected')).toEqual({ classify: false, useAgent: false, watchFolder: false });
  });

  it('offers local labels only where they are not shown nor coming', () => {
    expect(editorButtons(source('agent', 'fit'), 'connected')).toEqual({ classify: true, useAgent: false, watchFolder: false });
    expect(editorButtons(source('pending', 'none'), 'connected').classify).toBe(false);
    expect(editorButtons(source('none', 'none'), 'connected').classify).toBe(true);
  });

  it('offers connecting only when no agent is connected nor being tried', () => {
    expect(editorButtons(source('local', 'none'), 'disconnected')).toEqual({ classify: false, useAgent: true, watchFolder: false });
    for (const state of ['connecting', 'retrying', 'unauthorized'] as const) expect(editorButtons(source('local', 'none'), state).useAgent, state).toBe(false);
  });

  it('shows no button before the host says where the labels come from', () => {
    expect(editorButtons(undefined, 'connected')).toEqual({ classify: false, useAgent: false, watchFolder: false });
  });
});

describe('gotoTarget', () => {
  it('goes to a packet in range, thousands separators allowed', () => {
    expect(gotoTarget('1', 865)).toEqual({ index: 0 });
    expect(gotoTarget(' 865 ', 865)).toEqual({ index: 864 });
    expect(gotoTarget('1,000', 1_000_000)).toEqual({ index: 999 });
  });

  it('says a number out of range is, naming the range', () => {
    expect(gotoTarget('99999', 865)).toEqual({ problem: 'no packet 99,999 (1–865)' });
    expect(gotoTarget('0', 865)).toEqual({ problem: 'no packet 0 (1–865)' });
    expect(gotoTarget('2', 1)).toEqual({ problem: 'no packet 2 (only packet 1)' });
  });

  it('says what is not a number, naming the range', () => {
    expect(gotoTarget('abc', 865)).toEqual({ problem: 'not a packet number: "abc" (1–865)' });
    expect(gotoTarget('12abc', 865)).toEqual({ problem: 'not a packet number: "12abc" (1–865)' });
    expect(gotoTarget('-3', 865)).toEqual({ problem: 'not a packet number: "-3" (1–865)' });
    expect(gotoTarget('  ', 865)).toEqual({ problem: 'type a packet number (1–865)' });
    expect(gotoTarget('1', 0)).toEqual({ problem: 'no packets to go to' });
  });
});
