// Which captures hold the same traffic (shared-traffic.ts): a dialog of the same flow, either way
// round, starting at the same microsecond, links two captures, and links chain.
import { describe, expect, it } from 'vitest';
import type { CaptureDialog } from '../../agent/src/pipeline/capture-dialogs';
import { sharedTrafficGroups } from '../../agent/src/pipeline/shared-traffic';

/** A dialog of UDP flow 10.0.0.1:`port` ↔ 192.0.2.1:443 starting at `startUs` (reversed: the server first). */
function dialog(port: number, startUs: number, reversed = false): CaptureDialog {
  const phone = { ip: '10.0.0.1', port };
  const server = { ip: '192.0.2.1', port: 443 };
  return {
    flowId: 0,
    flow: { l4: 'udp', client: reversed ? server : phone, server: reversed ? phone : server },
    session: 1,
    dialog: 1,
    startUs,
    endUs: startUs + 1,
    packets: { up: 1, down: 1 },
    bytes: { up: 100, down: 100 },
    capture: 'x',
    features: new Float64Array(0),
    truth: undefined,
    mixed: false,
  };
}

describe('sharedTrafficGroups', () => {
  it('puts captures sharing a dialog in one group, transitively, in order of first appearance', () => {
    const groups = sharedTrafficGroups([
      [dialog(1, 100), dialog(2, 200)],
      [dialog(9, 900)],
      // Shares dialog (2, 200) with capture 0, seen from the other end.
      [dialog(2, 200, true), dialog(3, 300)],
      // Shares (3, 300) with capture 2 only: still capture 0's group.
      [dialog(3, 300), dialog(4, 400)],
      // Same flow as capture 0's first dialog, another start: different traffic.
      [dialog(1, 101)],
    ]);
    expect(groups).toEqual([
      { members: [0, 2, 3], sharedDialogs: 2 },
      { members: [1], sharedDialogs: 0 },
      { members: [4], sharedDialogs: 0 },
    ]);
  });

  it('counts a dialog found in three captures once', () => {
    const copy = [dialog(1, 100), dialog(2, 200)];
    expect(sharedTrafficGroups([copy, copy, copy])).toEqual([{ members: [0, 1, 2], sharedDialogs: 2 }]);
  });
});
