// The capture editor when its file goes away, comes back, or is read again (label-plan.ts,
// selection-nav.ts), and the buttons it then offers (editor-buttons.ts).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { editorButtons } from '../../vscode-extension/src/editor/editor-buttons';
import { NO_MATCH_TEXT, hiddenSelectionText, keyTargetRow, selectionAfterReread } from '../../vscode-extension/src/editor/selection-nav';
import { classifyLocally } from '../../vscode-extension/src/host/local-classify';
import { cacheableLocal, folderWatched, followAction, forgetOldFile, missingFileSource } from '../../vscode-extension/src/host/label-plan';
import type { LabelAssignment } from '../../vscode-extension/src/host/label-match';
import { parseHostToEditor, type LabelSource } from '../../vscode-extension/src/shared/bridge';

const GONE = { size: 0, ino: 0, nlink: 0 };
const FILE = { size: 4096, ino: 42, nlink: 1 };
const agentSource: LabelSource = { kind: 'agent', detail: 'agent · a.pcapng (caught up) · model m', dialogs: 12, labelledPackets: 340, agentLabels: 'fit' };

describe('a capture whose file goes missing (issue 1)', () => {
  it('does not keep a local classification that read nothing', () => {
    // What classifyLocally returns for a missing path: the read failed before the first packet.
    expect(cacheableLocal({ records: [], error: 'ENOENT: no such file', packetsRead: 0 }, false)).toBe(false);
    expect(cacheableLocal({ records: [], error: 'ENOENT: no such file' }, false)).toBe(false);
    expect(cacheableLocal({ records: [], packetsRead: 10 }, true)).toBe(false);
  });

  it('the bundled classifier run on a missing path gives a result that is not kept; one of a capture is', () => {
    const root = join(__dirname, '..', '..');
    const model = join(root, 'models', 'default.json');
    const missing = classifyLocally(join(root, 'samples', 'no-such-capture.pcapng'), model);
    expect(missing.error).toBeDefined();
    expect(cacheableLocal(missing, false)).toBe(false);
    const sample = classifyLocally(join(root, 'samples', 'whatsapp-chat.pcapng'), model);
    expect(sample.packetsRead).toBeGreaterThan(0);
    expect(cacheableLocal(sample, false)).toBe(true);
  });

  it('keeps a classification read up to a fault after some packets, or read whole', () => {
    expect(cacheableLocal({ records: [], error: 'bad block at 4096', packetsRead: 3 }, false)).toBe(true);
    expect(cacheableLocal({ records: [], packetsRead: 0 }, false)).toBe(true);
  });

  it('tells a deletion, and a return of the file with the same stat as before it went', () => {
    expect(followAction(GONE, FILE, 4096)).toEqual({ kind: 'deleted' });
    expect(followAction(FILE, GONE, 4096)).toEqual({ kind: 'read', read: 'more', restored: true });
    expect(followAction({ ...FILE, size: 8192 }, FILE, 4096)).toEqual({ kind: 'read', read: 'more', restored: false });
    expect(followAction({ ...FILE, ino: 43 }, FILE, 4096)).toEqual({ kind: 'read', read: 'again', restored: false });
    expect(followAction({ ...FILE, size: 100 }, FILE, 4096)).toEqual({ kind: 'read', read: 'again', restored: false });
  });

  it('says the file is missing when no labels were shown', () => {
    const source = missingFileSource({ kind: 'pending', detail: 'reading the capture…', dialogs: 0, labelledPackets: 0, agentLabels: 'none' }, false);
    expect(source).toMatchObject({ kind: 'none', fileMissing: true });
    expect(source.detail).toMatch(/missing/);
  });
});

describe('a watched capture deleted while open (issue 2)', () => {
  it("keeps the agent's labels and says the file was deleted", () => {
    const source = missingFileSource(agentSource, true);
    expect(source).toMatchObject({ kind: 'agent', dialogs: 12, labelledPackets: 340, agentLabels: 'fit', fileMissing: true });
    expect(source.detail).toContain(agentSource.detail);
    expect(source.detail).toMatch(/deleted/);
    // Said once, however often the labels are looked at again.
    expect(missingFileSource(source, true)).toBe(source);
  });

  it('offers no button for a missing file', () => {
    expect(editorButtons(missingFileSource(agentSource, true), 'connected')).toEqual({ classify: false, useAgent: false, watchFolder: false });
    expect(editorButtons(missingFileSource({ ...agentSource, kind: 'local', agentLabels: 'none' }, true), 'connected').watchFolder).toBe(false);
  });

  it('offers no "Watch folder" for a folder the agent already watches', () => {
    const local: LabelSource = { kind: 'local', detail: '', dialogs: 0, labelledPackets: 0, agentLabels: 'none' };
    expect(editorButtons({ ...local, folderWatched: true }, 'connected').watchFolder).toBe(false);
    expect(editorButtons(local, 'connected').watchFolder).toBe(true);
    expect(folderWatched([{ path: '/captures/' }], '/captures/a.pcapng')).toBe(true);
    expect(folderWatched([{ path: '/captures' }], '/captures/a.pcapng')).toBe(true);
    expect(folderWatched([{ path: '/other' }], '/captures/a.pcapng')).toBe(false);
  });

  it('carries both flags to the webview, and refuses other values', () => {
    const message = { kind: 'labels', revision: 1, source: { ...agentSource, fileMissing: true, folderWatched: true } };
    expect(parseHostToEditor(message)).toEqual(message);
    expect(() => parseHostToEditor({ ...message, source: { ...agentSource, fileMissing: false } })).toThrow();
  });
});

describe('a capture read again from the start (issues 3, 4)', () => {
  it('forgets the labels, dialogs and a selection past the end of the old file', () => {
    const state = { local: undefined, localStale: true, generation: 3, assignment: { usage: new Uint8Array(10), dialog: new Int32Array(10), labelledPackets: 10 } as unknown as LabelAssignment, dialogs: [{}, {}], selectedPacket: 8 };
    forgetOldFile(state, 5);
    expect(state).toMatchObject({ generation: 4, localStale: false, assignment: undefined, dialogs: [], selectedPacket: -1 });
  });

  it('keeps a selection that is still in the file', () => {
    const state = { local: undefined, localStale: false, generation: 0, assignment: undefined, dialogs: [], selectedPacket: 2 };
    forgetOldFile(state, 5);
    expect(state.selectedPacket).toBe(2);
  });

  it('clears the webview selection beyond the new end', () => {
    expect(selectionAfterReread(8, 8, 5)).toEqual({ packet: -1, row: -1 });
    expect(selectionAfterReread(-1, 7, 5)).toEqual({ packet: -1, row: -1 });
    expect(selectionAfterReread(4, 4, 5)).toEqual({ packet: 4, row: 4 });
    expect(selectionAfterReread(4, -1, 5)).toEqual({ packet: 4, row: -1 });
  });
});

describe('keys in the packet list (issue 5)', () => {
  it('enters the list at the first row with ArrowDown when no row is selected (or it is hidden)', () => {
    expect(keyTargetRow('ArrowDown', -1, 10, 5)).toBe(0);
    expect(keyTargetRow('PageDown', -1, 10, 5)).toBe(0);
    expect(keyTargetRow('Home', -1, 10, 5)).toBe(0);
  });

  it('enters it at the last row with ArrowUp or End', () => {
    expect(keyTargetRow('ArrowUp', -1, 10, 5)).toBe(9);
    expect(keyTargetRow('End', -1, 10, 5)).toBe(9);
  });

  it('moves from a visible selection, within the list', () => {
    expect(keyTargetRow('ArrowDown', 3, 10, 5)).toBe(4);
    expect(keyTargetRow('ArrowUp', 0, 10, 5)).toBe(0);
    expect(keyTargetRow('PageDown', 7, 10, 5)).toBe(9);
    expect(keyTargetRow('Home', 7, 10, 5)).toBe(0);
    expect(keyTargetRow('x', 3, 10, 5)).toBeUndefined();
    expect(keyTargetRow('ArrowDown', -1, 0, 5)).toBeUndefined();
  });

  it('says a selected packet is hidden by the filter, and when nothing matches', () => {
    expect(hiddenSelectionText(1233)).toMatch(/Packet 1,234 .*hidden by the usage filter/);
    expect(NO_MATCH_TEXT).toMatch(/no packet matches the filter/i);
  });
});
