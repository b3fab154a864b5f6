// Context features (feature-schema.ts, `other_*`; host-activity.ts), computed by hand for a small
// multi-flow packet sequence, through the training path (segmentFlowLogs) and the streaming
// protocol (ContextWindows).
import { describe, expect, it } from 'vitest';
import { CONTEXT_FEATURES, CONTEXT_OFFSET, FEATURES } from '../../agent/src/features/feature-schema';
import { ContextWindows } from '../../agent/src/features/host-activity';
import { DEFAULT_GAPS } from '../../agent/src/segment/dialog';
import { FlowLog, segmentFlowLogs } from '../../scripts/lib/flow-log-corpus';
import { T0 } from './expect-features';

/** [ms after T0, 'up' | 'down', frame length] */
type Row = readonly [number, 'up' | 'down', number];

function flowOf(flowId: number, l4: 'tcp' | 'udp', client: string, rows: readonly Row[]): FlowLog {
  return {
    capture: 'hand-built',
    flowId,
    flow: { l4, client: { ip: client, port: 40_000 + flowId }, server: { ip: '192.0.2.9', port: 443 } },
    times: Float64Array.from(rows.map(([ms]) => T0 + ms * 1000)),
    lengths: Uint32Array.from(rows.map(([, , length]) => length)),
    up: Uint8Array.from(rows.map(([, direction]) => (direction === 'up' ? 1 : 0))),
    labels: new Uint8Array(rows.length),
  };
}

const A = '10.0.0.1';
const B = '10.0.0.2';
// Dialog gap 5 s, context bins 0.1 s (T0 is a multiple of both).
const FLOWS: FlowLog[] = [
  // Chat connection of host A: dialog 1 at 10.00–10.05 s, dialog 2 at 15.10 s (5.05 s later).
  flowOf(1, 'tcp', A, [
    [10_000, 'up', 500],
    [10_050, 'down', 300],
    [15_100, 'up', 80],
  ]),
  // A UDP relay of host A: dialog 1 at 5.05–6.00 s, dialog 2 at 12.00–15.06 s.
  flowOf(2, 'udp', A, [
    [5_050, 'up', 150],
    [5_100, 'up', 160],
    [6_000, 'up', 200],
    [12_000, 'up', 1000],
    [12_020, 'down', 1200],
    [14_000, 'down', 800],
    [15_040, 'up', 100],
    [15_060, 'up', 110],
  ]),
  // Another TCP connection of host A: one dialog at 9.95–10.50 s.
  flowOf(3, 'tcp', A, [
    [9_950, 'up', 400],
    [9_990, 'down', 1500],
    [10_500, 'down', 1400],
  ]),
  // Host B: never counts for host A, and sees nothing of A.
  flowOf(4, 'tcp', B, [[11_000, 'up', 5000]]),
];

function contextOf(features: Float64Array): Record<string, number> {
  const named: Record<string, number> = {};
  CONTEXT_FEATURES.forEach((spec, i) => (named[spec.name] = features[CONTEXT_OFFSET + i]!));
  return named;
}

function expectContext(features: Float64Array, want: Record<string, number>): void {
  const got = contextOf(features);
  expect(Object.keys(want).sort()).toEqual(CONTEXT_FEATURES.map((spec) => spec.name).sort());
  for (const name of Object.keys(want)) {
    const w = want[name]!;
    expect(Math.abs(got[name]! - w), `${name}: got ${got[name]}, want ${w}`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(w)));
  }
}

describe('context features', () => {
  const dialogs = segmentFlowLogs(FLOWS, DEFAULT_GAPS);
  const find = (flowId: number, dialog: number) => dialogs.find((d) => d.flowId === flowId && d.dialog === dialog)!;

  it('cuts the sequence into the expected dialogs', () => {
    expect(dialogs.map((d) => `${d.flowId}.${d.dialog}`)).toEqual(['1.1', '1.2', '2.1', '2.2', '3.1', '4.1']);
    expect(FEATURES.length).toBe(CONTEXT_OFFSET + CONTEXT_FEATURES.length);
  });

  it('chat dialog 1.1: window [5.1 s, 15.05 s], the other flows of its host only', () => {
    // L = first multiple of 0.1 s strictly after 10.00 − 5 = 5.00 s → 5.10 s (so 5.05 s is out,
    // 5.10 s in); window end 10.05 + 5 = 15.05 s (15.04 s in, 15.06 s out). Length 9.95 s.
    // UDP (flow 2): 160 + 200 + 1000 + 1200 + 800 + 100 = 3460 bytes in 6 packets.
    // TCP (flow 3): up 400, down 1500 + 1400 = 2900. Own dialog (500 up, 300 down) excluded,
    // and so are flow 1's next dialog (15.10 s) and host B's 5000 bytes.
    // Dialogs starting in the window: 3.1 (9.95 s), 2.2 (12.00 s); 2.1 starts at 5.05 s, before L.
    // Before part [5.10 s, S = 10.00 s): UDP 160 + 200, TCP up 400, down 1500, dialog 3.1.
    const other = 3460 + 400 + 2900;
    expectContext(find(1, 1).features, {
      other_udp_sum_length_bytes: 3460,
      other_udp_mean_length_bytes: 3460 / 6,
      other_udp_rate_bytes_per_s: 3460 / 9.95,
      other_tcp_up_sum_length_bytes: 400,
      other_tcp_down_sum_length_bytes: 2900,
      other_all_rate_bytes_per_s: other / 9.95,
      other_dialogs_count: 2,
      other_all_bytes_log_ratio: Math.log((1 + other) / (1 + 800)),
      other_before_udp_sum_length_bytes: 360,
      other_before_tcp_up_sum_length_bytes: 400,
      other_before_tcp_down_sum_length_bytes: 1500,
      other_before_dialogs_count: 1,
    });
  });

  it('TCP dialog 3.1: window [5.0 s, 15.5 s], before part up to its bin start 9.9 s', () => {
    // L: first multiple after 4.95 s → 5.00 s; end 10.50 + 5 = 15.50 s; length 10.5 s.
    // UDP: all 8 packets of flow 2 (5.05 … 15.06 s): 150 + 160 + 200 + 1000 + 1200 + 800 + 100 + 110 = 3720.
    // TCP: flow 1, up 500 + 80, down 300. Own: 400 + 1500 + 1400 = 3300.
    // Dialogs: 2.1 (5.05), 1.1 (10.00), 2.2 (12.00), 1.2 (15.10).
    // Before [5.00 s, 9.90 s): UDP 150 + 160 + 200 = 510, dialog 2.1.
    const other = 3720 + 580 + 300;
    expectContext(find(3, 1).features, {
      other_udp_sum_length_bytes: 3720,
      other_udp_mean_length_bytes: 3720 / 8,
      other_udp_rate_bytes_per_s: 3720 / 10.5,
      other_tcp_up_sum_length_bytes: 580,
      other_tcp_down_sum_length_bytes: 300,
      other_all_rate_bytes_per_s: other / 10.5,
      other_dialogs_count: 4,
      other_all_bytes_log_ratio: Math.log((1 + other) / (1 + 3300)),
      other_before_udp_sum_length_bytes: 510,
      other_before_tcp_up_sum_length_bytes: 0,
      other_before_tcp_down_sum_length_bytes: 0,
      other_before_dialogs_count: 1,
    });
  });

  it('UDP dialog 2.2: its own flow and its own UDP packets are not "other"', () => {
    // L: after 7.00 s → 7.10 s (flow 2's earlier dialog, ≤ 6.00 s, is out); end 15.06 + 5 = 20.06 s;
    // length 12.96 s. No other UDP. TCP: flow 1 up 500 + 80, down 300; flow 3 up 400, down 1500 + 1400.
    // Own: 1000 + 1200 + 800 + 100 + 110 = 3210. Dialogs: 3.1, 1.1, 1.2.
    // Before [7.10 s, 12.00 s): TCP up 400 + 500, down 1500 + 300 + 1400; dialogs 3.1, 1.1.
    const other = 980 + 3200;
    expectContext(find(2, 2).features, {
      other_udp_sum_length_bytes: 0,
      other_udp_mean_length_bytes: 0,
      other_udp_rate_bytes_per_s: 0,
      other_tcp_up_sum_length_bytes: 980,
      other_tcp_down_sum_length_bytes: 3200,
      other_all_rate_bytes_per_s: other / 12.96,
      other_dialogs_count: 3,
      other_all_bytes_log_ratio: Math.log((1 + other) / (1 + 3210)),
      other_before_udp_sum_length_bytes: 0,
      other_before_tcp_up_sum_length_bytes: 900,
      other_before_tcp_down_sum_length_bytes: 3200,
      other_before_dialogs_count: 2,
    });
  });

  it("host B's dialog sees no other activity", () => {
    expectContext(find(4, 1).features, {
      other_udp_sum_length_bytes: 0,
      other_udp_mean_length_bytes: 0,
      other_udp_rate_bytes_per_s: 0,
      other_tcp_up_sum_length_bytes: 0,
      other_tcp_down_sum_length_bytes: 0,
      other_all_rate_bytes_per_s: 0,
      other_dialogs_count: 0,
      other_all_bytes_log_ratio: Math.log(1 / 5001),
      other_before_udp_sum_length_bytes: 0,
      other_before_tcp_up_sum_length_bytes: 0,
      other_before_tcp_down_sum_length_bytes: 0,
      other_before_dialogs_count: 0,
    });
  });

  it('gives the same features whatever order flows are listed in', () => {
    const reversed = segmentFlowLogs([...FLOWS].reverse(), DEFAULT_GAPS);
    for (const dialog of dialogs) {
      const twin = reversed.find((d) => d.flowId === dialog.flowId && d.dialog === dialog.dialog)!;
      expect(Array.from(twin.features)).toEqual(Array.from(dialog.features));
    }
  });
});

describe('ContextWindows', () => {
  it('holds a dialog that closed early (its flow ended) until capture time passes end + gap', () => {
    let done = 0;
    const windows = new ContextWindows<string>(5_000_000, () => done++);
    const features = new Float64Array(FEATURES.length);
    windows.advance(T0);
    const window = windows.openDialog(A, T0, 100, true, true);
    const dialog = { flow: { l4: 'tcp' as const }, endUs: T0, packets: { up: 1, down: 0 }, bytes: { up: 100, down: 0 } };
    expect(windows.closed(window, dialog, features, 'first')).toBe(false);
    expect(done).toBe(0);
    // Another flow of the host, at end + gap exactly: still inside the window.
    windows.advance(T0 + 5_000_000);
    const other = windows.openDialog(A, T0 + 5_000_000, 700, false, false);
    expect(done).toBe(0);
    windows.advance(T0 + 5_000_001);
    expect(done).toBe(1);
    expect(contextOf(features).other_udp_sum_length_bytes).toBe(700);
    expect(contextOf(features).other_dialogs_count).toBe(1);
    // A dialog closing after its window ended is written at once.
    const late = new Float64Array(FEATURES.length);
    expect(windows.closed(other, { flow: { l4: 'udp' }, endUs: T0 - 10_000_000, packets: { up: 0, down: 1 }, bytes: { up: 0, down: 700 } }, late, 'second')).toBe(true);
    expect(done).toBe(1);
    // Its window starts at L = T0 + 0.1 s (first boundary after T0 + 5 s − 5 s): the first dialog,
    // at T0, is outside it.
    expect(contextOf(late).other_tcp_up_sum_length_bytes).toBe(0);
    expect(contextOf(late).other_dialogs_count).toBe(0);
    expect(contextOf(late).other_all_bytes_log_ratio).toBe(Math.log(1 / 701));
    expect(windows.waitingCount).toBe(0);
  });

  it('flush releases every waiting dialog', () => {
    const released: string[] = [];
    const windows = new ContextWindows<string>(5_000_000, (payload) => released.push(payload));
    windows.advance(T0);
    const window = windows.openDialog(A, T0, 100, true, true);
    windows.closed(window, { flow: { l4: 'tcp' }, endUs: T0, packets: { up: 1, down: 0 }, bytes: { up: 100, down: 0 } }, new Float64Array(FEATURES.length), 'only');
    expect(windows.waitingCount).toBe(1);
    windows.flush();
    expect(released).toEqual(['only']);
  });

  it('refuses an infinite dialog gap', () => {
    expect(() => new ContextWindows(Infinity, () => {})).toThrow(RangeError);
  });

  describe('forgetting silent hosts', () => {
    const GAP = DEFAULT_GAPS.dialogGapUs;
    /** A one-packet dialog of `address` at `timeUs`; its features once its window has ended. */
    function oneShot(windows: ContextWindows<Float64Array>, address: string, timeUs: number, length: number, l4: 'tcp' | 'udp' = 'udp'): Float64Array {
      windows.advance(timeUs);
      const window = windows.openDialog(address, timeUs, length, true, l4 === 'tcp');
      const features = new Float64Array(FEATURES.length);
      const dialog = { flow: { l4 }, endUs: timeUs, packets: { up: 1, down: 0 }, bytes: { up: length, down: 0 } };
      if (windows.closed(window, dialog, features, features)) throw new Error('test bug: the window cannot have ended yet');
      return features;
    }

    it('holds only the hosts active within about a gap, however many addresses were seen', () => {
      const windows = new ContextWindows<Float64Array>(GAP, () => {});
      let most = 0;
      for (let i = 0; i < 5_000; i++) {
        oneShot(windows, `10.${i >> 8}.${i & 255}.1`, T0 + i * 10_000, 100);
        most = Math.max(most, windows.activity.hostCount);
      }
      // A new address every 10 ms: ≈ 500 within one gap, ≈ 1 000 between two sweeps.
      expect(most).toBeLessThan(1_100);
      windows.flush();
      expect(windows.waitingCount).toBe(0);
    });

    it('gives a host that comes back after the gap the features a fresh start gives', () => {
      const H = '10.9.9.9';
      const O = '10.1.1.1';
      const ready: Float64Array[] = [];
      const long = new ContextWindows<Float64Array>(GAP, (features) => ready.push(features));
      oneShot(long, H, T0, 300, 'tcp');
      // Another host keeps capture time moving: H is swept while silent.
      for (let s = 1; s <= 18; s++) oneShot(long, O, T0 + s * 1_000_000, 50);
      expect(long.activity.hostCount).toBe(1);
      // H again: a UDP flow around a TCP dialog of its own.
      const tail = (windows: ContextWindows<Float64Array>): Float64Array => {
        oneShot(windows, H, T0 + 19_000_000, 700);
        const watched = oneShot(windows, H, T0 + 20_000_000, 400, 'tcp');
        oneShot(windows, H, T0 + 20_500_000, 900);
        windows.advance(T0 + 40_000_000);
        return watched;
      };
      const afterSweep = tail(long);
      const fresh = tail(new ContextWindows<Float64Array>(GAP, () => {}));
      expect(contextOf(afterSweep).other_udp_sum_length_bytes).toBe(1_600);
      expect(Array.from(afterSweep)).toEqual(Array.from(fresh));
    });
  });
});
