// The capture editor's usage filter (shared/packet-filter.ts): which packets a choice shows, the
// mapping between rows of the filtered list and packet numbers, and the filter state the host
// keeps per editor as labels arrive and the capture grows. Also the messages that carry it.
import { describe, expect, it } from 'vitest';
import { hiddenPacketHint } from '../../vscode-extension/src/editor/packet-goto';
import { PacketListView } from '../../vscode-extension/src/host/packet-list-view';
import { parseEditorToHost, parseHostToEditor } from '../../vscode-extension/src/shared/bridge';
import { GuardError } from '../../vscode-extension/src/shared/guard';
import { USAGE_CHOICES, matchingPackets, positionOfPacket, shownCountText, toggleChoice } from '../../vscode-extension/src/shared/packet-filter';
import { NO_USAGE, usageCode } from '../../vscode-extension/src/shared/usage-style';
import { blankColumns } from './packet-columns';

const T = usageCode('text');
const P = usageCode('photo');
const V = usageCode('voice_call');
const N = NO_USAGE;
// Packets 0…9: text, photo, unlabelled, voice_call, text, unlabelled, voice_call, voice_call, photo, text.
const usage = Uint8Array.from([T, P, N, V, T, N, V, V, P, T]);

describe('matchingPackets', () => {
  it('shows every packet when nothing is chosen', () => {
    expect(matchingPackets(usage, 10, [])).toBeUndefined();
  });

  it('keeps the packets of the chosen usages, in file order', () => {
    expect([...matchingPackets(usage, 10, ['voice_call'])!]).toEqual([3, 6, 7]);
    expect([...matchingPackets(usage, 10, ['photo', 'text'])!]).toEqual([0, 1, 4, 8, 9]);
    expect([...matchingPackets(usage, 10, ['streaming'])!]).toEqual([]);
  });

  it('offers packets no dialog labels as a choice of their own', () => {
    expect([...matchingPackets(usage, 10, ['unlabelled'])!]).toEqual([2, 5]);
    expect([...matchingPackets(usage, 10, ['unlabelled', 'voice_call'])!]).toEqual([2, 3, 5, 6, 7]);
  });

  it('counts packets beyond the labels (a capture grown since) and a capture with no labels as unlabelled', () => {
    expect([...matchingPackets(usage, 13, ['unlabelled'])!]).toEqual([2, 5, 10, 11, 12]);
    expect([...matchingPackets(usage, 13, ['text'])!]).toEqual([0, 4, 9]);
    expect([...matchingPackets(undefined, 3, ['unlabelled'])!]).toEqual([0, 1, 2]);
    expect([...matchingPackets(undefined, 3, ['text'])!]).toEqual([]);
  });

  it('shows every packet when every choice is made', () => {
    expect(matchingPackets(usage, 10, USAGE_CHOICES)!.length).toBe(10);
  });

  it('filters a million packets in one pass without an object per packet', () => {
    const big = new Uint8Array(1_000_000);
    for (let packet = 0; packet < big.length; packet++) big[packet] = packet % 7 === 0 ? V : packet % 11 === 0 ? N : T;
    const shown = matchingPackets(big, big.length, ['voice_call'])!;
    expect(shown).toBeInstanceOf(Int32Array);
    expect(shown.length).toBe(Math.ceil(1_000_000 / 7));
    expect(shown[1]).toBe(7);
    expect(positionOfPacket(shown, 700_000)).toBe(100_000);
  });
});

describe('positionOfPacket', () => {
  const shown = Int32Array.from([3, 6, 7, 20]);

  it('finds the row of a packet shown', () => {
    expect([3, 6, 7, 20].map((packet) => positionOfPacket(shown, packet))).toEqual([0, 1, 2, 3]);
  });

  it('answers -1 for a packet the filter hides', () => {
    expect([0, 4, 8, 21].map((packet) => positionOfPacket(shown, packet))).toEqual([-1, -1, -1, -1]);
    expect(positionOfPacket(new Int32Array(0), 0)).toBe(-1);
  });
});

describe('PacketListView, filtering', () => {
  it('maps rows to packets as the identity while nothing is chosen', () => {
    const view = new PacketListView();
    view.refresh(blankColumns(10), usage);
    expect(view.filtering).toBe(false);
    expect(view.count(10)).toBe(10);
    expect(view.packetAt(4, 10)).toBe(4);
    expect(view.packetAt(10, 10)).toBeUndefined();
    expect(view.positionOf(9, 10)).toBe(9);
    expect(view.positionOf(10, 10)).toBe(-1);
  });

  it('maps rows of the filtered list to packet numbers and back', () => {
    const view = new PacketListView();
    view.choose(1, ['voice_call']);
    view.refresh(blankColumns(10), usage);
    expect(view.filtering).toBe(true);
    expect(view.count(10)).toBe(3);
    expect([0, 1, 2, 3].map((row) => view.packetAt(row, 10))).toEqual([3, 6, 7, undefined]);
    expect(view.positionOf(6, 10)).toBe(1);
    expect(view.positionOf(4, 10)).toBe(-1);
  });

  it('follows labels that arrive later and a capture that grows, the selected packet with them', () => {
    const view = new PacketListView();
    view.choose(2, ['voice_call', 'voice_call']);
    expect(view.choices).toEqual(['voice_call']);
    view.refresh(blankColumns(10), usage);
    view.selectedPacket = 7;
    expect(view.positionOf(view.selectedPacket, 10)).toBe(2);
    // Packet 2 becomes a voice call, and two packets arrive, one a voice call.
    const relabelled = Uint8Array.from([...usage.slice(0, 2), V, ...usage.slice(3), V, T]);
    view.refresh(blankColumns(12), relabelled);
    expect(view.count(12)).toBe(5);
    expect(view.positionOf(view.selectedPacket, 12)).toBe(3);
    expect(view.packetAt(4, 12)).toBe(10);
  });

  it('shows every packet again when the choice is emptied', () => {
    const view = new PacketListView();
    view.choose(1, ['text']);
    view.refresh(blankColumns(10), usage);
    view.choose(2, []);
    view.refresh(blankColumns(10), usage);
    expect(view.filtering).toBe(false);
    expect(view.serial).toBe(2);
    expect(view.count(10)).toBe(10);
  });
});

describe('the filter controls', () => {
  it('toggles a chip without changing the set it was given', () => {
    const before = new Set(['text'] as const);
    expect([...toggleChoice(before, 'photo')]).toEqual(['text', 'photo']);
    expect([...toggleChoice(before, 'text')]).toEqual([]);
    expect([...before]).toEqual(['text']);
  });

  it('counts what is shown', () => {
    expect(shownCountText(1234, 1_000_000, true)).toBe('1,234 of 1,000,000 packets shown');
    expect(shownCountText(865, 865, false)).toBe('865 packets');
    expect(shownCountText(0, 1, true)).toBe('0 of 1 packet shown');
  });

  it('says that "Go to packet…" reached a packet the filter hides', () => {
    expect(hiddenPacketHint(11, 'photo')).toBe('packet 12 is hidden by the filter (photo)');
    expect(hiddenPacketHint(1999, undefined)).toBe('packet 2,000 is hidden by the filter (unlabelled)');
  });
});

describe('filter messages', () => {
  it('passes a usage choice and refuses unknown usages or too many', () => {
    expect(parseEditorToHost({ kind: 'filter', serial: 3, usages: ['voice_call', 'unlabelled'] })).toEqual({ kind: 'filter', serial: 3, usages: ['voice_call', 'unlabelled'] });
    expect(parseEditorToHost({ kind: 'filter', serial: 4, usages: [] })).toEqual({ kind: 'filter', serial: 4, usages: [] });
    expect(() => parseEditorToHost({ kind: 'filter', serial: 1, usages: ['evil'] })).toThrow(GuardError);
    expect(() => parseEditorToHost({ kind: 'filter', serial: 1, usages: Array(13).fill('text') })).toThrow(GuardError);
    expect(() => parseEditorToHost({ kind: 'filter', serial: 0, usages: [] })).toThrow(GuardError);
  });

  it('passes row selection and locating, and the host’s answers', () => {
    expect(parseEditorToHost({ kind: 'selectRow', row: 5 })).toEqual({ kind: 'selectRow', row: 5 });
    expect(parseEditorToHost({ kind: 'locate', requestId: 9, packet: 11 })).toEqual({ kind: 'locate', requestId: 9, packet: 11 });
    expect(() => parseEditorToHost({ kind: 'selectRow', row: -1 })).toThrow(GuardError);
    expect(parseHostToEditor({ kind: 'view', serial: 2, shown: 3, selected: -1 })).toEqual({ kind: 'view', serial: 2, shown: 3, selected: -1 });
    expect(parseHostToEditor({ kind: 'located', requestId: 9, packet: 11, position: -1, usage: 255 })).toEqual({ kind: 'located', requestId: 9, packet: 11, position: -1, usage: 255 });
    expect(() => parseHostToEditor({ kind: 'view', serial: 2, shown: -1, selected: 0 })).toThrow(GuardError);
    expect(() => parseHostToEditor({ kind: 'located', requestId: 9, packet: 11, position: -2, usage: 0 })).toThrow(GuardError);
  });
});
