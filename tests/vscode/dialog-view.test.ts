import { describe, expect, it } from 'vitest';
import { filterDialogs, matchesAddress, nextSort, sortDialogs } from '../../vscode-extension/src/panel/dialog-view';
import { dialog } from './fixtures';

describe('dialog view', () => {
  it('matches either endpoint, by address or address:port, ignoring case and spaces', () => {
    const d = dialog({ id: 'd', client: { ip: '10.0.0.2', port: 50000 }, server: { ip: 'fe80::1', port: 443 } });
    expect(matchesAddress(d, ' 10.0.0 ')).toBe(true);
    expect(matchesAddress(d, '10.0.0.2:50000')).toBe(true);
    expect(matchesAddress(d, '[FE80::1]:443')).toBe(true);
    expect(matchesAddress(d, '10.0.0.3')).toBe(false);
    expect(matchesAddress(d, '')).toBe(true);
  });

  it('filters by a set of usages; the empty set lets every usage through', () => {
    const dialogs = [dialog({ id: 'a', usage: 'text' }), dialog({ id: 'b', usage: 'unknown' })];
    expect(filterDialogs(dialogs, { usages: new Set(), search: '' })).toHaveLength(2);
    expect(filterDialogs(dialogs, { usages: new Set(['unknown']), search: '' }).map((d) => d.id)).toEqual(['b']);
  });

  it('sorts stably: ties keep time order, then id, in either direction', () => {
    const dialogs = [dialog({ id: 'b', status: 'final', startUs: 5 }), dialog({ id: 'a', status: 'final', startUs: 5 }), dialog({ id: 'c', status: 'provisional', startUs: 1 })];
    expect(sortDialogs(dialogs, { key: 'status', descending: false }).map((d) => d.id)).toEqual(['c', 'a', 'b']);
    expect(sortDialogs(dialogs, { key: 'status', descending: true }).map((d) => d.id)).toEqual(['a', 'b', 'c']);
    expect(dialogs.map((d) => d.id)).toEqual(['b', 'a', 'c']);
  });

  it('sorts flows by address and numeric port', () => {
    const dialogs = [dialog({ id: 'high', client: { ip: '10.0.0.2', port: 60000 } }), dialog({ id: 'low', client: { ip: '10.0.0.2', port: 9000 } })];
    expect(sortDialogs(dialogs, { key: 'flow', descending: false }).map((d) => d.id)).toEqual(['low', 'high']);
  });

  it('flips the direction on the same column; confidence starts highest first', () => {
    expect(nextSort({ key: 'time', descending: false }, 'time')).toEqual({ key: 'time', descending: true });
    expect(nextSort({ key: 'time', descending: true }, 'confidence')).toEqual({ key: 'confidence', descending: true });
    expect(nextSort({ key: 'confidence', descending: true }, 'usage')).toEqual({ key: 'usage', descending: false });
  });
});
