// The capture editor's sort: the header's cycle (packet-sort.ts), the order of packets by each
// column on hand-made packets with known expected orders (packet-order.ts), the list a webview
// sees when it filters and sorts (packet-list-view.ts, packet-list-host.ts) as labels arrive
// and the capture grows, and the messages that carry a sort.
import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureIndexData, PacketKind, indexCapture } from '../../vscode-extension/src/host/capture-index';
import { ListedCapture, answerListRequest, packetRows } from '../../vscode-extension/src/host/packet-list-host';
import { PacketListView } from '../../vscode-extension/src/host/packet-list-view';
import { sortPackets } from '../../vscode-extension/src/host/packet-order';
import { parseEditorToHost } from '../../vscode-extension/src/shared/bridge';
import { GuardError } from '../../vscode-extension/src/shared/guard';
import { PacketSort, ariaSort, inFileOrder, nextPacketSort } from '../../vscode-extension/src/shared/packet-sort';
import { NO_USAGE, usageCode } from '../../vscode-extension/src/shared/usage-style';
import { PacketSpec, packetColumns } from './packet-columns';

const ROOT = join(__dirname, '..', '..');
const asc = (column: PacketSort['column']): PacketSort => ({ column, descending: false });
const desc = (column: PacketSort['column']): PacketSort => ({ column, descending: true });
/** Packet numbers (1-based, as the No. column shows them) in the order a sort gives. */
const numbers = (order: Int32Array | undefined): number[] => [...order!].map((packet) => packet + 1);

describe('the header cycle, as in Wireshark', () => {
  it('sorts ascending, then descending, then goes back to the file order', () => {
    const first = nextPacketSort(undefined, 'length');
    expect(first).toEqual(asc('length'));
    const second = nextPacketSort(first, 'length');
    expect(second).toEqual(desc('length'));
    expect(nextPacketSort(second, 'length')).toBeUndefined();
  });

  it('sorts another column ascending whatever the current one does', () => {
    expect(nextPacketSort(asc('length'), 'time')).toEqual(asc('time'));
    expect(nextPacketSort(desc('length'), 'usage')).toEqual(asc('usage'));
  });

  it('tells which header shows the sort, and that No. ascending is the file order', () => {
    expect(ariaSort(desc('source'), 'source')).toBe('descending');
    expect(ariaSort(asc('source'), 'source')).toBe('ascending');
    expect(ariaSort(asc('source'), 'length')).toBe('none');
    expect(ariaSort(undefined, 'number')).toBe('none');
    expect(inFileOrder(undefined)).toBe(true);
    expect(inFileOrder(asc('number'))).toBe(true);
    expect(inFileOrder(desc('number'))).toBe(false);
    expect(inFileOrder(asc('time'))).toBe(false);
  });
});

describe('sortPackets', () => {
  it('needs no array for the file order, and reverses it for No. descending', () => {
    const columns = packetColumns([{}, {}, {}]);
    expect(sortPackets(columns, undefined, undefined)).toBeUndefined();
    expect(sortPackets(columns, undefined, asc('number'))).toBeUndefined();
    expect(numbers(sortPackets(columns, undefined, desc('number')))).toEqual([3, 2, 1]);
    expect(numbers(sortPackets(columns, undefined, desc('number'), Int32Array.from([0, 2])))).toEqual([3, 1]);
  });

  it('sorts by length, ties in file order both ways', () => {
    const columns = packetColumns([{ length: 60 }, { length: 1500 }, { length: 60 }, { length: 90 }, { length: 1500 }, { length: 60 }]);
    expect(numbers(sortPackets(columns, undefined, asc('length')))).toEqual([1, 3, 6, 4, 2, 5]);
    expect(numbers(sortPackets(columns, undefined, desc('length')))).toEqual([2, 5, 4, 1, 3, 6]);
  });

  it('sorts by time, also packets written out of order and captures longer than 71 minutes (keys past 32 bits)', () => {
    const start = 1_700_000_000_000_000;
    const hour = 3_600_000_000;
    const columns = packetColumns([{ timeUs: start + 2 * hour }, { timeUs: start }, { timeUs: start + 3 * hour }, { timeUs: start }, { timeUs: start + 1 }]);
    expect(numbers(sortPackets(columns, undefined, asc('time')))).toEqual([2, 4, 5, 1, 3]);
    expect(numbers(sortPackets(columns, undefined, desc('time')))).toEqual([3, 1, 5, 2, 4]);
  });

  it('returns the packets as they are when they are in time order already', () => {
    const columns = packetColumns([{ timeUs: 5 }, { timeUs: 5 }, { timeUs: 9 }]);
    expect(numbers(sortPackets(columns, undefined, asc('time')))).toEqual([1, 2, 3]);
  });

  it('sorts addresses as Wireshark does: IPv4 before IPv6, by value not text, then by port; no address last both ways', () => {
    const columns = packetColumns([
      { src: '[2001:db8::10]:443' }, // 1
      { src: '10.0.0.1:443' }, // 2
      {}, // 3: no address (not IP)
      { src: '9.0.0.1:5000' }, // 4: before 10.0.0.1, which text order puts first
      { src: '10.0.0.1:80' }, // 5: port 80 before 443, which text order puts first
      { src: '[2001:db8::2]:53' }, // 6: ::2 before ::10
      { src: '10.0.0.1', kind: PacketKind.OtherIp, ipProtocol: 1 }, // 7: ICMP, no port: first of its address
      { src: '255.255.255.255:1' }, // 8: the last IPv4 address, before any IPv6 one
      {}, // 9: no address
      { src: '10.0.0.1:80' }, // 10: a tie with 5
    ]);
    expect(numbers(sortPackets(columns, undefined, asc('source')))).toEqual([4, 7, 5, 10, 2, 8, 6, 1, 3, 9]);
    expect(numbers(sortPackets(columns, undefined, desc('source')))).toEqual([1, 6, 8, 2, 5, 10, 7, 4, 3, 9]);
  });

  it('sorts by destination from the destination columns', () => {
    const columns = packetColumns([
      { src: '10.0.0.9:1', dst: '[::1]:80' },
      { src: '10.0.0.1:1', dst: '192.168.0.1:80' },
      { src: '10.0.0.5:1', dst: '172.16.0.1:80' },
    ]);
    expect(numbers(sortPackets(columns, undefined, asc('destination')))).toEqual([3, 2, 1]);
    expect(numbers(sortPackets(columns, undefined, asc('source')))).toEqual([2, 3, 1]);
  });

  it('sorts by the transport column as text', () => {
    const columns = packetColumns([
      { src: '10.0.0.1:1', kind: PacketKind.Udp },
      { src: '10.0.0.1:1', kind: PacketKind.Tcp, ipProtocol: 6 },
      { kind: PacketKind.NotIp },
      { src: '10.0.0.1', kind: PacketKind.OtherIp, ipProtocol: 1 },
      { src: '10.0.0.1', kind: PacketKind.Fragment, ipProtocol: 17 },
      { src: '10.0.0.1:2', kind: PacketKind.Udp },
    ]);
    // ICMP, IP frag, TCP, UDP, UDP, non-IP (code-point order, as Wireshark's text columns).
    expect(numbers(sortPackets(columns, undefined, asc('transport')))).toEqual([4, 5, 2, 1, 6, 3]);
    expect(numbers(sortPackets(columns, undefined, desc('transport')))).toEqual([3, 1, 6, 2, 5, 4]);
  });

  it('sorts by usage in the label set’s order, unlabelled last both ways (also packets past the labels)', () => {
    const columns = packetColumns([{}, {}, {}, {}, {}, {}, {}]);
    const [text, photo, call, unknown] = [usageCode('text'), usageCode('photo'), usageCode('voice_call'), usageCode('unknown')];
    // Packet 7 arrived after the labels were computed.
    const usage = Uint8Array.from([call, NO_USAGE, text, unknown, photo, text]);
    expect(numbers(sortPackets(columns, usage, asc('usage')))).toEqual([3, 6, 5, 1, 4, 2, 7]);
    expect(numbers(sortPackets(columns, usage, desc('usage')))).toEqual([4, 1, 5, 3, 6, 2, 7]);
    expect(numbers(sortPackets(columns, undefined, asc('usage')))).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('sorts only the packets a filter shows', () => {
    const columns = packetColumns([{ length: 5 }, { length: 4 }, { length: 3 }, { length: 2 }, { length: 1 }]);
    expect(numbers(sortPackets(columns, undefined, asc('length'), Int32Array.from([0, 2, 4])))).toEqual([5, 3, 1]);
    expect(numbers(sortPackets(columns, undefined, asc('length'), new Int32Array(0)))).toEqual([]);
  });

  it('gives the order a comparison sort gives, stable, for any lengths, times and labels', () => {
    const packet = fc.record({ length: fc.integer({ min: 0, max: 70_000 }), timeUs: fc.integer({ min: 0, max: 2 ** 40 }), usage: fc.constantFrom(usageCode('text'), usageCode('file'), usageCode('other'), NO_USAGE) });
    fc.assert(
      fc.property(fc.array(packet, { maxLength: 300 }), fc.constantFrom('length' as const, 'time' as const, 'usage' as const), fc.boolean(), (specs, column, descending) => {
        const columns = packetColumns(specs.map(({ length, timeUs }): PacketSpec => ({ length, timeUs })));
        const usage = Uint8Array.from(specs.map((spec) => spec.usage));
        const key = (at: number): number => (column === 'usage' ? usage[at]! : column === 'length' ? specs[at]!.length : specs[at]!.timeUs);
        const missing = (at: number): boolean => column === 'usage' && usage[at] === NO_USAGE;
        const expected = specs
          .map((_, at) => at)
          .sort((a, b) => Number(missing(a)) - Number(missing(b)) || (missing(a) ? 0 : (descending ? -1 : 1) * (key(a) - key(b))) || a - b);
        expect([...sortPackets(columns, usage, { column, descending })!]).toEqual(expected);
      }),
    );
  });

  it('sorts a million packets without a comparison per pair', () => {
    const count = 1_000_000;
    const columns = packetColumns([]);
    const length = new Uint32Array(count);
    for (let at = 0; at < count; at++) length[at] = (at * 7919) % 1500;
    const big = { ...columns, packets: count, length };
    const started = performance.now();
    const order = sortPackets(big, undefined, asc('length'))!;
    const took = performance.now() - started;
    expect(order.length).toBe(count);
    for (let at = 1; at < count; at++) {
      const [before, after] = [order[at - 1]!, order[at]!];
      if (length[before]! > length[after]! || (length[before] === length[after] && before > after)) throw new Error(`rows ${at - 1} and ${at} out of order`);
    }
    // Tens of milliseconds on the project's machine; generous for a busy one.
    expect(took).toBeLessThan(1500);
  });
});

describe('PacketListView, sorting', () => {
  const [T, P, V] = [usageCode('text'), usageCode('photo'), usageCode('voice_call')];
  const lengths = [300, 100, 200, 100, 500, 400];
  const columns = packetColumns(lengths.map((length) => ({ length })));
  const usage = Uint8Array.from([T, V, T, P, V, NO_USAGE]);

  it('maps rows to packets in the order of the sort, and packets back to their rows', () => {
    const view = new PacketListView();
    view.sortBy(1, asc('length'));
    expect(view.arranged).toBe(true);
    expect(view.filtering).toBe(false);
    view.refresh(columns, usage);
    expect(view.count(6)).toBe(6);
    expect([0, 1, 2, 3, 4, 5, 6].map((row) => view.packetAt(row, 6))).toEqual([1, 3, 2, 0, 5, 4, undefined]);
    expect([0, 1, 2, 3, 4, 5].map((packet) => view.positionOf(packet, 6))).toEqual([3, 0, 2, 1, 5, 4]);
    expect(view.positionOf(6, 6)).toBe(-1);
  });

  it('filters first, then sorts what the filter shows; a hidden packet has no row', () => {
    const view = new PacketListView();
    view.choose(1, ['text', 'voice_call']);
    view.sortBy(2, desc('length'));
    view.refresh(columns, usage);
    expect(view.serial).toBe(2);
    expect([0, 1, 2, 3].map((row) => view.packetAt(row, 6))).toEqual([4, 0, 2, 1]);
    expect(view.positionOf(2, 6)).toBe(2);
    expect(view.positionOf(3, 6)).toBe(-1);
  });

  it('is the whole file again in file order (or No. ascending), with no array', () => {
    const view = new PacketListView();
    view.sortBy(1, asc('length'));
    view.refresh(columns, usage);
    view.sortBy(2, undefined);
    view.refresh(columns, usage);
    expect(view.arranged).toBe(false);
    expect(view.packetAt(4, 6)).toBe(4);
    view.sortBy(3, asc('number'));
    expect(view.arranged).toBe(false);
  });

  it('follows labels only when they change the list: under a filter or a sort by usage', () => {
    const view = new PacketListView();
    view.sortBy(1, asc('length'));
    expect(view.followsLabels).toBe(false);
    view.sortBy(2, asc('usage'));
    expect(view.followsLabels).toBe(true);
    view.sortBy(3, undefined);
    view.choose(4, ['photo']);
    expect(view.followsLabels).toBe(true);
  });
});

describe('the host’s answers about a sorted list (a real capture)', () => {
  const index: CaptureIndexData = indexCapture(join(ROOT, 'samples', 'whatsapp-chat.pcapng'));
  // Hand-made labels: every third packet a voice call, every fifth text, the rest unlabelled.
  const labels = (packets: number): Uint8Array => Uint8Array.from({ length: packets }, (_, at) => (at % 3 === 0 ? usageCode('voice_call') : at % 5 === 0 ? usageCode('text') : NO_USAGE));
  const capture = (assignmentUsage: Uint8Array, data = index): ListedCapture => ({
    index: data,
    assignment: { usage: assignmentUsage, dialog: new Int32Array(data.packets).fill(-1), labelledPackets: 0 },
    dialogs: [],
  });

  it('sends rows in the order of the sort, each with its number in the file, and finds any packet’s row', () => {
    const list = new PacketListView();
    const listed = capture(labels(index.packets));
    const view = answerListRequest(listed, list, { kind: 'sort', serial: 1, sort: asc('length') });
    expect(view).toEqual({ kind: 'view', serial: 1, shown: index.packets, selected: -1 });
    const rows = packetRows(listed, list, 0, index.packets);
    const lengths = rows.map((row) => row[5]);
    expect(lengths).toEqual([...lengths].sort((a, b) => a - b));
    for (let at = 1; at < rows.length; at++) if (rows[at]![5] === rows[at - 1]![5]) expect(rows[at]![0]).toBeGreaterThan(rows[at - 1]![0]);
    // Go to packet…: the row the host names holds that packet.
    for (const packet of [0, 1, 100, index.packets - 1]) {
      const located = answerListRequest(listed, list, { kind: 'locate', requestId: 7, packet });
      expect(located?.kind).toBe('located');
      if (located?.kind === 'located') expect(rows[located.position]![0]).toBe(packet + 1);
    }
    // A row chosen by its place (End) selects the packet the sort put there.
    const selected = answerListRequest(listed, list, { kind: 'selectRow', row: index.packets - 1 });
    expect(selected?.kind === 'selection' && selected.selection.packet).toBe(rows[index.packets - 1]![0] - 1);
    expect(list.selectedPacket).toBe(rows[index.packets - 1]![0] - 1);
  });

  it('sorts again as labels arrive under a sort by usage, the selected packet found at its new row', () => {
    const list = new PacketListView();
    const before = capture(new Uint8Array(index.packets).fill(NO_USAGE));
    answerListRequest(before, list, { kind: 'sort', serial: 1, sort: asc('usage') });
    answerListRequest(before, list, { kind: 'select', packet: 9 });
    const unlabelled = answerListRequest(before, list, { kind: 'sort', serial: 2, sort: asc('usage') });
    expect(unlabelled).toMatchObject({ selected: 9 });
    const after = capture(labels(index.packets));
    list.refresh(after.index, after.assignment!.usage);
    const rows = packetRows(after, list, 0, index.packets);
    const texts = after.assignment!.usage.filter((code) => code === usageCode('text')).length;
    const voiceCalls = Math.ceil(index.packets / 3);
    // Text before voice calls (the label set's order); packet 9 (10th) is the fourth voice call.
    expect(list.positionOf(9, index.packets)).toBe(texts + 3);
    expect(rows.slice(0, texts).every((row) => row[6] === usageCode('text'))).toBe(true);
    expect(rows.slice(texts, texts + voiceCalls).every((row) => row[6] === usageCode('voice_call'))).toBe(true);
    expect(rows.slice(texts + voiceCalls).every((row) => row[6] === NO_USAGE)).toBe(true);
  });

  it('places the packets of a growing capture by the sort', () => {
    const half = Math.floor(index.packets / 2);
    const shorter: CaptureIndexData = {
      ...index,
      packets: half,
      timeUs: index.timeUs.subarray(0, half),
      src: index.src.subarray(0, half),
      dst: index.dst.subarray(0, half),
      srcPort: index.srcPort.subarray(0, half),
      dstPort: index.dstPort.subarray(0, half),
      kind: index.kind.subarray(0, half),
      ipProtocol: index.ipProtocol.subarray(0, half),
      length: index.length.subarray(0, half),
      flow: index.flow.subarray(0, half),
    };
    const list = new PacketListView();
    answerListRequest(capture(labels(half), shorter), list, { kind: 'sort', serial: 1, sort: desc('length') });
    expect(list.count(half)).toBe(half);
    const grown = capture(labels(index.packets));
    list.refresh(grown.index, grown.assignment!.usage);
    const rows = packetRows(grown, list, 0, index.packets);
    expect(rows.length).toBe(index.packets);
    expect(rows.some((row) => row[0] > half)).toBe(true);
    const lengths = rows.map((row) => row[5]);
    expect(lengths).toEqual([...lengths].sort((a, b) => b - a));
  });
});

describe('sort messages', () => {
  it('passes a column and a direction, or none for the file order', () => {
    expect(parseEditorToHost({ kind: 'sort', serial: 3, sort: { column: 'length', descending: true } })).toEqual({ kind: 'sort', serial: 3, sort: { column: 'length', descending: true } });
    expect(parseEditorToHost({ kind: 'sort', serial: 4 })).toEqual({ kind: 'sort', serial: 4 });
  });

  it('refuses an unknown column, a direction that is not a boolean, a serial of 0', () => {
    expect(() => parseEditorToHost({ kind: 'sort', serial: 3, sort: { column: 'payload', descending: false } })).toThrow(GuardError);
    expect(() => parseEditorToHost({ kind: 'sort', serial: 3, sort: { column: 'length', descending: 'yes' } })).toThrow(GuardError);
    expect(() => parseEditorToHost({ kind: 'sort', serial: 3, sort: 'length' })).toThrow(GuardError);
    expect(() => parseEditorToHost({ kind: 'sort', serial: 0 })).toThrow(GuardError);
  });
});
