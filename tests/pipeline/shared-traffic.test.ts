// Which captures hold the same traffic (shared-traffic.ts): dialogs of the same flow, either way
// round, starting at the same microsecond with the same packets and bytes, link two captures when
// they are at least half of the smaller one's, and links chain.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureDialogs, type CaptureDialog } from '../../agent/src/pipeline/capture-dialogs';
import { DEFAULT_GAPS } from '../../agent/src/segment/dialog';
import { drawNetworkConditions, renderCapture } from '../../agent/src/simulate/render';
import { buildTrafficScript } from '../../agent/src/simulate/usage-script';
import type { AppName } from '../../agent/src/simulate/app-profiles';
import type { UsageClass } from '../../agent/src/labels';
import { sharedTrafficGroups } from '../../agent/src/pipeline/shared-traffic';

/** A dialog of UDP flow 10.0.0.1:`port` ↔ 192.0.2.1:443 starting at `startUs` (reversed: the server first). */
function dialog(port: number, startUs: number, reversed = false, packetsUp = 1): CaptureDialog {
  const phone = { ip: '10.0.0.1', port };
  const server = { ip: '192.0.2.1', port: 443 };
  return {
    flowId: 0,
    flow: { l4: 'udp', client: reversed ? server : phone, server: reversed ? phone : server },
    session: 1,
    dialog: 1,
    startUs,
    endUs: startUs + 1,
    packets: { up: packetsUp, down: 1 },
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

  it('keeps captures apart that share only a few dialogs, or dialogs alike in flow and start only', () => {
    const own = (first: number): CaptureDialog[] => Array.from({ length: 8 }, (_, i) => dialog(first + i, 1000 * (first + i)));
    // Two dialogs in common out of ten each: the set-up and background two recordings can share.
    const a = [...own(10), dialog(1, 100), dialog(2, 200)];
    const b = [...own(30), dialog(1, 100), dialog(2, 200)];
    expect(sharedTrafficGroups([a, b]).map((group) => group.members)).toEqual([[0], [1]]);
    // Same flow and start, another packet count: not the same dialog.
    expect(sharedTrafficGroups([[dialog(1, 100)], [dialog(1, 100, false, 5)]]).map((group) => group.members)).toEqual([[0], [1]]);
  });

  describe('on simulated captures of one seed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cumma-shared-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const render = (app: AppName, usage: UsageClass): CaptureDialog[] => {
      const path = join(dir, `${app}-${usage}.pcapng`);
      renderCapture(buildTrafficScript({ plan: { kind: 'usage', usage }, app, seed: 100009, durationS: 60, background: false }), { conditions: drawNetworkConditions(100009), seed: 100009, outputPath: path });
      return captureDialogs(path, { gaps: DEFAULT_GAPS, truth: false });
    };

    it('groups no two usages of one app (they share the chat connection set-up), but the same background twice', () => {
      const text = render('whatsapp', 'text');
      const photo = render('whatsapp', 'photo');
      const call = render('whatsapp', 'voice_call');
      const common = text.filter((d) => photo.some((e) => e.startUs === d.startUs && e.flow.client.port === d.flow.client.port));
      expect(common.length).toBeGreaterThan(0);
      expect(sharedTrafficGroups([text, photo, call]).map((group) => group.members)).toEqual([[0], [1], [2]]);
      // 'other' is background alone, drawn from the seed whatever the app: the same traffic.
      expect(sharedTrafficGroups([render('whatsapp', 'other'), render('signal', 'other')]).map((group) => group.members)).toEqual([[0, 1]]);
    });
  });
});
