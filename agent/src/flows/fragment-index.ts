/**
 * Remembers which flow each fragmented IP datagram belongs to, so that the later fragments,
 * which carry no ports, are counted in the same flow. Keyed as reassembly is: IPv4 by source,
 * destination, protocol and identification (RFC 791); IPv6 by source, destination and the
 * Fragment header's identification (RFC 8200), without a protocol, since the header after the
 * Fragment header (AH, destination options, …) is where the first fragment's chain goes on to
 * TCP/UDP but all a later fragment shows. Fragments are rare, so a string-keyed Map is fine
 * here; the index is bounded in size and in age.
 */
import { Packet } from '../capture/packet';

/** IPv4 ids wrap within seconds on busy hosts; Linux drops unfinished reassembly after 30 s. */
const MAX_AGE_US = 30_000_000;
const MAX_ENTRIES = 65_536;

interface FragmentOwner {
  readonly slot: number;
  readonly generation: number;
  readonly timestampUs: number;
  /** The first fragment's direction in the flow's canonical order (see FlowTable). */
  readonly fromA: boolean;
}

function keyOf(packet: Packet): string {
  const src = packet.srcAddress;
  const dst = packet.dstAddress;
  if (packet.ipVersion === 6) return `6/${src[0]},${src[1]},${src[2]},${src[3]}/${dst[0]},${dst[1]},${dst[2]},${dst[3]}/${packet.fragmentId}`;
  return `4/${src[0]}/${dst[0]}/${packet.ipProtocol}/${packet.fragmentId}`;
}

export class FragmentIndex {
  private readonly owners = new Map<string, FragmentOwner>();
  /** Generation of the slot returned by the last lookup, to detect a reused slot. */
  lastGeneration = 0;
  /** Direction of the datagram found by the last lookup: later fragments come the same way. */
  lastFromA = false;

  remember(packet: Packet, slot: number, generation: number, fromA: boolean): void {
    const key = keyOf(packet);
    this.owners.delete(key); // re-inserting moves it to the young end of the Map's order
    this.owners.set(key, { slot, generation, timestampUs: packet.timestampUs, fromA });
    if (this.owners.size > MAX_ENTRIES) this.owners.delete(this.owners.keys().next().value!);
  }

  /** Slot of the flow owning this fragment's datagram, or -1. */
  lookup(packet: Packet): number {
    const owner = this.owners.get(keyOf(packet));
    if (owner === undefined || packet.timestampUs - owner.timestampUs > MAX_AGE_US) return -1;
    this.lastGeneration = owner.generation;
    this.lastFromA = owner.fromA;
    return owner.slot;
  }

  clear(): void {
    this.owners.clear();
  }
}
