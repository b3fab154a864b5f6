/**
 * The capture editor's usage filter, as Wireshark's display filter: the list shows only the
 * packets whose usage is one of those chosen, each under its number in the file. Pure, no DOM
 * and no vscode: the extension host applies it to the usage code per packet it already holds
 * (label-match.ts; host/packet-list-view.ts keeps each editor's filter and sort), the tests call it.
 *
 * The packets shown are one Int32Array of packet indices in file order, so that a 1 M-packet
 * capture costs one pass over its 1 MB of usage codes and at most 4 MB of indices — no object
 * per packet — and a place in the list maps to a packet, or back by binary search, at once.
 */
import type { UsageVerdict } from '../../../agent/src/labels';
import { USAGE_VERDICTS } from './protocol-guard';
import { NO_USAGE, usageCode } from './usage-style';

/** Packets no dialog labels: offered as a choice beside the usages. */
export const UNLABELLED = 'unlabelled';
export const USAGE_CHOICES = [...USAGE_VERDICTS, UNLABELLED] as const;
export type UsageChoice = UsageVerdict | typeof UNLABELLED;

/**
 * Indices (0-based, ascending) of the packets whose usage code is chosen; undefined for no
 * choice at all, which shows every packet (as the panel's chips do). Packets beyond `usage`
 * (a capture grown since it was labelled) count as unlabelled, as the packet list shows them.
 */
export function matchingPackets(usage: Uint8Array | undefined, packets: number, choices: readonly UsageChoice[]): Int32Array | undefined {
  if (choices.length === 0) return undefined;
  const wanted = new Uint8Array(256);
  for (const choice of choices) wanted[choice === UNLABELLED ? NO_USAGE : usageCode(choice)] = 1;
  const labelled = Math.min(packets, usage?.length ?? 0);
  const unlabelledTail = wanted[NO_USAGE] === 1 ? packets - labelled : 0;
  // Counted first: the result is allocated at its size, never the whole capture's 4 bytes a packet.
  let count = unlabelledTail;
  for (let packet = 0; packet < labelled; packet++) count += wanted[usage![packet]!]!;
  const shown = new Int32Array(count);
  let next = 0;
  for (let packet = 0; packet < labelled; packet++) if (wanted[usage![packet]!] === 1) shown[next++] = packet;
  for (let packet = labelled; next < count; packet++) shown[next++] = packet;
  return shown;
}

/** Where packet `packet` is in `shown` (ascending), or -1 when the filter hides it. */
export function positionOfPacket(shown: Int32Array, packet: number): number {
  let low = 0;
  let high = shown.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const value = shown[middle]!;
    if (value === packet) return middle;
    if (value < packet) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

/** The count beside the filter: "N of M packets shown" while filtering, else "M packets". */
export function shownCountText(shown: number, packets: number, filtering: boolean): string {
  const total = `${packets.toLocaleString('en')} packet${packets === 1 ? '' : 's'}`;
  return filtering ? `${shown.toLocaleString('en')} of ${total} shown` : total;
}

/** A chip clicked: the choice added, or taken out when it was there (the panel's chips do the same). */
export function toggleChoice(choices: ReadonlySet<UsageChoice>, choice: UsageChoice): Set<UsageChoice> {
  const next = new Set(choices);
  if (!next.delete(choice)) next.add(choice);
  return next;
}
