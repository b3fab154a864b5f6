/**
 * Captures that hold the same traffic: a byte-identical copy, a pcap conversion of a pcapng, a
 * capture cut or filtered from another. A dialog is told by its flow (transport and both
 * endpoints, either way round), its start microsecond and its packets and bytes each way. Two
 * captures share traffic when at least half the dialogs of the smaller one are also in the
 * other: a copy, a conversion or a cut shares (nearly) all of them, while captures of different
 * traffic share at most a few — simulated captures of one seed share the chat connection's
 * set-up and some background, which is no reason to keep them in one fold. Sharing is
 * transitive: the groups are the connected captures.
 *
 * Cross-validation keeps each group in one fold: with a copy of a test capture in the training
 * folds, the model is scored on dialogs it learnt (scripts/lib/real-cross-validation.ts groups
 * the real captures for `npm run eval:real` for the same reason, by shared flows).
 */
import { unorderedFlowKey } from '../flows/flow-record';
import { CaptureDialog } from './capture-dialogs';

/** A group of captures holding the same traffic in part, as indices into the captures given. */
export interface SharedTrafficGroup {
  /** In the order the captures were given; the first is the group's first appearance. */
  readonly members: readonly number[];
  /** Dialogs found in more than one of its captures. */
  readonly sharedDialogs: number;
}

/** The share of the smaller capture's dialogs that two captures must have in common. */
const SAME_TRAFFIC_SHARE = 0.5;

function dialogKey(dialog: CaptureDialog): string {
  const { l4, client, server } = dialog.flow;
  const { packets, bytes } = dialog;
  return `${unorderedFlowKey(l4, client, server)} ${dialog.startUs} ${packets.up}/${packets.down} ${bytes.up}/${bytes.down}`;
}

/**
 * Every capture in exactly one group; groups in order of their first capture. `captures[i]` is
 * the dialogs of capture i.
 */
export function sharedTrafficGroups(captures: readonly (readonly CaptureDialog[])[]): SharedTrafficGroup[] {
  const parent = captures.map((_, index) => index);
  const find = (index: number): number => {
    let root = index;
    while (parent[root] !== root) root = parent[root]!;
    parent[index] = root;
    return root;
  };
  const keys = captures.map((dialogs) => new Set(dialogs.map(dialogKey)));
  // Which captures hold each dialog, and how many dialogs each pair of captures has in common.
  const holders = new Map<string, number[]>();
  keys.forEach((own, index) => {
    for (const key of own) {
      const list = holders.get(key);
      if (list === undefined) holders.set(key, [index]);
      else list.push(index);
    }
  });
  const common = new Map<string, number>();
  for (const list of holders.values()) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const pair = `${list[i]} ${list[j]}`;
        common.set(pair, (common.get(pair) ?? 0) + 1);
      }
    }
  }
  for (const [pair, count] of common) {
    const [i, j] = pair.split(' ').map(Number) as [number, number];
    if (count < SAME_TRAFFIC_SHARE * Math.min(keys[i]!.size, keys[j]!.size)) continue;
    // The lower root stays the root, so that a group is named by its first capture.
    const [x, y] = [find(i), find(j)];
    if (x !== y) parent[Math.max(x, y)] = Math.min(x, y);
  }
  const groups = new Map<number, number[]>();
  captures.forEach((_, index) => {
    const root = find(index);
    const members = groups.get(root);
    if (members === undefined) groups.set(root, [index]);
    else members.push(index);
  });
  // Dialogs held by more than one capture of the same group.
  const sharedPerGroup = new Map<number, number>();
  for (const list of holders.values()) {
    const roots = list.map(find);
    const counted = new Set<number>();
    for (const root of roots) {
      if (counted.has(root) || roots.indexOf(root) === roots.lastIndexOf(root)) continue;
      counted.add(root);
      sharedPerGroup.set(root, (sharedPerGroup.get(root) ?? 0) + 1);
    }
  }
  return [...groups].map(([root, members]) => ({ members, sharedDialogs: sharedPerGroup.get(root) ?? 0 }));
}
