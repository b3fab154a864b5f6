import { describe, expect, it } from 'vitest';
import { GuardError } from '../../vscode-extension/src/shared/guard';
import { parseClientMessage, parseDialog, parseServerFrame, parseServerMessage } from '../../vscode-extension/src/shared/protocol-guard';
import { capture, dialog, hello, snapshot } from './fixtures';

const roundTrip = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('server messages', () => {
  it('accepts every message type of protocol v1 and returns an equal copy', () => {
    const messages = [
      hello([capture('a.pcapng', { error: 'byte offset 12: truncated' }), capture('c.pcapng', { warning: 'byte offset 40: input ends inside a block' })], [{ path: '/caps', state: 'missing' }]),
      snapshot(['a.pcapng'], [dialog({ id: 'd1' })]),
      { v: 1, type: 'dialog', dialog: dialog({ id: 'd2', usage: 'unknown', outlier: true, status: 'provisional' }) },
      { v: 1, type: 'capture', event: 'error', capture: capture('b.pcap', { state: 'error' }), message: 'cannot read' },
      { v: 1, type: 'folder', event: 'missing', folder: { path: '/caps', state: 'missing' }, message: '/caps: the watched folder is gone' },
      { v: 1, type: 'folder', event: 'back', folder: { path: '/caps', state: 'watching' }, message: '/caps: the watched folder is back' },
      { v: 1, type: 'folder', event: 'added', folder: { path: '/more', state: 'watching' }, message: '/more: added to the watched folders; reading its captures' },
      { v: 1, type: 'folder', event: 'error', folder: { path: '/caps', state: 'watching' }, message: '/caps: watching the folder failed: ENOSPC' },
      { v: 1, type: 'stats', packetsPerSecond: 1234.5, packets: 10, dialogs: 2, captures: [{ name: 'a.pcapng', lagBytes: 0, lagMs: 0 }] },
      { v: 1, type: 'error', code: 'UNKNOWN_CAPTURE', message: 'no capture x' },
      { v: 1, type: 'pong', id: 7 },
    ];
    for (const message of messages) expect(parseServerMessage(roundTrip(message))).toEqual(message);
  });

  it('reads a hello without folders (an agent from before folder states) as watching none', () => {
    const { folders: _folders, ...older } = roundTrip(hello([capture('a.pcapng')])) as Record<string, unknown>;
    expect(parseServerMessage(older)).toMatchObject({ type: 'hello', folders: [] });
  });

  it('passes folder states and events it does not know (later additions) as they are, and refuses what is no such word', () => {
    const later = { v: 1, type: 'folder', event: 'moved', folder: { path: '/caps', state: 'paused' }, message: '/caps: moved' };
    expect(parseServerMessage(later)).toEqual(later);
    expect(parseServerMessage(roundTrip(hello([], [{ path: '/caps', state: 'paused' as never }])))).toMatchObject({ folders: [{ path: '/caps', state: 'paused' }] });
    expect(() => parseServerMessage({ ...later, folder: { path: '/caps', state: 'Gone<b>' } })).toThrow('folder.folder.state');
    expect(() => parseServerMessage({ ...later, event: 'x'.repeat(40) })).toThrow('folder.event');
    expect(() => parseServerMessage({ ...later, event: 3 })).toThrow('folder.event');
  });

  it('accepts error codes it does not know yet (agents add codes)', () => {
    expect(parseServerMessage({ v: 1, type: 'error', code: 'UNSUPPORTED_VERSION', message: 'v2' })).toMatchObject({ code: 'UNSUPPORTED_VERSION' });
    expect(() => parseServerMessage({ v: 1, type: 'error', code: 'lower<script>', message: '' })).toThrow(GuardError);
  });

  it('drops fields it does not know', () => {
    const parsed = parseServerMessage({ ...roundTrip(snapshot(['a'], [{ ...dialog({ id: 'd' }), extra: 'x' } as never])) as object, extra: 1 });
    expect(parsed).not.toHaveProperty('extra');
    expect(parsed.type === 'snapshot' && parsed.dialogs[0]).not.toHaveProperty('extra');
  });

  it.each([
    ['another version', { ...dialog({ id: 'd' }) }, (m: Record<string, unknown>) => ({ v: 2, type: 'dialog', dialog: m })],
    ['an unknown type', {}, () => ({ v: 1, type: 'explode' })],
    ['a usage outside the label set', { usage: 'chat' }, (m: Record<string, unknown>) => ({ v: 1, type: 'dialog', dialog: m })],
    ['a port above 65535', { client: { ip: '1.2.3.4', port: 70000 } }, (m: Record<string, unknown>) => ({ v: 1, type: 'dialog', dialog: m })],
    ['a confidence above 1', { confidence: 1.5 }, (m: Record<string, unknown>) => ({ v: 1, type: 'dialog', dialog: m })],
    ['a non-finite time', { startUs: Number.NaN }, (m: Record<string, unknown>) => ({ v: 1, type: 'dialog', dialog: m })],
    ['an end before the start', { startUs: 10, endUs: 5 }, (m: Record<string, unknown>) => ({ v: 1, type: 'dialog', dialog: m })],
    ['a score key outside the classes', { scores: { __proto__: 0.5, text: 0.5 } }, (m: Record<string, unknown>) => ({ v: 1, type: 'dialog', dialog: m })],
    ['a fractional packet count', { packets: { up: 1.5, down: 0 } }, (m: Record<string, unknown>) => ({ v: 1, type: 'dialog', dialog: m })],
    ['an over-long id', { id: 'x'.repeat(3000) }, (m: Record<string, unknown>) => ({ v: 1, type: 'dialog', dialog: m })],
  ])('refuses %s', (_, change, wrap) => {
    const base = { ...dialog({ id: 'd' }), ...(change as object) };
    // JSON.parse gives "__proto__" as an own key, as it would arrive from the network.
    const message = JSON.parse(JSON.stringify(wrap(base)).replace('"scores":{"text":0.5}', '"scores":{"__proto__":0.5,"text":0.5}'));
    expect(() => parseServerMessage(message)).toThrow(GuardError);
  });

  it('names the path of the bad field', () => {
    expect(() => parseServerMessage({ v: 1, type: 'hello', agent: 'a', protocol: 1, model: { name: 'm', classes: ['text'], gaps: { sessionGapUs: 1, dialogGapUs: 1 } }, captures: [capture('a'), { name: 3 }], anonymized: false })).toThrow(
      'hello.captures[1].name',
    );
  });

  it('keeps features as a prototype-free object of numbers', () => {
    const parsed = parseDialog(JSON.parse(JSON.stringify({ ...dialog({ id: 'd' }), features: { 'up.len.mean': 120.5, constructor: 3 } })));
    expect(parsed.features?.['up.len.mean']).toBe(120.5);
    expect(Object.getPrototypeOf(parsed.features)).toBeNull();
    expect(() => parseDialog({ ...dialog({ id: 'd' }), features: { a: 'x' } })).toThrow(GuardError);
  });

  it('clamps probabilities that rounding put just outside [0, 1]', () => {
    expect(parseDialog({ ...dialog({ id: 'd' }), confidence: 1 + 1e-9 }).confidence).toBe(1);
  });

  it('parses text frames and refuses what is not JSON', () => {
    expect(parseServerFrame('{"v":1,"type":"pong"}')).toEqual({ v: 1, type: 'pong' });
    expect(() => parseServerFrame('{')).toThrow('not JSON');
  });
});

describe('client messages', () => {
  it('accepts subscribe, unsubscribe, watch and ping', () => {
    expect(parseClientMessage({ v: 1, type: 'subscribe', captures: '*' })).toEqual({ v: 1, type: 'subscribe', captures: '*' });
    expect(parseClientMessage({ v: 1, type: 'subscribe', captures: ['a.pcapng'] })).toEqual({ v: 1, type: 'subscribe', captures: ['a.pcapng'] });
    expect(parseClientMessage({ v: 1, type: 'unsubscribe', junk: 1 })).toEqual({ v: 1, type: 'unsubscribe' });
    expect(parseClientMessage({ v: 1, type: 'watch', path: '/data/captures' })).toEqual({ v: 1, type: 'watch', path: '/data/captures' });
    expect(parseClientMessage({ v: 1, type: 'ping', id: 'x' })).toEqual({ v: 1, type: 'ping', id: 'x' });
  });

  it('refuses malformed requests before they reach the agent', () => {
    expect(() => parseClientMessage({ v: 1, type: 'subscribe', captures: 'a.pcapng' })).toThrow(GuardError);
    expect(() => parseClientMessage({ v: 1, type: 'watch', path: '' })).toThrow(GuardError);
    expect(() => parseClientMessage({ v: 1, type: 'hello' })).toThrow(GuardError);
    expect(() => parseClientMessage([])).toThrow(GuardError);
  });
});
