// IP inside PPPoE sessions, MPLS label stacks and 802.3 LLC/SNAP frames, raw IP under the old
// DLT_RAW link types 12 and 14, and the stderr report of what is still not decoded (IP tunnels,
// unknown EtherTypes, …). Before this change all of these gave no flow and no message (review
// t18_stats, t08), and the report said "1 packets".

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrame } from '../../agent/src/capture/frame-decoder';
import { DecodeStatus, Packet, Transport } from '../../agent/src/capture/packet';
import { UndecodedLinks } from '../../agent/src/capture/undecoded-links';
import { bytes, enhancedPacket, ethernet, fields, interfaceDescription, ipv4, ipv6, sectionHeader, tcp, udp, TCP_FLAGS } from '../support/capture-bytes';
import { requireTools } from '../support/tools';
import { cummaFlows, tsharkTuples, tupleLines } from './tshark-per-tuple';

const LINKTYPE_ETHERNET = 1;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;

const v4Udp = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, payload: udp(1111, 53, 4) });
const v6Tcp = ipv6({ src: '2001:db8::1', dst: '2001:db8::2', nextHeader: 6, payload: tcp(40000, 443, TCP_FLAGS.SYN) });

/** PPPoE session header (RFC 2516) and the 2-byte PPP protocol. */
function pppoe(protocol: number, payload: Uint8Array): Uint8Array {
  return ethernet(0x8864, bytes(fields(false).u8(0x11).u8(0).u16(0x1234).u16(payload.length + 2).u16(protocol).done(), payload));
}

/** MPLS label stack entries (label, bottom of stack on the last) before the payload. */
function mpls(labels: readonly number[], payload: Uint8Array, etherType = 0x8847, bottom = true): Uint8Array {
  const f = fields(false);
  labels.forEach((label, index) => f.u32(((label << 12) | (bottom && index === labels.length - 1 ? 0x100 : 0) | 64) >>> 0));
  return ethernet(etherType, bytes(f.done(), payload));
}

/** An 802.3 frame: the EtherType field holds the length; 802.2 LLC (and SNAP) follow. */
function llcFrame(llc: Uint8Array, payload: Uint8Array): Uint8Array {
  const body = bytes(llc, payload);
  const header = fields(false).raw(Uint8Array.of(2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1)).u16(body.length).done();
  return bytes(header, body);
}

const snap = (oui: number, etherType: number): Uint8Array => fields(false).u8(0xaa).u8(0xaa).u8(0x03).u8(oui >> 16).u16(oui & 0xffff).u16(etherType).done();

function decode(linkType: number, frame: Uint8Array): Packet {
  const packet = new Packet();
  packet.resetDecoded();
  packet.linkType = linkType;
  decodeFrame(linkType, frame, 0, frame.length, packet);
  return packet;
}

describe('IP inside Ethernet encapsulations', () => {
  it.each([
    ['PPPoE session, PPP IPv4 (0x0021)', pppoe(0x0021, v4Udp)],
    ['MPLS, one label', mpls([100], v4Udp)],
    ['MPLS, three labels', mpls([100, 200, 300], v4Udp)],
    ['MPLS multicast (0x8848)', mpls([16], v4Udp, 0x8848)],
    ['802.3 + LLC/SNAP, OUI 00-00-00 (RFC 1042)', llcFrame(snap(0, ETHERTYPE_IPV4), v4Udp)],
    ['802.3 + LLC/SNAP, OUI 00-00-F8 (802.1H)', llcFrame(snap(0xf8, ETHERTYPE_IPV4), v4Udp)],
    ['802.1Q, then PPPoE', (() => {
      const inner = pppoe(0x0021, v4Udp);
      return bytes(inner.subarray(0, 12), Uint8Array.of(0x81, 0x00, 0x00, 0x64), inner.subarray(12));
    })()],
  ])('finds IPv4/UDP behind %s', (_, frame) => {
    const packet = decode(LINKTYPE_ETHERNET, frame);
    expect(packet.status).toBe(DecodeStatus.Transport);
    expect([packet.ipVersion, packet.srcAddress[0], packet.transport, packet.srcPort, packet.dstPort]).toEqual([4, 0x0a000001, Transport.Udp, 1111, 53]);
  });

  it.each([
    ['PPPoE session, PPP IPv6 (0x0057)', pppoe(0x0057, v6Tcp)],
    ['MPLS, two labels', mpls([100, 200], v6Tcp)],
    ['802.3 + LLC/SNAP', llcFrame(snap(0, ETHERTYPE_IPV6), v6Tcp)],
  ])('finds IPv6/TCP behind %s', (_, frame) => {
    const packet = decode(LINKTYPE_ETHERNET, frame);
    expect(packet.status).toBe(DecodeStatus.Transport);
    expect([packet.ipVersion, packet.transport, packet.srcPort, packet.dstPort, packet.tcpFlags]).toEqual([6, Transport.Tcp, 40000, 443, TCP_FLAGS.SYN]);
  });

  it('finds IP behind LLC/SNAP in a Linux cooked capture (protocol 4, ETH_P_802_2)', () => {
    const sll = bytes(fields(false).u16(0).u16(1).u16(6).raw(new Uint8Array(8)).u16(4).done(), snap(0, ETHERTYPE_IPV4), v4Udp);
    expect(decode(113, sll).status).toBe(DecodeStatus.Transport);
  });

  it('marks headers cut short as truncated, never reading past the frame', () => {
    expect(decode(LINKTYPE_ETHERNET, pppoe(0x0021, v4Udp).subarray(0, 20)).status).toBe(DecodeStatus.Truncated);
    expect(decode(LINKTYPE_ETHERNET, mpls([100, 200], new Uint8Array(0), 0x8847, false)).status).toBe(DecodeStatus.Truncated);
    expect(decode(LINKTYPE_ETHERNET, llcFrame(snap(0, ETHERTYPE_IPV4), new Uint8Array(0)).subarray(0, 19)).status).toBe(DecodeStatus.Truncated);
  });

  it.each([
    ['PPP LCP (0xc021) in PPPoE', pppoe(0xc021, new Uint8Array(8))],
    ['Ethernet over MPLS (a pseudowire)', mpls([100], ethernet(ETHERTYPE_IPV4, v4Udp))],
    ['spanning tree (LLC 42 42 03)', llcFrame(Uint8Array.of(0x42, 0x42, 0x03), new Uint8Array(35))],
    ['ARP', ethernet(0x0806, new Uint8Array(28))],
  ])('calls %s not IP', (_, frame) => {
    expect(decode(LINKTYPE_ETHERNET, frame).status).toBe(DecodeStatus.NotIp);
  });
});

describe('raw IP under the DLT_RAW values 12 and 14', () => {
  it.each([12, 14, 101])('decodes link type %i as raw IP, IPv4 or IPv6 by the version nibble', (linkType) => {
    expect(decode(linkType, v4Udp)).toMatchObject({ status: DecodeStatus.Transport, ipVersion: 4, srcPort: 1111 });
    expect(decode(linkType, v6Tcp)).toMatchObject({ status: DecodeStatus.Transport, ipVersion: 6, srcPort: 40000 });
  });
});

describe('UndecodedLinks: what is reported on stderr', () => {
  function report(...frames: readonly (readonly [number, Uint8Array])[]): string[] {
    const undecoded = new UndecodedLinks();
    const packet = new Packet();
    for (const [linkType, frame] of frames) {
      packet.resetDecoded();
      packet.linkType = linkType;
      decodeFrame(linkType, frame, 0, frame.length, packet);
      undecoded.note(packet);
    }
    return undecoded.messages('x.pcapng');
  }
  const gre = ethernet(ETHERTYPE_IPV4, ipv4({ src: '10.9.0.1', dst: '10.9.0.2', protocol: 47, payload: bytes(Uint8Array.of(0, 0, 0x08, 0), v4Udp) }));
  const ipip = ethernet(ETHERTYPE_IPV4, ipv4({ src: '10.9.0.1', dst: '10.9.0.2', protocol: 4, payload: v4Udp }));
  const sixInFour = ethernet(ETHERTYPE_IPV4, ipv4({ src: '10.9.0.1', dst: '10.9.0.2', protocol: 41, payload: v6Tcp }));

  it('reports IP tunnels once per protocol, with counts, in singular and plural', () => {
    expect(report([1, gre], [1, ipip], [1, gre], [1, sixInFour])).toStrictEqual([
      'x.pcapng: 2 packets with GRE (IP protocol 47) were not decoded (IP tunnels are not followed inside)',
      'x.pcapng: 1 packet with IPv4 in IP (IP protocol 4) was not decoded (IP tunnels are not followed inside)',
      'x.pcapng: 1 packet with IPv6 in IP, 6in4 (IP protocol 41) was not decoded (IP tunnels are not followed inside)',
    ]);
  });

  it('says "1 packet … was" for one packet of an unsupported link type, as before for several', () => {
    expect(report([105, new Uint8Array(32)])).toStrictEqual(['x.pcapng: 1 packet with IEEE 802.11 framing was not decoded (unsupported link type 105)']);
    expect(report([105, new Uint8Array(32)], [105, new Uint8Array(32)])).toStrictEqual(['x.pcapng: 2 packets with IEEE 802.11 framing were not decoded (unsupported link type 105)']);
  });

  it('reports frames that may hide traffic: an unknown EtherType, a PPP data protocol, an MPLS pseudowire', () => {
    expect(report([1, ethernet(0x88e5, new Uint8Array(40))], [1, ethernet(0x88b5, new Uint8Array(40))], [1, pppoe(0x0281, new Uint8Array(8))], [1, mpls([100], ethernet(ETHERTYPE_IPV4, v4Udp))])).toStrictEqual([
      'x.pcapng: 1 packet with EtherType 0x88e5 (MACsec) was not decoded (not IP)',
      'x.pcapng: 1 packet with EtherType 0x88b5 was not decoded (not IP)',
      'x.pcapng: 1 packet with PPP protocol 0x0281 in a PPPoE session was not decoded (not IP)',
      'x.pcapng: 1 packet with a payload under MPLS that is not IP was not decoded (a pseudowire, such as Ethernet over MPLS, is not followed inside)',
    ]);
  });

  it('stays quiet about link control, ICMP and the packets it did decode', () => {
    const icmp = ethernet(ETHERTYPE_IPV4, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 1, payload: new Uint8Array(8) }));
    expect(
      report(
        [1, ethernet(0x0806, new Uint8Array(28))],
        [1, ethernet(0x88cc, new Uint8Array(40))],
        [1, ethernet(0x8863, new Uint8Array(20))],
        [1, pppoe(0xc021, new Uint8Array(8))],
        [1, llcFrame(Uint8Array.of(0x42, 0x42, 0x03), new Uint8Array(35))],
        [1, icmp],
        [1, pppoe(0x0021, v4Udp)],
        [12, v4Udp],
      ),
    ).toStrictEqual([]);
  });
});

// ---- against tshark, end to end ----------------------------------------------------------------

const tools = requireTools('tshark');

describe.skipIf(tools.skip)('cumma flows on these encapsulations agrees with tshark', () => {
  let dir = '';
  let file = '';

  beforeAll(() => {
    tools.assertAvailable();
    dir = mkdtempSync(join(tmpdir(), 'cumma-encapsulations-'));
    const T = 1_700_000_000_000_000n;
    const flow = (n: number): Uint8Array => ipv4({ src: `10.0.${n}.1`, dst: `10.0.${n}.2`, protocol: 17, payload: udp(1000 + n, 53, n) });
    const flow6 = (n: number): Uint8Array => ipv6({ src: `2001:db8::${n}:1`, dst: `2001:db8::${n}:2`, nextHeader: 17, payload: udp(1000 + n, 53, n) });
    const packets: [number, Uint8Array][] = [
      [0, pppoe(0x0021, flow(1))],
      [0, pppoe(0x0057, flow6(2))],
      [0, mpls([100], flow(3))],
      [0, mpls([100, 200], flow6(4))],
      [0, llcFrame(snap(0, ETHERTYPE_IPV4), flow(5))],
      [0, llcFrame(snap(0, ETHERTYPE_IPV6), flow6(6))],
      [0, ethernet(ETHERTYPE_IPV4, ipv4({ src: '10.9.0.1', dst: '10.9.0.2', protocol: 47, payload: bytes(Uint8Array.of(0, 0, 0x08, 0), flow(7)) }))],
      [0, ethernet(ETHERTYPE_IPV4, ipv4({ src: '10.9.0.1', dst: '10.9.0.2', protocol: 4, payload: flow(8) }))],
      [1, flow(9)], // link type 12
      [2, flow6(10)], // link type 14
      [0, ethernet(0x0806, new Uint8Array(28))],
    ];
    const parts = [sectionHeader(true), ...[1, 12, 14].map((linkType) => interfaceDescription(true, { linkType }))];
    packets.forEach(([interfaceId, data], index) => parts.push(enhancedPacket(true, { interfaceId, timestamp: T + BigInt(index), data })));
    file = join(dir, 'encapsulations.pcapng');
    writeFileSync(file, bytes(...parts));
  });

  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('finds the same flows, packets, bytes and times', () => {
    const reference = tsharkTuples(file);
    expect(reference.size).toBe(8); // flows 1–6, 9, 10: tshark's outer IP of the tunnels has no ports
    const cumma = cummaFlows(file);
    expect(cumma.status).toBe(0);
    expect(tupleLines(cumma.tuples)).toStrictEqual(tupleLines(reference));
  });

  it('reports the tunnels it did not decode on stderr, once each', () => {
    expect(cummaFlows(file).stderr.split('\n').filter((line) => line !== '')).toStrictEqual([
      `cumma: ${file}: 1 packet with GRE (IP protocol 47) was not decoded (IP tunnels are not followed inside)`,
      `cumma: ${file}: 1 packet with IPv4 in IP (IP protocol 4) was not decoded (IP tunnels are not followed inside)`,
    ]);
  });
});
