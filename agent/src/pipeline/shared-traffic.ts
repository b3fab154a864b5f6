/**
 * Captures that hold the same traffic: a byte-identical copy, a pcap conversion of a pcapng, a
 * capture cut or filtered from another. Two captures share traffic when a dialog of one and a
 * dialog of the other have the same flow (transport and both endpoints, either way round) and
 * start at the same microsecond, which two recordings of different traffic never do. Sharing is
 * transitive: the groups are the connected captures.
 *
 * Cross-validation keeps each group in one fold: with a copy of a test capture in the training
 * folds, the model is scored on dialogs it learnt (scripts/lib/real-cross-validation.ts groups
 * the real captures for `npm run eval:real` for the same reason, by shared flows).
 */
import { CaptureDialog } from './capture-dialogs';

/** A group of captures holding the same traffic in part, as indices into the captures given. */
export interface SharedTrafficGroup {
  /** In the order the captures were given; the first is the group's first appearance. */
  readonly members: readonly number[];
  /** Dialogs (flow and start time) found in more than one of its captures. */
  readonly sharedDialogs: number;
}

function dialogKey(dialog: CaptureDialog): string {
  const { l4, client, server } = dialog.flow;
  const [a, b] = [`${client.ip} ${client.port}`, `${server.ip} ${server.port}`].sort();
  return `${l4} ${a} ${b} ${dialog.startUs}`;
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
  // The first capture each dialog was seen in, and which dialogs were seen in more than one.
  const firstSeen = new Map<string, number>();
  const shared = new Set<string>();
  captures.forEach((dialogs, index) => {
    const own = new Set<string>();
    for (const dialog of dialogs) {
      const key = dialogKey(dialog);
      if (own.has(key)) continue;
      own.add(key);
      const first = firstSeen.get(key);
      if (first === undefined) {
        firstSeen.set(key, index);
        continue;
      }
      shared.add(key);
      // The lower root stays the root, so that a group is named by its first capture.
      const [x, y] = [find(first), find(index)];
      if (x !== y) parent[Math.max(x, y)] = Math.min(x, y);
    }
  });
  const groups = new Map<number, number[]>();
  captures.forEach((_, index) => {
    const root = find(index);
    const members = groups.get(root);
    if (members === undefined) groups.set(root, [index]);
    else members.push(index);
  });
  const sharedPerGroup = new Map<number, number>();
  for (const key of shared) {
    const root = find(firstSeen.get(key)!);
    sharedPerGroup.set(root, (sharedPerGroup.get(root) ?? 0) + 1);
  }
  return [...groups].map(([root, members]) => ({ members, sharedDialogs: sharedPerGroup.get(root) ?? 0 }));
}
