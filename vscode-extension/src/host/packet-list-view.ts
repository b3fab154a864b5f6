/**
 * One capture editor's packet list in the extension host: the usage filter its webview chose
 * (packet-filter.ts), the sort (packet-sort.ts, applied by packet-order.ts), the packets that
 * shows in that order, and the packet it last selected. Each webview has its own: two editors of
 * one capture may filter and sort differently. No vscode: capture-editor.ts keeps one per
 * webview, the tests and the bench call it.
 *
 * The packets shown are one Int32Array of packet indices, rows in order — filtered first, then
 * sorted, so a sort works on the packets shown only — or nothing at all while the list is the
 * whole file in file order. A row maps to its packet at once; a packet to its row by binary
 * search in file order, else by one native scan (indexOf: ≈ 1 ms for a million rows, which
 * spares the 4 bytes a packet an inverse map would keep).
 */
import { PacketSort, inFileOrder } from '../shared/packet-sort';
import { UsageChoice, matchingPackets, positionOfPacket } from '../shared/packet-filter';
import { SortColumns, sortPackets } from './packet-order';

export class PacketListView {
  private chosen: readonly UsageChoice[] = [];
  private order: PacketSort | undefined;
  private shown: Int32Array | undefined;
  /** The webview's serial for its latest choice (filter or sort); 0 before it chose anything. */
  serial = 0;
  /** Packet index last selected in this webview, -1 for none. */
  selectedPacket = -1;

  get choices(): readonly UsageChoice[] {
    return this.chosen;
  }

  get sort(): PacketSort | undefined {
    return this.order;
  }

  get filtering(): boolean {
    return this.chosen.length > 0;
  }

  /** Whether the list is other than the whole file in file order: the host then says what it shows. */
  get arranged(): boolean {
    return this.filtering || !inFileOrder(this.order);
  }

  /** Whether new labels change the list: they change what a filter shows and where a sort by usage puts a packet. */
  get followsLabels(): boolean {
    return this.filtering || this.order?.column === 'usage';
  }

  /** A new usage choice; `refresh` then computes what it shows. */
  choose(serial: number, choices: readonly UsageChoice[]): void {
    this.serial = serial;
    this.chosen = [...new Set(choices)];
  }

  /** A new sort (undefined: the file's order); `refresh` then computes it. */
  sortBy(serial: number, sort: PacketSort | undefined): void {
    this.serial = serial;
    this.order = sort;
  }

  /** Recomputes the rows, after a new choice or sort, new labels or a grown capture. */
  refresh(columns: SortColumns | undefined, usage: Uint8Array | undefined): void {
    const packets = columns?.packets ?? 0;
    const filtered = matchingPackets(usage, packets, this.chosen);
    this.shown = columns ? sortPackets(columns, usage, this.order, filtered) : filtered;
  }

  /** Rows in the list: every packet when nothing is filtered. */
  count(packets: number): number {
    return this.shown ? this.shown.length : packets;
  }

  /** The packet at a place in the list, undefined past its end. */
  packetAt(position: number, packets: number): number | undefined {
    if (position < 0 || position >= this.count(packets)) return undefined;
    return this.shown ? this.shown[position]! : position;
  }

  /** The place of a packet in the list, -1 when the filter hides it (or there is no such packet). */
  positionOf(packet: number, packets: number): number {
    if (packet < 0 || packet >= packets) return -1;
    if (!this.shown) return packet;
    return inFileOrder(this.order) ? positionOfPacket(this.shown, packet) : this.shown.indexOf(packet);
  }
}
