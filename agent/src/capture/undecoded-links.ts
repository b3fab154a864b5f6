/**
 * Counts the packets whose link type Cumma does not decode, so that every command that reads a
 * capture says so once per link type instead of leaving the user to wonder why a capture of
 * Wi-Fi (802.11) or USB frames gave no flows or dialogs.
 */
import { linkTypeName } from './link-layer';
import { DecodeStatus, Packet } from './packet';

export class UndecodedLinks {
  private readonly packetsByLinkType = new Map<number, number>();

  /** Call for every packet read; cheap for the common, decoded case. */
  note(packet: Packet): void {
    if (packet.status !== DecodeStatus.UnsupportedLink) return;
    this.packetsByLinkType.set(packet.linkType, (this.packetsByLinkType.get(packet.linkType) ?? 0) + 1);
  }

  get packets(): number {
    let total = 0;
    for (const count of this.packetsByLinkType.values()) total += count;
    return total;
  }

  /** One line per link type seen, naming the file: what stderr gets. */
  messages(file: string): string[] {
    return [...this.packetsByLinkType].map(
      ([linkType, packets]) => `${file}: ${packets} packets with ${linkTypeName(linkType)} framing were not decoded (unsupported link type ${linkType})`,
    );
  }
}
