// Later IP fragments carry no ports and join the flow of their first fragment (fragment-index.ts).
// Before this change, IPv6 fragments whose fragmentable part starts with AH or destination
// options never joined (review t19: the first fragment was keyed by the final protocol, the
// later ones by the Fragment header's next header), and later fragments of a flow whose two
// ends share one address were counted in the wrong direction (review t20 (b)).

import { describe, expect, it } from 'vitest';
import { NO_FLOW } from '../../agent/src/flows/flow-table';
import { bytes, ethernet, fields, ipv4, ipv6, ipv6Extension, ipv6Fragment, udp } from '../support/capture-bytes';
import { FlowHarness } from '../support/flow-harness';

const T0 = 1_700_000_000_000_000;


/** An authentication header (RFC 4302) of 24 bytes: payload length 4 = (24 / 4) - 2. */
function authenticationHeader(nextHeader: number): Uint8Array {
  return bytes(fields(false).u8(nextHeader).u8(4).u16(0).u32(0x100).u32(1).done(), new Uint8Array(12));
}

const A = '2001:db8::1';
const B = '2001:db8::2';

/** A first fragment whose fragmentable part is `headers` then UDP, and a later fragment. */
function ipv6Datagram(id: number, headers: readonly Uint8Array[], firstNext: number, srcPort: number): [Uint8Array, Uint8Array] {
  const first = ipv6({ src: A, dst: B, nextHeader: 44, payload: bytes(ipv6Fragment(firstNext, 0, true, id), ...headers, udp(srcPort, 2000, 40).subarray(0, 16)) });
  const later = ipv6({ src: A, dst: B, nextHeader: 44, payload: bytes(ipv6Fragment(firstNext, 48, false, id), new Uint8Array(32)) });
  return [ethernet(0x86dd, first), ethernet(0x86dd, later)];
}

describe('IPv6 later fragments join their flow whatever header the fragmentable part starts with', () => {
  it.each([
    ['UDP directly', [], 17],
    ['AH, then UDP', [authenticationHeader(17)], 51],
    ['destination options, then UDP', [ipv6Extension(17)], 60],
    ['destination options, AH, then UDP', [ipv6Extension(51), authenticationHeader(17)], 60],
  ] as const)('%s', (_, headers, firstNext) => {
    const h = new FlowHarness();
    const [first, later] = ipv6Datagram(7, headers, firstNext, 1000);
    const slot = h.add(first, T0);
    expect(h.add(later, T0 + 1)).toBe(slot);
    const [flow] = h.finish();
    expect(flow!.packets).toStrictEqual({ up: 2, down: 0 });
    expect(flow!.bytes.up).toBe(first.length + later.length);
    expect(h.table.stats).toMatchObject({ fragmentsAttributed: 1, fragmentsUnattributed: 0 });
  });

  it('keeps datagrams with another identification or between other addresses apart', () => {
    const h = new FlowHarness();
    const [first] = ipv6Datagram(7, [authenticationHeader(17)], 51, 1000);
    const [, otherId] = ipv6Datagram(8, [authenticationHeader(17)], 51, 1000);
    h.add(first, T0);
    expect(h.add(otherId, T0 + 1)).toBe(NO_FLOW);
    const reversed = ethernet(0x86dd, ipv6({ src: B, dst: A, nextHeader: 44, payload: bytes(ipv6Fragment(51, 48, false, 7), new Uint8Array(32)) }));
    expect(h.add(reversed, T0 + 2)).toBe(NO_FLOW);
    expect(h.table.stats.fragmentsUnattributed).toBe(2);
  });
});

describe('IPv4 later fragments in a flow whose two ends share one address', () => {
  it('are counted in the direction of their first fragment', () => {
    // 10.0.12.1:53 speaks first (the client); then 10.0.12.1:9000 → :53 sends a datagram in
    // two fragments: both go down. The old table decided a fragment's direction from the
    // addresses, then the ports, which a later fragment has not: all zero, so "up".
    const h = new FlowHarness();
    const host = '10.0.12.1';
    const query = ethernet(0x0800, ipv4({ src: host, dst: host, protocol: 17, id: 1, payload: udp(53, 9000, 1) }));
    const body = udp(9000, 53, 40);
    const first = ethernet(0x0800, ipv4({ src: host, dst: host, protocol: 17, id: 81, moreFragments: true, payload: body.subarray(0, 24) }));
    const later = ethernet(0x0800, ipv4({ src: host, dst: host, protocol: 17, id: 81, fragmentOffsetBytes: 24, payload: body.subarray(24) }));
    h.add(query, T0 + 3);
    h.add(first, T0 + 4);
    h.add(later, T0 + 5);
    expect(h.table.lastPacketUp).toBe(false);

    const [flow] = h.finish();
    expect([flow!.client, flow!.server]).toStrictEqual([
      { ip: host, port: 53 },
      { ip: host, port: 9000 },
    ]);
    expect(flow!.packets).toStrictEqual({ up: 1, down: 2 });
    expect(flow!.bytes).toStrictEqual({ up: query.length, down: first.length + later.length });
  });

  it('are counted in no flow when they come before their first fragment (documented in README)', () => {
    // Reverse-order fragmentation: the later fragment cannot be placed when it arrives, and
    // attributing it afterwards would count it in `cumma flows` but not in classify's dialogs,
    // which take their packets one by one as they are read.
    const h = new FlowHarness();
    const body = udp(5001, 6001, 40);
    const later = ethernet(0x0800, ipv4({ src: '10.0.9.1', dst: '10.0.9.2', protocol: 17, id: 78, fragmentOffsetBytes: 24, payload: body.subarray(24) }));
    const first = ethernet(0x0800, ipv4({ src: '10.0.9.1', dst: '10.0.9.2', protocol: 17, id: 78, moreFragments: true, payload: body.subarray(0, 24) }));
    expect(h.add(later, T0 + 1)).toBe(NO_FLOW);
    h.add(first, T0 + 2);
    expect(h.finish().map((flow) => flow.packets)).toStrictEqual([{ up: 1, down: 0 }]);
    expect(h.table.stats.fragmentsUnattributed).toBe(1);
  });
});
