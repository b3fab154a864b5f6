import { describe, it, expect } from 'vitest';
import { FlowRecord, TransportName } from '../../agent/src/flows/flow-record';
import { FlowTable, NO_FLOW } from '../../agent/src/flows/flow-table';
import { bytes, ethernet, ipv4, ipv6, ipv6Fragment, tcp, udp, TCP_FLAGS } from '../support/capture-bytes';
import { ETHERTYPE_IPV4, FlowHarness, tcp4, udp4 } from '../support/flow-harness';
import { seededRandom } from '../support/random-capture';

// ---- frames ---------------------------------------------------------------------------------
// Lengths, worked out by hand: Ethernet 14, IPv4 20, IPv6 40, TCP 20, UDP 8, IPv6 fragment 8.

const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_ARP = 0x0806;
const { FIN, SYN, RST, PSH, ACK } = TCP_FLAGS;

/** 74 + payload bytes. */
function tcp6(src: string, srcPort: number, dst: string, dstPort: number, flags: number, payload = 0): Uint8Array {
  return ethernet(ETHERTYPE_IPV6, ipv6({ src, dst, nextHeader: 6, payload: tcp(srcPort, dstPort, flags, payload) }));
}

/** 62 + payload bytes. */
function udp6(src: string, srcPort: number, dst: string, dstPort: number, payload = 0): Uint8Array {
  return ethernet(ETHERTYPE_IPV6, ipv6({ src, dst, nextHeader: 17, payload: udp(srcPort, dstPort, payload) }));
}

// ---- harness --------------------------------------------------------------------------------

/** 2023-11-14T22:13:20Z in microseconds. */
const T0 = 1_700_000_000_000_000;
const SECOND = 1_000_000;


interface ExpectedFlow {
  readonly l4: TransportName;
  readonly client: readonly [string, number];
  readonly server: readonly [string, number];
  readonly firstUs: number;
  readonly lastUs: number;
  readonly packets: readonly [number, number];
  readonly bytes: readonly [number, number];
}

function flow(expected: ExpectedFlow): FlowRecord {
  return {
    l4: expected.l4,
    client: { ip: expected.client[0], port: expected.client[1] },
    server: { ip: expected.server[0], port: expected.server[1] },
    firstUs: expected.firstUs,
    lastUs: expected.lastUs,
    packets: { up: expected.packets[0], down: expected.packets[1] },
    bytes: { up: expected.bytes[0], down: expected.bytes[1] },
  };
}

const CLIENT = '10.0.0.9';
const SERVER = '10.0.0.1'; // lower than CLIENT: the canonical key order puts the server first

// ---- direction ------------------------------------------------------------------------------

describe('FlowTable direction', () => {
  it('makes the sender of the first UDP packet the client and counts each direction', () => {
    const h = new FlowHarness();
    h.add(udp4(CLIENT, 5353, SERVER, 53, 30), T0); // 72
    h.add(udp4(SERVER, 53, CLIENT, 5353, 100), T0 + 10); // 142
    h.add(udp4(CLIENT, 5353, SERVER, 53, 0), T0 + 25); // 42
    h.add(udp4(SERVER, 53, CLIENT, 5353, 58), T0 + 40); // 100
    h.add(udp4(CLIENT, 5353, SERVER, 53, 8), T0 + 41); // 50

    expect(h.finish()).toStrictEqual([
      flow({ l4: 'udp', client: [CLIENT, 5353], server: [SERVER, 53], firstUs: T0, lastUs: T0 + 41, packets: [3, 2], bytes: [164, 242] }),
    ]);
  });

  it('makes the first sender the client whichever endpoint sorts first in the key', () => {
    const h = new FlowHarness();
    h.add(udp4(SERVER, 53, CLIENT, 5353, 0), T0); // 42, the lower address sends first
    h.add(udp4(CLIENT, 5353, SERVER, 53, 10), T0 + 1); // 52

    expect(h.finish()).toStrictEqual([
      flow({ l4: 'udp', client: [SERVER, 53], server: [CLIENT, 5353], firstUs: T0, lastUs: T0 + 1, packets: [1, 1], bytes: [42, 52] }),
    ]);
  });

  it('orders endpoints with equal addresses by port and still makes the first sender the client', () => {
    const h = new FlowHarness();
    h.add(udp4('127.0.0.1', 9000, '127.0.0.1', 8000, 1), T0); // 43
    h.add(udp4('127.0.0.1', 8000, '127.0.0.1', 9000, 2), T0 + 1); // 44

    expect(h.finish()).toStrictEqual([
      flow({ l4: 'udp', client: ['127.0.0.1', 9000], server: ['127.0.0.1', 8000], firstUs: T0, lastUs: T0 + 1, packets: [1, 1], bytes: [43, 44] }),
    ]);
  });

  it('makes the SYN sender of a TCP handshake the client', () => {
    const h = new FlowHarness();
    h.add(tcp4(CLIENT, 50000, SERVER, 443, SYN), T0); // 54
    h.add(tcp4(SERVER, 443, CLIENT, 50000, SYN | ACK), T0 + 100); // 54
    h.add(tcp4(CLIENT, 50000, SERVER, 443, ACK), T0 + 200); // 54
    h.add(tcp4(CLIENT, 50000, SERVER, 443, PSH | ACK, 517), T0 + 300); // 571
    h.add(tcp4(SERVER, 443, CLIENT, 50000, PSH | ACK, 1400), T0 + 900); // 1454

    expect(h.finish()).toStrictEqual([
      flow({ l4: 'tcp', client: [CLIENT, 50000], server: [SERVER, 443], firstUs: T0, lastUs: T0 + 900, packets: [3, 2], bytes: [679, 1508] }),
    ]);
  });

  it('makes the receiver of a SYN-ACK seen first the client', () => {
    const h = new FlowHarness();
    h.add(tcp4(SERVER, 443, CLIENT, 50000, SYN | ACK), T0); // 54
    h.add(tcp4(CLIENT, 50000, SERVER, 443, ACK), T0 + 100); // 54
    h.add(tcp4(CLIENT, 50000, SERVER, 443, PSH | ACK, 10), T0 + 200); // 64

    expect(h.finish()).toStrictEqual([
      flow({ l4: 'tcp', client: [CLIENT, 50000], server: [SERVER, 443], firstUs: T0, lastUs: T0 + 200, packets: [2, 1], bytes: [118, 54] }),
    ]);
  });

  it('makes the first sender the client of a TCP connection picked up mid-stream', () => {
    const h = new FlowHarness();
    h.add(tcp4(SERVER, 443, CLIENT, 50000, PSH | ACK, 100), T0); // 154
    h.add(tcp4(CLIENT, 50000, SERVER, 443, ACK), T0 + 50); // 54

    expect(h.finish()).toStrictEqual([
      flow({ l4: 'tcp', client: [SERVER, 443], server: [CLIENT, 50000], firstUs: T0, lastUs: T0 + 50, packets: [1, 1], bytes: [154, 54] }),
    ]);
  });

  it('re-orients a flow that has seen no SYN to the sender of a SYN arriving later, swapping the counts', () => {
    const h = new FlowHarness();
    h.add(tcp4(SERVER, 443, CLIENT, 50000, PSH | ACK, 100), T0); // 154, first sender
    h.add(tcp4(CLIENT, 50000, SERVER, 443, ACK), T0 + 10); // 54
    h.add(tcp4(CLIENT, 50000, SERVER, 443, SYN), T0 + 20); // 54, the SYN sender is the client

    expect(h.finish()).toStrictEqual([
      flow({ l4: 'tcp', client: [CLIENT, 50000], server: [SERVER, 443], firstUs: T0, lastUs: T0 + 20, packets: [2, 1], bytes: [108, 154] }),
    ]);
  });

  it('keeps the orientation of a flow that already saw a SYN when the other side sends one too', () => {
    const h = new FlowHarness();
    h.add(tcp4(CLIENT, 50000, SERVER, 443, SYN), T0); // 54
    h.add(tcp4(SERVER, 443, CLIENT, 50000, SYN, 6), T0 + 5); // 60, simultaneous open

    expect(h.finish()).toStrictEqual([
      flow({ l4: 'tcp', client: [CLIENT, 50000], server: [SERVER, 443], firstUs: T0, lastUs: T0 + 5, packets: [1, 1], bytes: [54, 60] }),
    ]);
  });

  it('counts a retransmitted SYN in the same flow', () => {
    const h = new FlowHarness();
    h.add(tcp4(CLIENT, 50000, SERVER, 443, SYN), T0);
    h.add(tcp4(CLIENT, 50000, SERVER, 443, SYN), T0 + SECOND);

    expect(h.finish()).toStrictEqual([
      flow({ l4: 'tcp', client: [CLIENT, 50000], server: [SERVER, 443], firstUs: T0, lastUs: T0 + SECOND, packets: [2, 0], bytes: [108, 0] }),
    ]);
  });

  it('reports the direction of the packet last added through lastPacketUp', () => {
    const h = new FlowHarness();
    h.add(udp4(CLIENT, 5353, SERVER, 53), T0);
    expect(h.table.lastPacketUp).toBe(true);
    h.add(udp4(SERVER, 53, CLIENT, 5353), T0 + 1);
    expect(h.table.lastPacketUp).toBe(false);
  });
});

// ---- connection reuse -----------------------------------------------------------------------

describe('FlowTable connection reuse', () => {
  it('emits the old flow and starts a new one when a SYN reuses the 5-tuple of a connection closed by FIN', () => {
    const h = new FlowHarness();
    h.add(tcp4(CLIENT, 50000, SERVER, 443, SYN), T0);
    h.add(tcp4(SERVER, 443, CLIENT, 50000, SYN | ACK), T0 + 1);
    h.add(tcp4(CLIENT, 50000, SERVER, 443, ACK), T0 + 2);
    h.add(tcp4(CLIENT, 50000, SERVER, 443, FIN | ACK), T0 + 3);
    h.add(tcp4(SERVER, 443, CLIENT, 50000, FIN | ACK), T0 + 4);
    h.add(tcp4(CLIENT, 50000, SERVER, 443, ACK), T0 + 5);
    const first = flow({ l4: 'tcp', client: [CLIENT, 50000], server: [SERVER, 443], firstUs: T0, lastUs: T0 + 5, packets: [4, 2], bytes: [216, 108] });

    h.add(tcp4(CLIENT, 50000, SERVER, 443, SYN), T0 + 6);
    expect(h.emitted).toStrictEqual([first]);
    expect(h.table.activeFlows).toBe(1);

    h.add(tcp4(SERVER, 443, CLIENT, 50000, SYN | ACK, 10), T0 + 7); // 64
    expect(h.finish()).toStrictEqual([
      first,
      flow({ l4: 'tcp', client: [CLIENT, 50000], server: [SERVER, 443], firstUs: T0 + 6, lastUs: T0 + 7, packets: [1, 1], bytes: [54, 64] }),
    ]);
    expect(h.table.stats.flowsEmitted).toBe(2);
  });

  it('emits the old flow and starts a new one when a SYN follows a RST, the SYN sender becoming the client', () => {
    const h = new FlowHarness();
    h.add(tcp4(CLIENT, 50000, SERVER, 443, SYN), T0);
    h.add(tcp4(SERVER, 443, CLIENT, 50000, RST | ACK), T0 + 1);
    h.add(tcp4(SERVER, 443, CLIENT, 50000, SYN, 2), T0 + 2); // 56: the former server opens now

    expect(h.finish()).toStrictEqual([
      flow({ l4: 'tcp', client: [CLIENT, 50000], server: [SERVER, 443], firstUs: T0, lastUs: T0 + 1, packets: [1, 1], bytes: [54, 54] }),
      flow({ l4: 'tcp', client: [SERVER, 443], server: [CLIENT, 50000], firstUs: T0 + 2, lastUs: T0 + 2, packets: [1, 0], bytes: [56, 0] }),
    ]);
  });

  it('keeps packets after a FIN in the same flow when no new SYN comes', () => {
    const h = new FlowHarness();
    h.add(tcp4(CLIENT, 50000, SERVER, 443, FIN | ACK), T0);
    h.add(tcp4(SERVER, 443, CLIENT, 50000, ACK), T0 + 1);
    h.add(tcp4(SERVER, 443, CLIENT, 50000, SYN | ACK), T0 + 2); // not a pure SYN: no new flow
    h.add(tcp4(CLIENT, 50000, SERVER, 443, PSH | ACK, 1), T0 + 3); // 55

    expect(h.finish()).toStrictEqual([
      flow({ l4: 'tcp', client: [CLIENT, 50000], server: [SERVER, 443], firstUs: T0, lastUs: T0 + 3, packets: [2, 2], bytes: [109, 108] }),
    ]);
  });
});

// ---- address families and protocols --------------------------------------------------------

describe('FlowTable address families', () => {
  it('counts an IPv6 TCP flow with RFC 5952 addresses', () => {
    const h = new FlowHarness();
    h.add(tcp6('2001:db8:0:0:0:0:0:a', 50000, '2001:DB8:0:1:0:0:0:1', 443, SYN), T0); // 74
    h.add(tcp6('2001:db8:0:1::1', 443, '2001:db8::a', 50000, SYN | ACK), T0 + 3); // 74
    h.add(tcp6('2001:db8::a', 50000, '2001:db8:0:1::1', 443, PSH | ACK, 26), T0 + 7); // 100

    expect(h.finish()).toStrictEqual([
      flow({ l4: 'tcp', client: ['2001:db8::a', 50000], server: ['2001:db8:0:1::1', 443], firstUs: T0, lastUs: T0 + 7, packets: [2, 1], bytes: [174, 74] }),
    ]);
  });

  it('counts an IPv6 UDP flow', () => {
    const h = new FlowHarness();
    h.add(udp6('fe80::1', 546, 'ff02::1:2', 547, 38), T0); // 100
    h.add(udp6('ff02::1:2', 547, 'fe80::1', 546, 0), T0 + 9); // 62

    expect(h.finish()).toStrictEqual([
      flow({ l4: 'udp', client: ['fe80::1', 546], server: ['ff02::1:2', 547], firstUs: T0, lastUs: T0 + 9, packets: [1, 1], bytes: [100, 62] }),
    ]);
  });

  it('keeps TCP and UDP, IPv4 and IPv6 flows with the same address words and ports apart', () => {
    const h = new FlowHarness();
    // 10.0.0.5 and a00:5:: hold the same first 32-bit word; the other IPv6 words are zero.
    h.add(udp4('10.0.0.5', 4000, '10.0.0.6', 4001), T0);
    h.add(tcp4('10.0.0.5', 4000, '10.0.0.6', 4001, ACK), T0 + 1);
    h.add(udp6('a00:5::', 4000, 'a00:6::', 4001), T0 + 2);
    h.add(tcp6('a00:5::', 4000, 'a00:6::', 4001, ACK), T0 + 3);
    h.add(udp4('10.0.0.6', 4001, '10.0.0.5', 4000), T0 + 4);

    expect(h.finish()).toStrictEqual([
      flow({ l4: 'udp', client: ['10.0.0.5', 4000], server: ['10.0.0.6', 4001], firstUs: T0, lastUs: T0 + 4, packets: [1, 1], bytes: [42, 42] }),
      flow({ l4: 'tcp', client: ['10.0.0.5', 4000], server: ['10.0.0.6', 4001], firstUs: T0 + 1, lastUs: T0 + 1, packets: [1, 0], bytes: [54, 0] }),
      flow({ l4: 'udp', client: ['a00:5::', 4000], server: ['a00:6::', 4001], firstUs: T0 + 2, lastUs: T0 + 2, packets: [1, 0], bytes: [62, 0] }),
      flow({ l4: 'tcp', client: ['a00:5::', 4000], server: ['a00:6::', 4001], firstUs: T0 + 3, lastUs: T0 + 3, packets: [1, 0], bytes: [74, 0] }),
    ]);
  });
});

// ---- bytes and times ------------------------------------------------------------------------

describe('FlowTable counts', () => {
  it('counts original frame lengths, not the captured lengths cut by the snapshot length', () => {
    const h = new FlowHarness();
    h.add(tcp4(CLIENT, 50000, SERVER, 443, ACK), T0, 1514); // 54 bytes captured of 1514
    h.add(tcp4(SERVER, 443, CLIENT, 50000, ACK), T0 + 1, 9014);

    expect(h.finish()).toStrictEqual([
      flow({ l4: 'tcp', client: [CLIENT, 50000], server: [SERVER, 443], firstUs: T0, lastUs: T0 + 1, packets: [1, 1], bytes: [1514, 9014] }),
    ]);
  });

  it('takes firstUs and lastUs from the earliest and latest packets when timestamps go backwards', () => {
    const h = new FlowHarness();
    h.add(udp4(CLIENT, 5353, SERVER, 53), T0 + 1000);
    h.add(udp4(SERVER, 53, CLIENT, 5353), T0 + 400);
    h.add(udp4(CLIENT, 5353, SERVER, 53), T0 + 2000);
    h.add(udp4(SERVER, 53, CLIENT, 5353), T0 + 1500);

    expect(h.finish()).toStrictEqual([
      flow({ l4: 'udp', client: [CLIENT, 5353], server: [SERVER, 53], firstUs: T0 + 400, lastUs: T0 + 2000, packets: [2, 2], bytes: [84, 84] }),
    ]);
  });

  it('counts every packet kind in its own stats counter and returns NO_FLOW for packets outside flows', () => {
    const h = new FlowHarness();
    const arp = ethernet(ETHERTYPE_ARP, new Uint8Array(28));
    const icmp = ethernet(ETHERTYPE_IPV4, ipv4({ src: CLIENT, dst: SERVER, protocol: 1, payload: new Uint8Array(8) }));
    const cutTcp = tcp4(CLIENT, 50000, SERVER, 443, ACK).subarray(0, 36); // IPv4 header complete, TCP cut inside the ports

    expect(h.add(arp, T0)).toBe(NO_FLOW);
    expect(h.add(icmp, T0 + 1)).toBe(NO_FLOW);
    expect(h.add(cutTcp, T0 + 2)).toBe(NO_FLOW);
    expect(h.add(udp4(CLIENT, 1, SERVER, 2), T0 + 3, 42, 147)).toBe(NO_FLOW); // user link type 147
    const slot = h.add(udp4(CLIENT, 5353, SERVER, 53), T0 + 4);
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(h.add(udp4(SERVER, 53, CLIENT, 5353), T0 + 5)).toBe(slot);

    expect(h.table.stats).toStrictEqual({
      packets: 6,
      flowPackets: 2,
      fragmentsAttributed: 0,
      fragmentsUnattributed: 0,
      notIp: 1,
      otherIp: 1,
      truncated: 1,
      unsupportedLink: 1,
      flowsEmitted: 0,
      flowsEvicted: 0,
    });
    expect(h.table.activeFlows).toBe(1);
    h.finish();
    expect(h.table.stats.flowsEmitted).toBe(1);
    expect(h.emitted).toHaveLength(1);
  });
});

// ---- idle timeout ---------------------------------------------------------------------------

describe('FlowTable idle timeout', () => {
  it('ends a flow silent for longer than the idle timeout and counts the next packet in a new flow', () => {
    const h = new FlowHarness({ idleTimeoutUs: 10 * SECOND });
    h.add(udp4(CLIENT, 5353, SERVER, 53, 100), T0); // 142
    h.add(udp4(SERVER, 53, CLIENT, 5353, 200), T0 + 4 * SECOND); // 242
    h.add(udp4(SERVER, 53, CLIENT, 5353, 0), T0 + 14 * SECOND + 1); // 42, 10 s + 1 µs later

    const first = flow({ l4: 'udp', client: [CLIENT, 5353], server: [SERVER, 53], firstUs: T0, lastUs: T0 + 4 * SECOND, packets: [1, 1], bytes: [142, 242] });
    expect(h.emitted).toStrictEqual([first]);
    expect(h.finish()).toStrictEqual([
      first,
      flow({ l4: 'udp', client: [SERVER, 53], server: [CLIENT, 5353], firstUs: T0 + 14 * SECOND + 1, lastUs: T0 + 14 * SECOND + 1, packets: [1, 0], bytes: [42, 0] }),
    ]);
  });

  it('keeps a flow whose gap equals the idle timeout exactly', () => {
    const h = new FlowHarness({ idleTimeoutUs: 10 * SECOND });
    h.add(udp4(CLIENT, 5353, SERVER, 53), T0);
    h.add(udp4(CLIENT, 5353, SERVER, 53), T0 + 10 * SECOND);

    expect(h.finish()).toStrictEqual([
      flow({ l4: 'udp', client: [CLIENT, 5353], server: [SERVER, 53], firstUs: T0, lastUs: T0 + 10 * SECOND, packets: [2, 0], bytes: [84, 0] }),
    ]);
  });

  it('uses a 300 s idle timeout by default', () => {
    const h = new FlowHarness();
    h.add(udp4(CLIENT, 1000, SERVER, 53), T0);
    h.add(udp4(CLIENT, 1000, SERVER, 53), T0 + 300 * SECOND); // exactly 300 s: same flow
    h.add(udp4(CLIENT, 1000, SERVER, 53), T0 + 600 * SECOND + 1); // 300 s + 1 µs: new flow

    expect(h.finish().map((record) => [record.firstUs, record.lastUs, record.packets.up])).toStrictEqual([
      [T0, T0 + 300 * SECOND, 2],
      [T0 + 600 * SECOND + 1, T0 + 600 * SECOND + 1, 1],
    ]);
  });

  it('expires an idle flow as soon as two consecutive packets of other flows move the clock past its timeout', () => {
    const h = new FlowHarness({ idleTimeoutUs: 10 * SECOND });
    h.add(udp4(CLIENT, 1111, SERVER, 53), T0);
    h.add(udp4(CLIENT, 2222, SERVER, 53), T0 + 5 * SECOND);
    expect(h.emitted).toHaveLength(0);

    h.add(udp4(CLIENT, 3333, SERVER, 53), T0 + 12 * SECOND);
    expect(h.emitted).toHaveLength(0); // one packet alone does not move the clock past 5 s
    h.add(udp4(CLIENT, 4444, SERVER, 53), T0 + 12 * SECOND);
    expect(h.emitted.map((record) => record.client.port)).toStrictEqual([1111]);
    expect(h.table.activeFlows).toBe(3);
  });

  it('does not move the clock back for a late packet, so a late packet expires nothing', () => {
    const h = new FlowHarness({ idleTimeoutUs: 10 * SECOND });
    h.add(udp4(CLIENT, 1111, SERVER, 53), T0);
    h.add(udp4(CLIENT, 2222, SERVER, 53), T0 + 9 * SECOND);
    h.add(udp4(CLIENT, 3333, SERVER, 53), T0 + 20 * SECOND);
    h.add(udp4(CLIENT, 3333, SERVER, 53), T0 + 20 * SECOND); // clock 20 s: 1111 and 2222 expire
    expect(h.emitted.map((record) => record.client.port)).toStrictEqual([1111, 2222]);

    h.add(udp4(CLIENT, 1111, SERVER, 53), T0 + 2 * SECOND); // late: a new 1111 flow, clock stays at 20 s
    h.add(udp4(CLIENT, 3333, SERVER, 53), T0 + 20 * SECOND);
    expect(h.emitted).toHaveLength(2);
    expect(h.table.activeFlows).toBe(2);
  });

  it('splits a flow whose last packet is older than the clock minus the timeout even when a more recently touched flow is still active', () => {
    // Clock 20 s; a late packet of flow 1111 at 1 s is touched after flow 3333 (last 20 s).
    // At 22 s, flow 1111 has been silent 21 s > 10 s: its next packet must start a new flow.
    const h = new FlowHarness({ idleTimeoutUs: 10 * SECOND });
    h.add(udp4(CLIENT, 3333, SERVER, 53), T0 + 20 * SECOND);
    h.add(udp4(CLIENT, 1111, SERVER, 53), T0 + 1 * SECOND);
    h.add(udp4(CLIENT, 1111, SERVER, 53), T0 + 22 * SECOND);

    expect(h.finish().filter((record) => record.client.port === 1111).map((record) => [record.firstUs, record.lastUs])).toStrictEqual([
      [T0 + 1 * SECOND, T0 + 1 * SECOND],
      [T0 + 22 * SECOND, T0 + 22 * SECOND],
    ]);
  });

  it('rejects an idle timeout that is not positive with a RangeError', () => {
    expect(() => new FlowTable(() => undefined, { idleTimeoutUs: 0 })).toThrow(new RangeError('idle timeout must be positive, got 0 µs'));
    expect(() => new FlowTable(() => undefined, { idleTimeoutUs: -5 })).toThrow(RangeError);
    expect(() => new FlowTable(() => undefined, { idleTimeoutUs: Number.NaN })).toThrow(RangeError);
  });
});

// ---- bounded size ---------------------------------------------------------------------------

describe('FlowTable maxFlows', () => {
  it('evicts the least recently active flow, not the oldest created, when maxFlows is reached', () => {
    const h = new FlowHarness({ maxFlows: 2, recencyResolutionUs: 0 });
    h.add(udp4(CLIENT, 1111, SERVER, 53, 1), T0); // 43
    h.add(udp4(CLIENT, 2222, SERVER, 53, 2), T0 + 1); // 44
    h.add(udp4(SERVER, 53, CLIENT, 1111, 3), T0 + 2); // 45: 1111 becomes the most recent
    h.add(udp4(CLIENT, 3333, SERVER, 53, 4), T0 + 3); // 46: table full, 2222 goes

    expect(h.emitted).toStrictEqual([
      flow({ l4: 'udp', client: [CLIENT, 2222], server: [SERVER, 53], firstUs: T0 + 1, lastUs: T0 + 1, packets: [1, 0], bytes: [44, 0] }),
    ]);
    expect(h.table.stats.flowsEvicted).toBe(1);
    expect(h.table.activeFlows).toBe(2);
    expect(h.finish().slice(1)).toStrictEqual([
      flow({ l4: 'udp', client: [CLIENT, 1111], server: [SERVER, 53], firstUs: T0, lastUs: T0 + 2, packets: [1, 1], bytes: [43, 45] }),
      flow({ l4: 'udp', client: [CLIENT, 3333], server: [SERVER, 53], firstUs: T0 + 3, lastUs: T0 + 3, packets: [1, 0], bytes: [46, 0] }),
    ]);
    expect(h.table.stats.flowsEvicted).toBe(1);
  });

  it('never holds more than maxFlows flows while 10 000 distinct flows pass through 100 places', () => {
    const h = new FlowHarness({ maxFlows: 100 });
    let peak = 0;
    for (let index = 0; index < 10_000; index++) {
      h.add(udp4(`10.1.${index >> 8}.${index & 0xff}`, 40000, SERVER, 53), T0 + index);
      peak = Math.max(peak, h.table.activeFlows);
    }
    expect(peak).toBe(100);
    expect(h.table.stats.flowsEvicted).toBe(9_900);
    expect(h.emitted).toHaveLength(9_900);
    // Least recently active first: evictions come out in arrival order.
    expect(h.emitted[0]!.client.ip).toBe('10.1.0.0');
    expect(h.emitted[9_899]!.client.ip).toBe(`10.1.${9_899 >> 8}.${9_899 & 0xff}`);

    const all = h.finish();
    expect(all).toHaveLength(10_000);
    expect(new Set(all.map((record) => record.client.ip)).size).toBe(10_000);
    expect(all.every((record) => record.packets.up === 1 && record.packets.down === 0 && record.bytes.up === 42)).toBe(true);
    expect(h.table.activeFlows).toBe(0);
  });
});

// ---- flush ----------------------------------------------------------------------------------

describe('FlowTable flush', () => {
  it('emits the remaining flows ordered by their first packet time, not by recent activity', () => {
    const h = new FlowHarness();
    h.add(udp4(CLIENT, 2222, SERVER, 53), T0 + 20);
    h.add(udp4(CLIENT, 3333, SERVER, 53), T0 + 30);
    h.add(udp4(CLIENT, 1111, SERVER, 53), T0 + 10); // late packet with the earliest time
    h.add(udp4(CLIENT, 2222, SERVER, 53), T0 + 40); // most recently active

    expect(h.finish().map((record) => [record.client.port, record.firstUs])).toStrictEqual([
      [1111, T0 + 10],
      [2222, T0 + 20],
      [3333, T0 + 30],
    ]);
  });

  it('empties the table, so a second flush emits nothing', () => {
    const h = new FlowHarness();
    h.add(udp4(CLIENT, 1111, SERVER, 53), T0);
    h.finish();
    expect(h.table.activeFlows).toBe(0);
    h.table.flush();
    expect(h.emitted).toHaveLength(1);
  });
});

// ---- fragments ------------------------------------------------------------------------------

describe('FlowTable IP fragments', () => {
  /** A 2 980-byte UDP datagram (8 + 2 972) in three IPv4 fragments. */
  function ipv4Fragments(src: string, srcPort: number, dst: string, dstPort: number, id: number): Uint8Array[] {
    return [
      // 14 + 20 + 8 + 1472 = 1514
      ethernet(ETHERTYPE_IPV4, ipv4({ src, dst, protocol: 17, id, moreFragments: true, payload: udp(srcPort, dstPort, 1472) })),
      // 14 + 20 + 1480 = 1514
      ethernet(ETHERTYPE_IPV4, ipv4({ src, dst, protocol: 17, id, fragmentOffsetBytes: 1480, moreFragments: true, payload: new Uint8Array(1480) })),
      // 14 + 20 + 20 = 54
      ethernet(ETHERTYPE_IPV4, ipv4({ src, dst, protocol: 17, id, fragmentOffsetBytes: 2960, payload: new Uint8Array(20) })),
    ];
  }

  it('counts the later fragments of an IPv4 datagram in the flow of its first fragment', () => {
    const h = new FlowHarness();
    const [first, second, third] = ipv4Fragments(CLIENT, 5000, SERVER, 53, 0x4242);
    h.add(first!, T0);
    h.add(second!, T0 + 1);
    h.add(third!, T0 + 2);
    h.add(udp4(SERVER, 53, CLIENT, 5000, 28), T0 + 50); // 70

    expect(h.finish()).toStrictEqual([
      flow({ l4: 'udp', client: [CLIENT, 5000], server: [SERVER, 53], firstUs: T0, lastUs: T0 + 50, packets: [3, 1], bytes: [3082, 70] }),
    ]);
    expect(h.table.stats.fragmentsAttributed).toBe(2);
    expect(h.table.stats.fragmentsUnattributed).toBe(0);
    expect(h.table.stats.flowPackets).toBe(4);
  });

  it('counts the fragments of an IPv6 datagram sent by the server in the down direction', () => {
    const h = new FlowHarness();
    const id = 0xdeadbeef;
    h.add(udp6('2001:db8::a', 5000, '2001:db8::1', 443, 10), T0); // 72, client speaks first
    // 14 + 40 + 8 + 8 + 1224 = 1294
    h.add(ethernet(ETHERTYPE_IPV6, ipv6({ src: '2001:db8::1', dst: '2001:db8::a', nextHeader: 44, payload: bytes(ipv6Fragment(17, 0, true, id), udp(443, 5000, 1224)) })), T0 + 10);
    // 14 + 40 + 8 + 500 = 562
    h.add(ethernet(ETHERTYPE_IPV6, ipv6({ src: '2001:db8::1', dst: '2001:db8::a', nextHeader: 44, payload: bytes(ipv6Fragment(17, 1232, false, id), new Uint8Array(500)) })), T0 + 11);

    expect(h.finish()).toStrictEqual([
      flow({ l4: 'udp', client: ['2001:db8::a', 5000], server: ['2001:db8::1', 443], firstUs: T0, lastUs: T0 + 11, packets: [1, 2], bytes: [72, 1856] }),
    ]);
    expect(h.table.stats.fragmentsAttributed).toBe(1);
  });

  it('leaves a fragment whose first fragment was not seen out of every flow', () => {
    const h = new FlowHarness();
    const [, second] = ipv4Fragments(CLIENT, 5000, SERVER, 53, 0x4242);
    expect(h.add(second!, T0)).toBe(NO_FLOW);

    expect(h.finish()).toStrictEqual([]);
    expect(h.table.stats.fragmentsUnattributed).toBe(1);
    expect(h.table.stats.fragmentsAttributed).toBe(0);
    expect(h.table.stats.flowPackets).toBe(0);
    expect(h.table.stats.packets).toBe(1);
  });

  it('leaves a fragment with another IP id, or travelling the other way, out of the flow', () => {
    const h = new FlowHarness();
    const [first] = ipv4Fragments(CLIENT, 5000, SERVER, 53, 0x4242);
    const [, otherId] = ipv4Fragments(CLIENT, 5000, SERVER, 53, 0x4243);
    const [, reversed] = ipv4Fragments(SERVER, 53, CLIENT, 5000, 0x4242);
    h.add(first!, T0);
    expect(h.add(otherId!, T0 + 1)).toBe(NO_FLOW);
    expect(h.add(reversed!, T0 + 2)).toBe(NO_FLOW);

    expect(h.finish()).toStrictEqual([
      flow({ l4: 'udp', client: [CLIENT, 5000], server: [SERVER, 53], firstUs: T0, lastUs: T0, packets: [1, 0], bytes: [1514, 0] }),
    ]);
    expect(h.table.stats.fragmentsUnattributed).toBe(2);
  });

  it('leaves a fragment out once the flow of its first fragment has ended', () => {
    const h = new FlowHarness({ idleTimeoutUs: SECOND });
    const [first, second] = ipv4Fragments(CLIENT, 5000, SERVER, 53, 0x4242);
    h.add(first!, T0);
    expect(h.add(second!, T0 + 2 * SECOND)).toBe(NO_FLOW); // its arrival expires the flow

    expect(h.finish()).toHaveLength(1);
    expect(h.table.stats.fragmentsUnattributed).toBe(1);
  });

  it('does not count a late fragment in another flow that reuses the ended flow\'s place', () => {
    const h = new FlowHarness({ idleTimeoutUs: SECOND });
    const [first, second] = ipv4Fragments(CLIENT, 5000, SERVER, 53, 0x4242);
    const firstSlot = h.add(first!, T0);
    h.add(udp4('10.9.9.8', 7000, SERVER, 53), T0 + 2 * SECOND);
    const reusingSlot = h.add(udp4('10.9.9.9', 7000, SERVER, 53), T0 + 2 * SECOND); // expires 5000, takes its place
    expect(reusingSlot).toBe(firstSlot);
    expect(h.add(second!, T0 + 2 * SECOND + 1)).toBe(NO_FLOW);

    expect(h.finish()).toStrictEqual([
      flow({ l4: 'udp', client: [CLIENT, 5000], server: [SERVER, 53], firstUs: T0, lastUs: T0, packets: [1, 0], bytes: [1514, 0] }),
      // Same first packet time: flush() orders them by slot, and 10.9.9.9 took 5000's, the first.
      flow({ l4: 'udp', client: ['10.9.9.9', 7000], server: [SERVER, 53], firstUs: T0 + 2 * SECOND, lastUs: T0 + 2 * SECOND, packets: [1, 0], bytes: [42, 0] }),
      flow({ l4: 'udp', client: ['10.9.9.8', 7000], server: [SERVER, 53], firstUs: T0 + 2 * SECOND, lastUs: T0 + 2 * SECOND, packets: [1, 0], bytes: [42, 0] }),
    ]);
    expect(h.table.stats.fragmentsUnattributed).toBe(1);
  });

  it('leaves a fragment out when it comes more than 30 s after its first fragment', () => {
    const h = new FlowHarness();
    const [first, second, third] = ipv4Fragments(CLIENT, 5000, SERVER, 53, 0x4242);
    h.add(first!, T0);
    expect(h.add(second!, T0 + 30 * SECOND)).not.toBe(NO_FLOW);
    expect(h.add(third!, T0 + 30 * SECOND + 1)).toBe(NO_FLOW);
    expect(h.table.stats.fragmentsAttributed).toBe(1);
    expect(h.table.stats.fragmentsUnattributed).toBe(1);
  });
});

// ---- against a reference model --------------------------------------------------------------


interface SimEndpoint {
  readonly ip: string;
  readonly port: number;
}

interface SimPacket {
  readonly version: 4 | 6;
  readonly l4: TransportName;
  readonly src: SimEndpoint;
  readonly dst: SimEndpoint;
  readonly flags: number;
  readonly timestampUs: number;
  readonly payload: number;
}

interface ModelFlow {
  readonly l4: TransportName;
  client: SimEndpoint;
  server: SimEndpoint;
  readonly firstUs: number;
  lastUs: number;
  /** The later of its latest packet's time and the clock when that packet was read. */
  activeUs: number;
  up: number;
  down: number;
  bytesUp: number;
  bytesDown: number;
  synSeen: boolean;
  closed: boolean;
}

const sameEndpoint = (left: SimEndpoint, right: SimEndpoint): boolean => left.ip === right.ip && left.port === right.port;

/**
 * The flow rules restated as plainly as possible: a Map keyed by the unordered 5-tuple whose
 * iteration order is recency (delete + set on every packet). Timestamps fed to it increase. The
 * clock is the latest time two consecutive packets have both reached (flow-table.ts).
 */
class ReferenceTable {
  readonly emitted: FlowRecord[] = [];
  evicted = 0;
  private readonly flows = new Map<string, ModelFlow>();
  private now = -Infinity;
  private previousUs = -Infinity;

  constructor(
    private readonly idleTimeoutUs: number,
    private readonly maxFlows: number,
  ) {}

  get size(): number {
    return this.flows.size;
  }

  add(packet: SimPacket, length: number): void {
    const reached = Math.min(packet.timestampUs, this.previousUs);
    this.previousUs = packet.timestampUs;
    if (reached > this.now) {
      this.now = reached;
      for (const [key, flow] of this.flows) {
        if (flow.activeUs >= this.now - this.idleTimeoutUs) break;
        this.emit(key, flow);
      }
    }
    const ends = [`${packet.src.ip}/${packet.src.port}`, `${packet.dst.ip}/${packet.dst.port}`].sort();
    const key = `${packet.version} ${packet.l4} ${ends[0]} ${ends[1]}`;
    const handshake = packet.l4 === 'tcp' ? packet.flags & (SYN | ACK) : 0;
    const pureSyn = handshake === SYN;
    let flow = this.flows.get(key);
    if (flow !== undefined && pureSyn && flow.closed) {
      this.emit(key, flow);
      flow = undefined;
    } else if (flow !== undefined && packet.timestampUs - flow.lastUs > this.idleTimeoutUs) {
      // Its own gap: the clock lags one packet, so it may not have expired the flow yet.
      this.emit(key, flow);
      flow = undefined;
    }
    if (flow === undefined) {
      if (this.flows.size >= this.maxFlows) {
        const [oldestKey, oldest] = this.flows.entries().next().value!;
        this.evicted++;
        this.emit(oldestKey, oldest);
      }
      const synAck = handshake === (SYN | ACK);
      flow = {
        l4: packet.l4,
        client: synAck ? packet.dst : packet.src,
        server: synAck ? packet.src : packet.dst,
        firstUs: packet.timestampUs,
        lastUs: packet.timestampUs,
        activeUs: packet.timestampUs,
        up: 0,
        down: 0,
        bytesUp: 0,
        bytesDown: 0,
        synSeen: false,
        closed: false,
      };
    } else if (pureSyn && !flow.synSeen && !sameEndpoint(flow.client, packet.src)) {
      flow.client = packet.src;
      flow.server = packet.dst;
      [flow.up, flow.down, flow.bytesUp, flow.bytesDown] = [flow.down, flow.up, flow.bytesDown, flow.bytesUp];
    }
    if (pureSyn) flow.synSeen = true;
    if (packet.l4 === 'tcp' && (packet.flags & (FIN | RST)) !== 0) flow.closed = true;
    if (sameEndpoint(flow.client, packet.src)) {
      flow.up++;
      flow.bytesUp += length;
    } else {
      flow.down++;
      flow.bytesDown += length;
    }
    flow.lastUs = Math.max(flow.lastUs, packet.timestampUs);
    flow.activeUs = Math.max(flow.activeUs, packet.timestampUs, this.now);
    this.flows.delete(key);
    this.flows.set(key, flow);
  }

  flush(): void {
    const rest = [...this.flows].sort(([, left], [, right]) => left.firstUs - right.firstUs);
    for (const [key, flow] of rest) this.emit(key, flow);
  }

  private emit(key: string, flow: ModelFlow): void {
    this.flows.delete(key);
    this.emitted.push({
      l4: flow.l4,
      client: { ...flow.client },
      server: { ...flow.server },
      firstUs: flow.firstUs,
      lastUs: flow.lastUs,
      packets: { up: flow.up, down: flow.down },
      bytes: { up: flow.bytesUp, down: flow.bytesDown },
    });
  }
}

interface Conversation {
  readonly version: 4 | 6;
  readonly l4: TransportName;
  readonly a: SimEndpoint;
  readonly b: SimEndpoint;
}

function conversations(random: () => number, count: number): Conversation[] {
  const pick = (n: number): number => Math.floor(random() * n);
  const out: Conversation[] = [];
  const seen = new Set<string>();
  while (out.length < count) {
    const l4: TransportName = random() < 0.5 ? 'tcp' : 'udp';
    const kind = pick(4);
    let conversation: Conversation;
    if (kind === 0) {
      // IPv4 across a few hosts: many flows share addresses and differ in ports only.
      conversation = { version: 4, l4, a: { ip: `10.0.${pick(4)}.${pick(8)}`, port: 1024 + pick(200) }, b: { ip: `192.0.2.${pick(4)}`, port: [53, 443, 5222][pick(3)]! } };
    } else if (kind === 1) {
      // Loopback: equal addresses, the ports decide the key order.
      conversation = { version: 4, l4, a: { ip: '127.0.0.1', port: 30000 + pick(300) }, b: { ip: '127.0.0.1', port: 8000 + pick(3) } };
    } else if (kind === 2) {
      const host = (1 + pick(0xfffe)).toString(16);
      conversation = { version: 6, l4, a: { ip: `2001:db8::${host}`, port: 1024 + pick(500) }, b: { ip: `2001:db8:1::${(1 + pick(4)).toString(16)}`, port: 443 } };
    } else {
      // IPv6 addresses whose first word equals an IPv4 address (a00:1:: and 10.0.0.1).
      conversation = { version: 6, l4, a: { ip: `a00:${(1 + pick(8)).toString(16)}::`, port: 1024 + pick(200) }, b: { ip: 'c000:200::', port: 53 } };
    }
    if (sameEndpoint(conversation.a, conversation.b)) continue;
    const key = `${conversation.version} ${conversation.l4} ${[conversation.a, conversation.b].map((e) => `${e.ip}/${e.port}`).sort().join(' ')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(conversation);
  }
  return out;
}

function frameOf(packet: SimPacket): Uint8Array {
  const { src, dst } = packet;
  if (packet.version === 4) {
    return packet.l4 === 'tcp'
      ? tcp4(src.ip, src.port, dst.ip, dst.port, packet.flags, packet.payload)
      : udp4(src.ip, src.port, dst.ip, dst.port, packet.payload);
  }
  return packet.l4 === 'tcp'
    ? tcp6(src.ip, src.port, dst.ip, dst.port, packet.flags, packet.payload)
    : udp6(src.ip, src.port, dst.ip, dst.port, packet.payload);
}

const FLAG_CHOICES: readonly number[] = [ACK, ACK, ACK, PSH | ACK, PSH | ACK, ACK, SYN, SYN, SYN | ACK, FIN | ACK, FIN | ACK, RST, RST | ACK];

interface RunResult {
  readonly table: FlowRecord[];
  readonly model: FlowRecord[];
  readonly tableStats: { readonly evicted: number; readonly emitted: number };
  readonly modelEvicted: number;
  readonly firstSizeMismatch: number;
  readonly peak: number;
}

function runAgainstModel(seed: number, packets: number, pool: number, options: { idleTimeoutUs: number; maxFlows: number; initialCapacity?: number; recencyResolutionUs?: number }): RunResult {
  const random = seededRandom(seed);
  const pool_ = conversations(random, pool);
  const h = new FlowHarness(options);
  const model = new ReferenceTable(options.idleTimeoutUs, options.maxFlows);
  let now = T0;
  let firstSizeMismatch = -1;
  let peak = 0;
  for (let index = 0; index < packets; index++) {
    // A skewed pick: a hot set of conversations talks often, the rest now and then.
    const conversation = pool_[random() < 0.5 ? Math.floor(random() * Math.min(50, pool)) : Math.floor(random() * pool)]!;
    const forward = random() < 0.5;
    now += 1 + Math.floor(random() * 20);
    const packet: SimPacket = {
      version: conversation.version,
      l4: conversation.l4,
      src: forward ? conversation.a : conversation.b,
      dst: forward ? conversation.b : conversation.a,
      flags: conversation.l4 === 'tcp' ? FLAG_CHOICES[Math.floor(random() * FLAG_CHOICES.length)]! : 0,
      timestampUs: now,
      payload: Math.floor(random() * 64),
    };
    const frame = frameOf(packet);
    h.add(frame, packet.timestampUs);
    model.add(packet, frame.length);
    peak = Math.max(peak, h.table.activeFlows);
    if (firstSizeMismatch < 0 && h.table.activeFlows !== model.size) firstSizeMismatch = index;
  }
  model.flush();
  return {
    table: h.finish(),
    model: model.emitted,
    tableStats: { evicted: h.table.stats.flowsEvicted, emitted: h.table.stats.flowsEmitted },
    modelEvicted: model.evicted,
    firstSizeMismatch,
    peak,
  };
}

/** The first record where two emission sequences part, with both sides, or index -1. */
function firstDifference(actual: readonly FlowRecord[], expected: readonly FlowRecord[]): { index: number; actual?: FlowRecord; expected?: FlowRecord } {
  const length = Math.max(actual.length, expected.length);
  for (let index = 0; index < length; index++) {
    if (JSON.stringify(actual[index]) !== JSON.stringify(expected[index])) {
      return { index, ...(actual[index] ? { actual: actual[index] } : {}), ...(expected[index] ? { expected: expected[index] } : {}) };
    }
  }
  return { index: -1 };
}

describe('FlowTable growth', () => {
  it('keeps the orientation and TCP state of the flow whose first packet makes the table grow', () => {
    const h = new FlowHarness({ initialCapacity: 4, maxFlows: 100 });
    for (let index = 0; index < 4; index++) h.add(udp4(`10.9.0.${index + 1}`, 5000, '10.9.9.9', 53), T0 + index);
    // The fifth flow needs a fifth slot: its SYN (from the smaller address, so A) grows the table.
    h.add(tcp4('10.0.0.1', 40000, '10.0.0.2', 443, 0x02), T0 + 10);
    h.add(tcp4('10.0.0.2', 443, '10.0.0.1', 40000, 0x12), T0 + 11);
    h.add(tcp4('10.0.0.1', 40000, '10.0.0.2', 443, 0x11), T0 + 12); // FIN
    h.add(tcp4('10.0.0.1', 40000, '10.0.0.2', 443, 0x02), T0 + 13); // a new connection: SYN after FIN
    const flows = h.finish().filter((record) => record.l4 === 'tcp');
    expect(flows.map((record) => [record.client.ip, record.packets.up, record.packets.down])).toEqual([
      ['10.0.0.1', 2, 1],
      ['10.0.0.1', 1, 0],
    ]);
  });
});

describe('FlowTable against a reference model', () => {
  it('matches the model with thousands of flows created and removed in random order through a small full table', () => {
    const result = runAgainstModel(0x5eed_0001, 25_000, 3_000, { idleTimeoutUs: 40_000, maxFlows: 64, recencyResolutionUs: 0 });

    expect(result.firstSizeMismatch).toBe(-1);
    expect(result.peak).toBe(64);
    expect(result.modelEvicted).toBeGreaterThan(1_000); // the run did exercise eviction
    expect(result.tableStats.evicted).toBe(result.modelEvicted);
    expect(result.tableStats.emitted).toBe(result.model.length);
    expect(firstDifference(result.table, result.model)).toStrictEqual({ index: -1 });
  });

  it('finds exactly the model\'s flows with the default coarse recency order, only emitting some of them later', () => {
    // idle timeout 25.6 ms → recency resolution 100 µs, several packet gaps long
    const result = runAgainstModel(0x5eed_0003, 30_000, 2_000, { idleTimeoutUs: 25_600, maxFlows: 100_000 });
    const sorted = (flows: readonly FlowRecord[]): string[] => flows.map((flow) => JSON.stringify(flow)).sort();

    expect(result.tableStats.evicted).toBe(0);
    expect(result.table.length).toBeGreaterThan(2_000); // idle expiry did split conversations
    expect(sorted(result.table)).toStrictEqual(sorted(result.model));
  });

  it('matches the model packet by packet where idle expiry, not eviction, ends most flows', () => {
    // 2 ms timeout against packets 1–20 µs apart over 400 conversations: the rarely picked ones
    // go idle between their packets, so the lagging clock's expiry decides most boundaries.
    const result = runAgainstModel(0x5eed_0004, 30_000, 400, { idleTimeoutUs: 2_000, maxFlows: 100_000, recencyResolutionUs: 0 });

    expect(result.firstSizeMismatch).toBe(-1);
    expect(result.tableStats.evicted).toBe(0);
    expect(result.table.length).toBeGreaterThan(3_000); // idle expiry did split conversations
    expect(firstDifference(result.table, result.model)).toStrictEqual({ index: -1 });
  });

  it('matches the model while the table grows past its initial capacity and flows expire and reopen', () => {
    const result = runAgainstModel(0x5eed_0002, 30_000, 5_000, { idleTimeoutUs: 120_000, maxFlows: 1_500, initialCapacity: 1_024, recencyResolutionUs: 0 });

    expect(result.firstSizeMismatch).toBe(-1);
    expect(result.peak).toBeGreaterThan(1_024); // grew beyond the first allocation
    expect(result.tableStats.evicted).toBe(result.modelEvicted);
    expect(result.table.length).toBeGreaterThan(5_000); // idle expiry and FIN/SYN reuse split flows
    expect(firstDifference(result.table, result.model)).toStrictEqual({ index: -1 });
  });
});
