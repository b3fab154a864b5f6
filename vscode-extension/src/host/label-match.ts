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
  const usage = new Uint8Array(index.packets).fill(NO_USAGE);
  const dialog = new Int32Array(index.packets).fill(-1);
  // Dialogs per 5-tuple, ordered by start.
  const byKey = new Map<string, number[]>();
  dialogs.forEach((item, position) => {
    const key = dialogKey(item);
    const list = byKey.get(key);
    if (list) list.push(position);
    else byKey.set(key, [position]);
  });
  for (const list of byKey.values()) list.sort((a, b) => dialogs[a]!.startUs - dialogs[b]!.startUs);
  const codes = dialogs.map((item) => usageCode(item.usage));
  // Candidates per flow id, looked up once per flow.
  const candidates = new Array<number[] | null | undefined>(index.flowKeys.length);
  let labelled = 0;
  for (let packet = 0; packet < index.packets; packet++) {
    const flowId = index.flow[packet]!;
    if (flowId < 0) continue;
    let list = candidates[flowId];
    if (list === undefined) {
      list = byKey.get(index.flowKeys[flowId]!) ?? null;
      candidates[flowId] = list;
    }
    if (list === null) continue;
    const time = index.timeUs[packet]!;
    // The last dialog starting at or before the packet.
    let low = 0;
    let high = list.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (dialogs[list[middle]!]!.startUs <= time) {
        found = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    if (found < 0) continue;
    const position = list[found]!;
    if (time > dialogs[position]!.endUs) continue;
    usage[packet] = codes[position]!;
    dialog[packet] = position;
    labelled++;
  }
  return { usage, dialog, labelledPackets: labelled };
}
