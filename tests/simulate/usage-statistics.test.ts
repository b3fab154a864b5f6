/**
 * The traffic each usage produces, once rendered, stays inside the ranges docs/simulator.md
 * documents ("Resulting traffic"): packet rates, mean sizes per direction, bytes per dialog and
 * dialog durations, measured per truth dialog on the flows that carry the usage.
 */
import { describe, expect, it } from 'vitest';
import { USAGE_CLASSES, UsageClass } from '../../agent/src/labels';
import { APP_NAMES } from '../../agent/src/simulate/app-profiles';
import { drawNetworkConditions, renderCaptureToSink } from '../../agent/src/simulate/render';
import { ConnectionPurpose, TrafficScript } from '../../agent/src/simulate/traffic-script';
import { buildTrafficScript } from '../../agent/src/simulate/usage-script';
import { TruthRecord } from '../../agent/src/truth/truth-sidecar';

interface DialogTraffic {
  packetsUp: number;
  packetsDown: number;
  bytesUp: number;
  bytesDown: number;
  startUs: number;
  endUs: number;
}

/** Per truth dialog of `usage`, the traffic on connections of the given purposes (phone = up). */
function dialogTraffic(script: TrafficScript, truth: readonly TruthRecord[], usage: UsageClass, purposes: readonly ConnectionPurpose[]): DialogTraffic[] {
  const purposeOf = new Map(script.connections.map((c) => [`${c.client.port}/${c.server.ip}/${c.server.port}`, c.purpose]));
  const dialogs = new Map<string, DialogTraffic>();
  for (const record of truth) {
    if (record.usage !== usage) continue;
    const phoneIsClient = purposeOf.has(`${record.client.port}/${record.server.ip}/${record.server.port}`);
    const key = phoneIsClient ? `${record.client.port}/${record.server.ip}/${record.server.port}` : `${record.server.port}/${record.client.ip}/${record.client.port}`;
    if (!purposes.includes(purposeOf.get(key)!)) continue;
    const id = `${record.session}/${record.dialog}`;
    const dialog = dialogs.get(id) ?? { packetsUp: 0, packetsDown: 0, bytesUp: 0, bytesDown: 0, startUs: Infinity, endUs: -Infinity };
    dialog.packetsUp += phoneIsClient ? record.packets.up : record.packets.down;
    dialog.packetsDown += phoneIsClient ? record.packets.down : record.packets.up;
    dialog.bytesUp += phoneIsClient ? record.bytes.up : record.bytes.down;
    dialog.bytesDown += phoneIsClient ? record.bytes.down : record.bytes.up;
    dialog.startUs = Math.min(dialog.startUs, record.startUs);
    dialog.endUs = Math.max(dialog.endUs, record.endUs);
    dialogs.set(id, dialog);
  }
  return [...dialogs.values()];
}

interface Expectation {
  /** Connections whose traffic defines the usage's statistics. */
  readonly purposes: readonly ConnectionPurpose[];
  readonly durationS: number;
  readonly check: (dialog: DialogTraffic) => void;
}

const seconds = (dialog: DialogTraffic): number => (dialog.endUs - dialog.startUs) / 1e6;
const within = (value: number, low: number, high: number, what: string): void => {
  expect(value, what).toBeGreaterThanOrEqual(low);
  expect(value, what).toBeLessThanOrEqual(high);
};

/** The ranges of docs/simulator.md, "Resulting traffic". */
const EXPECTED: Readonly<Record<UsageClass, Expectation>> = {
  text: {
    purposes: ['chat'],
    durationS: 60,
    check: (d) => {
      within(d.bytesUp + d.bytesDown, 1_000, 60_000, 'bytes per dialog');
      within(seconds(d), 5, 450, 'dialog duration s');
      within(d.bytesUp / d.packetsUp, 66, 1_500, 'mean frame up');
      within(d.bytesDown / d.packetsDown, 66, 1_500, 'mean frame down');
    },
  },
  photo: {
    purposes: ['media'],
    durationS: 60,
    check: (d) => within(Math.max(d.bytesUp, d.bytesDown), 50_000, 3_400_000, 'media bytes, transfer direction'),
  },
  voice_note: {
    purposes: ['media'],
    durationS: 90,
    // 2–60 s of speech at 1–2 KB/s plus container, headers and TLS/TCP/IP framing
    check: (d) => within(Math.max(d.bytesUp, d.bytesDown), 2_300, 140_000, 'media bytes, transfer direction'),
  },
  video_clip: {
    purposes: ['media'],
    durationS: 60,
    check: (d) => within(Math.max(d.bytesUp, d.bytesDown), 500_000, 17_500_000, 'media bytes, transfer direction'),
  },
  file: {
    purposes: ['media'],
    durationS: 60,
    check: (d) => within(Math.max(d.bytesUp, d.bytesDown), 5_000, 22_000_000, 'media bytes, transfer direction'),
  },
  location: {
    purposes: ['tiles'],
    durationS: 120,
    check: (d) => {
      within(d.bytesDown, 6 * 4_000, 20 * 42_000, 'tile bytes down');
      within(d.bytesDown / d.packetsDown, 500, 1_514, 'mean frame down');
    },
  },
  voice_call: {
    purposes: ['call'],
    durationS: 120,
    check: (d) => {
      // Media at 50 packets/s each way; STUN checks and up to 15 s of ringing (≈ 1 packet/s)
      // are part of the dialog too, which pulls a two-minute call's average down to ≥ 42.
      within(d.packetsUp / seconds(d), 42, 55, 'packets/s up');
      within(d.packetsDown / seconds(d), 42, 55, 'packets/s down');
      within(d.bytesUp / d.packetsUp, 60, 200, 'mean frame up');
      within(d.bytesDown / d.packetsDown, 60, 200, 'mean frame down');
    },
  },
  video_call: {
    purposes: ['call'],
    durationS: 60,
    check: (d) => {
      within((d.bytesUp * 8) / seconds(d) / 1e3, 250, 2_800, 'kbit/s up');
      within((d.bytesDown * 8) / seconds(d) / 1e3, 250, 2_800, 'kbit/s down');
      within(d.bytesDown / d.packetsDown, 250, 1_250, 'mean frame down');
    },
  },
  streaming: {
    purposes: ['stream'],
    durationS: 60,
    check: (d) => {
      within((d.bytesDown * 8) / seconds(d) / 1e6, 0.4, 7.5, 'Mbit/s down (buffer fill included)');
      within(d.bytesDown / d.packetsDown, 1_000, 1_514, 'mean frame down');
      within(d.bytesUp / d.packetsUp, 60, 200, 'mean frame up (requests and ACKs)');
    },
  },
  other: {
    purposes: ['dns', 'ntp', 'push', 'background'],
    durationS: 60,
    check: (d) => within(d.bytesUp + d.bytesDown, 100, 2_000_000, 'bytes per background spell'),
  },
};

describe('per-usage statistics of simulated traffic', () => {
  it.each(USAGE_CLASSES)('%s stays inside its documented ranges', (usage) => {
    const expectation = EXPECTED[usage];
    let dialogs = 0;
    for (const app of APP_NAMES) {
      for (const seed of [1, 2, 3]) {
        const script = buildTrafficScript({ plan: { kind: 'usage', usage }, app, seed, durationS: expectation.durationS, background: false });
        const { truth } = renderCaptureToSink(script, { conditions: drawNetworkConditions(seed), seed }, () => undefined, 'stats.pcapng');
        for (const dialog of dialogTraffic(script, truth, usage, expectation.purposes)) {
          expectation.check(dialog);
          dialogs++;
        }
      }
    }
    expect(dialogs).toBeGreaterThanOrEqual(9);
  });
});
