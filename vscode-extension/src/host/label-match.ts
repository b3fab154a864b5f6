/**
 * Labels packets from dialog records the way the Wireshark post-dissector does (DESIGN.md):
 * a packet gets the label of the dialog with its 5-tuple (either direction) whose
 * [startUs, endUs] holds its timestamp. Works the same for the agent's dialogs and for the
 * local classifier's. Pure: typed arrays in, typed arrays out.
 */
import type { UsageVerdict } from '../../../agent/src/labels';
import { flowKey } from '../shared/format';
import { NO_USAGE, usageCode } from '../shared/usage-style';

export interface MatchableDialog {
  readonly l4: string;
  readonly client: { readonly ip: string; readonly port: number };
  readonly server: { readonly ip: string; readonly port: number };
  readonly startUs: number;
  readonly endUs: number;
  readonly usage: UsageVerdict;
}

export interface PacketFlows {
  readonly packets: number;
  readonly timeUs: Float64Array;
  readonly flow: Int32Array;
  readonly flowKeys: readonly string[];
}

export interface LabelAssignment {
  /** Per packet: usage code (shared/usage-style.ts), NO_USAGE when no dialog matched. */
  readonly usage: Uint8Array;
  /** Per packet: index of the matching dialog in the input, -1 when none. */
  readonly dialog: Int32Array;
  readonly labelledPackets: number;
}

export function dialogKey(dialog: MatchableDialog): string {
  return flowKey(dialog.l4, dialog.client.ip, dialog.client.port, dialog.server.ip, dialog.server.port);
}

export function assignLabels(index: PacketFlows, dialogs: readonly MatchableDialog[]): LabelAssignment {
  const packets = index.packets;
  const usage = new Uint8Array(packets).fill(NO_USAGE);
  const dialog = new Int32Array(packets).fill(-1);
  // Dialogs per 5-tuple, ordered by start.
  const byKey = new Map<string, number[]>();
  const starts = new Float64Array(dialogs.length);
  const ends = new Float64Array(dialogs.length);
  const codes = new Uint8Array(dialogs.length);
  dialogs.forEach((item, position) => {
    starts[position] = item.startUs;
    ends[position] = item.endUs;
    codes[position] = usageCode(item.usage);
    const key = dialogKey(item);
    const list = byKey.get(key);
    if (list) list.push(position);
    else byKey.set(key, [position]);
  });
  for (const list of byKey.values()) if (list.length > 1) list.sort((a, b) => starts[a]! - starts[b]!);
  // Candidates per flow id, as [offset, count] into one array of dialog positions sorted by start.
  const flowCount = index.flowKeys.length;
  const offsets = new Int32Array(flowCount);
  const counts = new Int32Array(flowCount);
  const sorted: number[] = [];
  for (let flowId = 0; flowId < flowCount; flowId++) {
    const list = byKey.get(index.flowKeys[flowId]!);
    offsets[flowId] = sorted.length;
    if (!list) continue;
    counts[flowId] = list.length;
    for (const position of list) sorted.push(position);
  }
  const order = Int32Array.from(sorted);
  const timeUs = index.timeUs;
  const flow = index.flow;
  let labelled = 0;
  for (let packet = 0; packet < packets; packet++) {
    const flowId = flow[packet]!;
    if (flowId < 0) continue;
    const count = counts[flowId]!;
    if (count === 0) continue;
    const time = timeUs[packet]!;
    // The last dialog starting at or before the packet.
    let low = offsets[flowId]!;
    let high = low + count - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (starts[order[middle]!]! <= time) {
        found = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    if (found < 0) continue;
    const position = order[found]!;
    if (time > ends[position]!) continue;
    usage[packet] = codes[position]!;
    dialog[packet] = position;
    labelled++;
  }
  return { usage, dialog, labelledPackets: labelled };
}
