// When flows end in captures whose timestamps are not in order, and how the recency order the
// table expires and evicts from follows busy flows (flow-table.ts, the file comment). Each case
// here failed with the flow table before the capture's clock became "the latest time two
// consecutive packets have both reached" and a flow's activity "the later of its packet's time
// and the clock when it was read" (/tmp/dist-before in the review), except where a comment says
// it pins down behaviour that was already right.

import { describe, expect, it } from 'vitest';
import { FlowRecord } from '../../agent/src/flows/flow-record';
import { TCP_FLAGS, ethernet } from '../support/capture-bytes';
import { FlowHarness, tcp4, udp4 } from '../support/flow-harness';

const { ACK } = TCP_FLAGS;

/** 2023-11-14T22:13:20Z in microseconds. */
const T0 = 1_700_000_000_000_000;
const SECOND = 1_000_000;
const YEAR = 365 * 86_400 * SECOND;


const summary = (flow: FlowRecord): string => `${flow.l4} ${flow.client.ip}:${flow.client.port} > ${flow.server.ip}:${flow.server.port} ${flow.packets.up}/${flow.packets.down}`;

describe('FlowTable with timestamps out of order', () => {
  it('keeps a TCP flow whole when one packet of another flow is stamped a year ahead', () => {
    // The review's t06_clock_jump: the old table expired the flow on the stray and started a
    // second one from the server's next packet, client and server swapped.
    const h = new FlowHarness();
    h.add(tcp4('10.0.0.1', 40000, '10.0.0.2', 443, ACK, 10), T0);
    h.add(tcp4('10.0.0.2', 443, '10.0.0.1', 40000, ACK, 10), T0 + 100);
    h.add(tcp4('10.0.0.1', 40000, '10.0.0.2', 443, ACK, 10), T0 + SECOND);
    h.add(udp4('10.9.9.9', 5, '10.0.0.2', 6), T0 + YEAR);
    h.add(tcp4('10.0.0.2', 443, '10.0.0.1', 40000, ACK, 10), T0 + 2 * SECOND);
    h.add(tcp4('10.0.0.1', 40000, '10.0.0.2', 443, ACK, 10), T0 + 3 * SECOND);

    const flows = h.finish();
    expect(flows.map(summary)).toStrictEqual(['tcp 10.0.0.1:40000 > 10.0.0.2:443 3/2', 'udp 10.9.9.9:5 > 10.0.0.2:6 1/0']);
    expect(flows[0]!.lastUs).toBe(T0 + 3 * SECOND);
  });

  it('keeps a flow whole when a block of another interface was written ahead of it', () => {
    // The review's t06_clock_nonmonotonic: idle timeout 60 s, the flow's own gap 30 s, one
    // packet of interface 1 stamped 100 s written between its two packets.
    const h = new FlowHarness({ idleTimeoutUs: 60 * SECOND });
    h.add(tcp4('10.0.0.1', 40000, '10.0.0.2', 443, ACK), T0);
    h.add(udp4('10.9.9.9', 5, '10.0.0.2', 6), T0 + 100 * SECOND);
    h.add(tcp4('10.0.0.2', 443, '10.0.0.1', 40000, ACK), T0 + 30 * SECOND);

    expect(h.finish().map(summary)).toStrictEqual(['tcp 10.0.0.1:40000 > 10.0.0.2:443 1/1', 'udp 10.9.9.9:5 > 10.0.0.2:6 1/0']);
  });

  it('still ends the flows idle on the clock when two consecutive packets move it forward', () => {
    // The documented other side of the rule (it held before too): a jump of the whole
    // capture's clock is a silence, as in any idle-timeout flow meter.
    const h = new FlowHarness({ idleTimeoutUs: 60 * SECOND });
    h.add(tcp4('10.0.0.1', 40000, '10.0.0.2', 443, ACK), T0);
    h.add(udp4('10.9.9.9', 5, '10.0.0.2', 6), T0 + 100 * SECOND);
    h.add(udp4('10.9.9.9', 5, '10.0.0.2', 6), T0 + 100 * SECOND);
    expect(h.emitted.map(summary)).toStrictEqual(['tcp 10.0.0.1:40000 > 10.0.0.2:443 1/0']);
    h.add(tcp4('10.0.0.2', 443, '10.0.0.1', 40000, ACK), T0 + 30 * SECOND);
    expect(h.finish().map(summary)).toStrictEqual([
      'tcp 10.0.0.1:40000 > 10.0.0.2:443 1/0',
      'tcp 10.0.0.2:443 > 10.0.0.1:40000 1/0',
      'udp 10.9.9.9:5 > 10.0.0.2:6 2/0',
    ]);
  });

  it('does not end a flow of an appended earlier capture when the clock then moves on a little', () => {
    // mergecap -a of two files: the second starts an hour before the first ended (the first
    // ends with ARP, after its last flow packet). The second file's packets are read when the
    // clock says T0 + 3600 s, so that is their flows' last activity; when two packets at
    // T0 + 3601 s move the clock, they have been idle 1 s, not an hour. The old table measured
    // them by their own times and, the first file's flow gone, expired them at once.
    const h = new FlowHarness({ idleTimeoutUs: 60 * SECOND });
    const arp = ethernet(0x0806, new Uint8Array(28));
    h.add(udp4('10.1.0.1', 1000, '10.1.0.2', 53), T0 + 3500 * SECOND);
    h.add(arp, T0 + 3600 * SECOND);
    h.add(arp, T0 + 3600 * SECOND);
    h.add(udp4('10.2.0.1', 2000, '10.2.0.2', 53), T0); // second file
    h.add(udp4('10.2.0.2', 53, '10.2.0.1', 2000), T0 + 10 * SECOND);
    h.add(udp4('10.3.0.1', 3000, '10.3.0.2', 53), T0 + 3601 * SECOND);
    h.add(udp4('10.3.0.1', 3000, '10.3.0.2', 53), T0 + 3601 * SECOND);
    expect(h.emitted.map(summary)).toStrictEqual(['udp 10.1.0.1:1000 > 10.1.0.2:53 1/0']); // idle 100 s on the clock
    h.add(udp4('10.2.0.1', 2000, '10.2.0.2', 53), T0 + 20 * SECOND);

    expect(h.finish().map(summary)).toStrictEqual([
      'udp 10.1.0.1:1000 > 10.1.0.2:53 1/0',
      'udp 10.2.0.1:2000 > 10.2.0.2:53 2/1',
      'udp 10.3.0.1:3000 > 10.3.0.2:53 2/0',
    ]);
  });

  it('still splits a flow of the earlier capture at its own gaps longer than the timeout', () => {
    // Time went backwards, so the clock did not see this 100 s silence: the flow's own gap does
    // (as it did before).
    const h = new FlowHarness({ idleTimeoutUs: 60 * SECOND });
    h.add(udp4('10.1.0.1', 1000, '10.1.0.2', 53), T0 + 3600 * SECOND);
    h.add(udp4('10.2.0.1', 2000, '10.2.0.2', 53), T0);
    h.add(udp4('10.2.0.1', 2000, '10.2.0.2', 53), T0 + 100 * SECOND);

    expect(h.finish().map((flow) => [flow.client.port, flow.firstUs])).toStrictEqual([
      [2000, T0],
      [2000, T0 + 100 * SECOND],
      [1000, T0 + 3600 * SECOND],
    ]);
  });

  it('makes the first sender in file order the client, even when its packet is stamped later', () => {
    // Pins down the documented rule (unchanged): file order, not timestamp order.
    const h = new FlowHarness();
    h.add(udp4('10.0.0.2', 53, '10.0.0.1', 5353), T0 + 2 * SECOND);
    h.add(udp4('10.0.0.1', 5353, '10.0.0.2', 53), T0 + SECOND);

    const [flow] = h.finish();
    expect([flow!.client, flow!.firstUs, flow!.lastUs]).toStrictEqual([{ ip: '10.0.0.2', port: 53 }, T0 + SECOND, T0 + 2 * SECOND]);
  });

  it('keeps expiring idle flows after a packet stamped far ahead of the clock', () => {
    // The stray's own flow is never idle on the clock; at the old end of the recency list it
    // must not hold back the expiry of every flow behind it. The old table expired everything
    // on the stray, then nothing more: its clock stayed a year ahead.
    const h = new FlowHarness({ idleTimeoutUs: 10 * SECOND });
    let peak = 0;
    h.add(udp4('10.9.9.9', 5, '10.0.0.2', 6), T0 + YEAR);
    for (let index = 0; index < 200; index++) {
      h.add(udp4(`10.1.${index >> 8}.${index & 0xff}`, 1000, '10.0.0.2', 53), T0 + index * SECOND);
      peak = Math.max(peak, h.table.activeFlows);
    }
    expect(peak).toBeLessThanOrEqual(13);
    expect(h.emitted.length).toBeGreaterThanOrEqual(188);
    expect(h.finish()).toHaveLength(201);
  });
});

describe('FlowTable recency order with the default resolution (min(1 s, timeout/256))', () => {
  it('evicts the flow idle for seconds, not the one whose packets come every half second', () => {
    // The old table moved a flow in the recency list only after a pause of a whole resolution
    // (1 s) in its own packets, so a flow busy every 0.5 s never moved and was evicted first.
    const h = new FlowHarness({ maxFlows: 2 });
    h.add(udp4('10.0.0.1', 1001, '10.0.1.1', 53), T0);
    h.add(udp4('10.0.0.2', 1002, '10.0.1.1', 53), T0 + SECOND / 10);
    for (let step = 1; step <= 20; step++) h.add(udp4('10.0.0.1', 1001, '10.0.1.1', 53), T0 + (step * SECOND) / 2);
    h.add(udp4('10.0.0.3', 1003, '10.0.1.1', 53), T0 + 10 * SECOND + SECOND / 10); // table full

    expect(h.emitted.map(summary)).toStrictEqual(['udp 10.0.0.2:1002 > 10.0.1.1:53 1/0']);
    expect(h.finish().map(summary)).toStrictEqual(['udp 10.0.0.2:1002 > 10.0.1.1:53 1/0', 'udp 10.0.0.1:1001 > 10.0.1.1:53 21/0', 'udp 10.0.0.3:1003 > 10.0.1.1:53 1/0']);
  });

  it('chooses among the flows idle longest only to within the resolution', () => {
    // The review's t21_lru, now documented in README (the outcome is the same as before): A's
    // packet at 0.5 s comes 0.5 s after its last move (< 1 s), so A stays listed as of 0 s,
    // before B (0.1 s), and is the one printed.
    const h = new FlowHarness({ maxFlows: 2 });
    h.add(udp4('10.0.0.9', 1009, '10.0.1.1', 53), T0 - SECOND);
    h.add(udp4('10.0.0.1', 1001, '10.0.1.1', 53), T0);
    h.add(udp4('10.0.0.2', 1002, '10.0.1.1', 53), T0 + SECOND / 10);
    h.add(udp4('10.0.0.1', 1001, '10.0.1.1', 53), T0 + SECOND / 2);
    h.add(udp4('10.0.0.3', 1003, '10.0.1.1', 53), T0 + (6 * SECOND) / 10);

    expect(h.emitted.map((flow) => flow.client.port)).toStrictEqual([1009, 1001]);
  });

  it('keeps idle flows expiring while a long-lived flow stays busy', () => {
    // The old table never moved the busy flow (no 1 s pause), so it sat at the old end of the
    // list, where expiry stops at the first live flow: nothing behind it ever expired.
    const h = new FlowHarness({ idleTimeoutUs: 300 * SECOND });
    let peak = 0;
    for (let tick = 0; tick < 2000; tick++) {
      h.add(udp4('10.0.0.1', 5004, '10.0.1.1', 5004), T0 + (tick * SECOND) / 2);
      if (tick % 2 === 0) h.add(udp4(`10.2.${tick >> 9}.${(tick >> 1) & 0xff}`, 1000, '10.0.1.1', 53), T0 + (tick * SECOND) / 2);
      peak = Math.max(peak, h.table.activeFlows);
    }
    expect(peak).toBeLessThanOrEqual(303);
    expect(h.emitted.length).toBeGreaterThanOrEqual(1000 - 302);
  });
});
