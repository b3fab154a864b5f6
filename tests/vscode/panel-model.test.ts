import { describe, expect, it } from 'vitest';
import { missingFolders, PanelModel } from '../../vscode-extension/src/panel/panel-model';
import { parseServerMessage } from '../../vscode-extension/src/shared/protocol-guard';
import type { ServerMessage } from '../../agent/src/serve/protocol';
import { capture, dialog, dialogMessage, hello, snapshot } from './fixtures';

function connected(): PanelModel {
  const model = new PanelModel();
  model.dispatch({ type: 'connection', status: { state: 'connected', url: 'ws://127.0.0.1:7345' } });
  return model;
}

const server = (model: PanelModel, message: ServerMessage) => model.dispatch({ type: 'server', message: parseServerMessage(JSON.parse(JSON.stringify(message))) });

describe('PanelModel', () => {
  it('subscribes to the first capture on hello, and shows its snapshot', () => {
    const model = connected();
    expect(server(model, hello([capture('a.pcapng'), capture('b.pcapng')]))).toEqual([{ v: 1, type: 'subscribe', captures: ['a.pcapng'] }]);
    expect(model.selectedCapture).toBe('a.pcapng');
    server(model, snapshot(['a.pcapng'], [dialog({ id: 'd1', startUs: 20 }), dialog({ id: 'd2', startUs: 10 })]));
    expect(model.rows().map((row) => row.id)).toEqual(['d2', 'd1']);
  });

  it('replaces a dialog by id (provisional, then final) and adds new ones live', () => {
    const model = connected();
    server(model, hello([capture('a.pcapng')]));
    server(model, snapshot(['a.pcapng'], [dialog({ id: 'd1', status: 'provisional', usage: 'photo' })]));
    server(model, dialogMessage(dialog({ id: 'd1', status: 'final', usage: 'voice_note' })));
    server(model, dialogMessage(dialog({ id: 'd3', startUs: 1_700_000_005_000_000, endUs: 1_700_000_006_000_000 })));
    expect(model.rows().map((row) => [row.id, row.status, row.usage])).toEqual([
      ['d1', 'final', 'voice_note'],
      ['d3', 'final', 'text'],
    ]);
  });

  it('filters by usage and by address, and sorts by a column, both directions', () => {
    const model = connected();
    server(model, hello([capture('a.pcapng')]));
    server(
      model,
      snapshot(
        ['a.pcapng'],
        [
          dialog({ id: 'call', usage: 'voice_call', confidence: 0.6, startUs: 3, endUs: 9, l4: 'udp', server: { ip: '2a03:2880::1', port: 3478 } }),
          dialog({ id: 'text', usage: 'text', confidence: 0.95, startUs: 1, endUs: 2 }),
          dialog({ id: 'photo', usage: 'photo', confidence: 0.8, startUs: 2, endUs: 4, server: { ip: '31.13.64.1', port: 443 } }),
        ],
      ),
    );
    model.dispatch({ type: 'toggleUsage', usage: 'photo' });
    model.dispatch({ type: 'toggleUsage', usage: 'voice_call' });
    expect(model.rows().map((row) => row.id)).toEqual(['photo', 'call']);
    model.dispatch({ type: 'search', text: '2A03:2880' });
    expect(model.rows().map((row) => row.id)).toEqual(['call']);
    model.dispatch({ type: 'search', text: '31.13.64.1:443' });
    expect(model.rows().map((row) => row.id)).toEqual(['photo']);
    model.dispatch({ type: 'search', text: '' });
    model.dispatch({ type: 'clearUsages' });
    model.dispatch({ type: 'sort', key: 'confidence' });
    expect(model.rows().map((row) => row.id)).toEqual(['text', 'photo', 'call']);
    model.dispatch({ type: 'sort', key: 'confidence' });
    expect(model.rows().map((row) => row.id)).toEqual(['call', 'photo', 'text']);
    model.dispatch({ type: 'sort', key: 'usage' });
    expect(model.rows().map((row) => row.usage)).toEqual(['photo', 'text', 'voice_call']);
  });

  it('selects a dialog, follows its updates, and forgets it when the capture changes', () => {
    const model = connected();
    server(model, hello([capture('a.pcapng'), capture('b.pcapng')]));
    server(model, snapshot(['a.pcapng'], [dialog({ id: 'd1' })]));
    model.dispatch({ type: 'selectDialog', id: 'd1' });
    server(model, dialogMessage(dialog({ id: 'd1', usage: 'file' })));
    expect(model.selectedDialog()?.usage).toBe('file');
    expect(model.dispatch({ type: 'selectCapture', name: 'b.pcapng' })).toEqual([{ v: 1, type: 'subscribe', captures: ['b.pcapng'] }]);
    expect(model.selectedDialog()).toBeUndefined();
    expect(model.dispatch({ type: 'selectCapture', name: 'nope' })).toEqual([]);
  });

  it('moves to another capture when the shown one is removed, and picks up the first added one', () => {
    const model = connected();
    expect(server(model, hello([]))).toEqual([]);
    expect(server(model, { v: 1, type: 'capture', event: 'added', capture: capture('new.pcapng') })).toEqual([{ v: 1, type: 'subscribe', captures: ['new.pcapng'] }]);
    server(model, { v: 1, type: 'capture', event: 'added', capture: capture('other.pcapng') });
    expect(server(model, { v: 1, type: 'capture', event: 'removed', capture: capture('new.pcapng', { state: 'removed' }) })).toEqual([
      { v: 1, type: 'subscribe', captures: ['other.pcapng'] },
    ]);
  });

  it('keeps the shown capture and its subscription when it restarts, dropping the dialogs read before', () => {
    const model = connected();
    server(model, hello([capture('a.pcapng'), capture('b.pcapng')]));
    server(model, snapshot(['a.pcapng'], [dialog({ id: 'old1' }), dialog({ id: 'old2', startUs: 5 })]));
    expect(model.rows()).toHaveLength(2);
    const replies = server(model, { v: 1, type: 'capture', event: 'restarted', capture: capture('a.pcapng'), message: '/caps/a.pcapng: rewritten in place (its first bytes changed); reading it again from the start' });
    expect(replies).toEqual([]);
    expect(model.selectedCapture).toBe('a.pcapng');
    expect(model.rows()).toEqual([]);
    server(model, dialogMessage(dialog({ id: 'new1' })));
    expect(model.rows().map((row) => row.id)).toEqual(['new1']);
  });

  it('subscribes again after a reconnection, and reports errors', () => {
    const model = connected();
    server(model, hello([capture('a.pcapng')]));
    model.dispatch({ type: 'connection', status: { state: 'retrying', url: 'x', retryInMs: 500 } });
    model.dispatch({ type: 'connection', status: { state: 'connected', url: 'x' } });
    expect(server(model, hello([capture('a.pcapng')]))).toEqual([{ v: 1, type: 'subscribe', captures: ['a.pcapng'] }]);
    server(model, { v: 1, type: 'error', code: 'RATE_LIMITED', message: 'slow down' });
    expect(model.lastError).toBe('RATE_LIMITED: slow down');
    server(model, { v: 1, type: 'capture', event: 'error', capture: capture('a.pcapng', { state: 'error' }), message: 'byte offset 40: bad block' });
    expect(model.lastError).toBe('a.pcapng: byte offset 40: bad block');
  });

  it('knows which watched folders are missing, from hello and from folder events', () => {
    const model = connected();
    server(model, hello([capture('a.pcapng')], [{ path: '/caps', state: 'watching' }, { path: '/mnt/share', state: 'missing' }]));
    expect(missingFolders(model.mirror.folders)).toBe('Watched folder missing: /mnt/share (watched again when back)');
    server(model, { v: 1, type: 'folder', event: 'missing', folder: { path: '/caps', state: 'missing' }, message: '/caps: the watched folder is gone' });
    expect(missingFolders(model.mirror.folders)).toBe('Watched folders missing: /caps, /mnt/share (watched again when back)');
    server(model, { v: 1, type: 'folder', event: 'back', folder: { path: '/caps', state: 'watching' }, message: '/caps: the watched folder is back' });
    server(model, { v: 1, type: 'folder', event: 'back', folder: { path: '/mnt/share', state: 'watching' }, message: '/mnt/share: the watched folder is back' });
    expect(missingFolders(model.mirror.folders)).toBeUndefined();
  });

  it('keeps its folder list current from added events, shows a folder watcher error, and takes unknown folder values as not missing', () => {
    const model = connected();
    server(model, hello([capture('a.pcapng')], [{ path: '/caps', state: 'watching' }]));
    server(model, { v: 1, type: 'folder', event: 'added', folder: { path: '/more', state: 'watching' }, message: '/more: added to the watched folders; reading its captures' });
    expect(model.mirror.folders.map((folder) => folder.path)).toEqual(['/caps', '/more']);
    server(model, { v: 1, type: 'folder', event: 'missing', folder: { path: '/more', state: 'missing' }, message: '/more: the watched folder is gone' });
    expect(missingFolders(model.mirror.folders)).toBe('Watched folder missing: /more (watched again when back)');
    server(model, { v: 1, type: 'folder', event: 'error', folder: { path: '/caps', state: 'watching' }, message: '/caps: watching the folder failed: ENOSPC' });
    expect(model.lastError).toBe('/caps: watching the folder failed: ENOSPC');
    // From a newer agent: an event and a state this client does not know.
    server(model, { v: 1, type: 'folder', event: 'paused' as never, folder: { path: '/more', state: 'paused' as never }, message: '/more: paused' });
    expect(missingFolders(model.mirror.folders)).toBeUndefined();
    expect(model.mirror.folders).toContainEqual({ path: '/more', state: 'paused' });
  });

  it('ignores dialogs of captures it did not ask for in its rows', () => {
    const model = connected();
    server(model, hello([capture('a.pcapng'), capture('b.pcapng')]));
    server(model, dialogMessage(dialog({ id: 'x', capture: 'b.pcapng' })));
    expect(model.rows()).toEqual([]);
  });
});
