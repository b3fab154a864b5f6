import { describe, expect, it } from 'vitest';
import { restoredViewState, storedViewState, viewStateFor } from '../../vscode-extension/src/editor/view-state';

describe('capture editor view state across a webview reload', () => {
  it('gives back the filter and selection it stored', () => {
    const stored = storedViewState({ usages: ['voice_call', 'unlabelled'], packet: 41 });
    // VS Code keeps it as JSON.
    expect(restoredViewState(JSON.parse(JSON.stringify(stored)))).toEqual({ usages: ['voice_call', 'unlabelled'], packet: 41 });
    expect(restoredViewState(storedViewState({ usages: [], packet: -1 }))).toEqual({ usages: [], packet: -1 });
  });

  it('gives back the sort it stored, and the file order for a state stored before sorting existed', () => {
    const stored = storedViewState({ usages: ['text'], packet: 7, sort: { column: 'length', descending: true } });
    expect(restoredViewState(JSON.parse(JSON.stringify(stored)))).toEqual({ usages: ['text'], packet: 7, sort: { column: 'length', descending: true } });
    expect(restoredViewState(JSON.parse(JSON.stringify(storedViewState({ usages: [], packet: -1, sort: { column: 'source', descending: false } }))))).toEqual({ usages: [], packet: -1, sort: { column: 'source', descending: false } });
    expect(restoredViewState({ version: 1, usages: ['photo'], packet: 3 })).toEqual({ usages: ['photo'], packet: 3 });
  });

  it('drops a stored sort it does not recognise, keeping the rest', () => {
    for (const sort of [{ column: 'payload', descending: false }, { column: 'length' }, { column: 'length', descending: 'yes' }, 'length', null, 7, ['length', true]]) {
      expect(restoredViewState({ version: 1, usages: ['text'], packet: 3, sort })).toEqual({ usages: ['text'], packet: 3 });
    }
  });

  it('has nothing to restore from a first opening or from a state of another version', () => {
    expect(restoredViewState(undefined)).toBeUndefined();
    expect(restoredViewState(null)).toBeUndefined();
    expect(restoredViewState('voice_call')).toBeUndefined();
    expect(restoredViewState({ usages: ['chat'], packet: 3 })).toBeUndefined();
    expect(restoredViewState({ version: 2, usages: ['chat'], packet: 3 })).toBeUndefined();
  });

  it('drops what it does not recognise and keeps the rest', () => {
    expect(restoredViewState({ version: 1, usages: ['text', 'telepathy', 7, null, 'text', 'photo'], packet: 3 })).toEqual({ usages: ['text', 'photo'], packet: 3 });
    expect(restoredViewState({ version: 1, usages: 'text', packet: 3 })).toEqual({ usages: [], packet: 3 });
    for (const packet of [-4, 2.5, '3', Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60, undefined]) {
      expect(restoredViewState({ version: 1, usages: ['text'], packet })).toEqual({ usages: ['text'], packet: -1 });
    }
  });

  it('forgets a selection past the end of a capture that has become shorter, not the filter nor the sort', () => {
    const state = { usages: ['photo' as const], packet: 99 };
    expect(viewStateFor(state, 100)).toBe(state);
    expect(viewStateFor(state, 99)).toEqual({ usages: ['photo'], packet: -1 });
    expect(viewStateFor({ usages: [], packet: 0 }, 0)).toEqual({ usages: [], packet: -1 });
    expect(viewStateFor({ usages: [], packet: 5, sort: { column: 'time', descending: true } }, 3)).toEqual({ usages: [], packet: -1, sort: { column: 'time', descending: true } });
  });
});
