import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../agent/src/capture/frame-decoder';
import { DecodeStatus, Packet, Transport } from '../../agent/src/capture/packet';
import {
  TCP_FLAGS,
  bytes,
  ethernet,
  fields,
  ipv4,
  ipv6,
  ipv6Bytes,
  ipv6Extension,
  ipv6Fragment,
  tcp,
  udp,
} from '../support/capture-bytes';

function decode(linkType: number, frame: Uint8Array): Packet {
  const packet = new Packet();
  packet.resetDecoded();
  decodeFrame(linkType, frame, 0, frame.length, packet);
  return packet;
}

const v4Udp = ipv4({ src: '172.16.0.1', dst: '172.16.0.2', protocol: 17, payload: udp(3478, 50000, 20) });
const v6Tcp = ipv6({ src: '2001:db8::1', dst: 'fe80::2', nextHeader: 6, payload: tcp(443, 51000, TCP_FLAGS.ACK | TCP_FLAGS.PSH, 30) });

function sll(protocol: number, payload: Uint8Array): Uint8Array {
  return bytes(fields(false).u16(0).u16(1).u16(6).raw(new Uint8Array(8)).u16(protocol).done(), payload);
}
function sll2(protocol: number, payload: Uint8Array): Uint8Array {
  return bytes(fields(false).u16(protocol).u16(0).u32(1).u16(1).u8(0).u8(6).raw(new Uint8Array(8)).done(), payload);
}

describe('link layers', () => {
  it.each([
    ['Ethernet', 1, ethernet(0x0800, v4Udp)],
    ['802.1Q', 1, ethernet(0x0800, v4Udp, [0x8100])],
    ['802.1ad + 802.1Q', 1, ethernet(0x0800, v4Udp, [0x88a8, 0x8100])],
    ['old QinQ 0x9100', 1, ethernet(0x0800, v4Udp, [0x9100])],
    ['SLL', 113, sll(0x0800, v4Udp)],
    ['SLL2', 276, sll2(0x0800, v4Udp)],
    ['SLL with a re-inserted 802.1Q tag', 113, sll(0x8100, bytes(Uint8Array.of(0, 100, 0x08, 0x00), v4Udp))],
    ['SLL2 with a re-inserted 802.1Q tag', 276, sll2(0x8100, bytes(Uint8Array.of(0, 100, 0x08, 0x00), v4Udp))],
    ['raw IP', 101, v4Udp],
    ['raw IPv4', 228, v4Udp],
    ['NULL little-endian', 0, bytes(Uint8Array.of(2, 0, 0, 0), v4Udp)],
    ['NULL big-endian', 0, bytes(Uint8Array.of(0, 0, 0, 2), v4Udp)],
    ['LOOP', 108, bytes(Uint8Array.of(0, 0, 0, 2), v4Udp)],
  ])('finds IPv4/UDP behind %s', (_, linkType, frame) => {
    const packet = decode(linkType, frame);
    expect(packet.status).toBe(DecodeStatus.Transport);
    expect(packet.ipVersion).toBe(4);
    expect([packet.srcAddress[0], packet.dstAddress[0]]).toEqual([0xac100001, 0xac100002]);
    expect([packet.transport, packet.srcPort, packet.dstPort, packet.payloadLength]).toEqual([Transport.Udp, 3478, 50000, 20]);
  });

  it.each([
    ['Ethernet', 1, ethernet(0x86dd, v6Tcp)],
    ['SLL', 113, sll(0x86dd, v6Tcp)],
    ['SLL2', 276, sll2(0x86dd, v6Tcp)],
    ['raw IP', 101, v6Tcp],
    ['raw IPv6', 229, v6Tcp],
    ['NULL (Linux/NetBSD 24)', 0, bytes(Uint8Array.of(24, 0, 0, 0), v6Tcp)],
    ['NULL (FreeBSD 28)', 0, bytes(Uint8Array.of(28, 0, 0, 0), v6Tcp)],
    ['NULL (macOS 30) big-endian', 0, bytes(Uint8Array.of(0, 0, 0, 30), v6Tcp)],
    ['LOOP', 108, bytes(Uint8Array.of(0, 0, 0, 24), v6Tcp)],
  ])('finds IPv6/TCP behind %s', (_, linkType, frame) => {
    const packet = decode(linkType, frame);
    expect(packet.status).toBe(DecodeStatus.Transport);
    expect(packet.ipVersion).toBe(6);
    expect([...packet.srcAddress]).toEqual([0x20010db8, 0, 0, 1]);
    expect([...packet.dstAddress]).toEqual([0xfe800000, 0, 0, 2]);
    expect([packet.transport, packet.srcPort, packet.dstPort, packet.tcpFlags, packet.payloadLength]).toEqual([
      Transport.Tcp,
      443,
      51000,
      TCP_FLAGS.ACK | TCP_FLAGS.PSH,
      30,
    ]);
  });

  it('reports non-IP payloads (ARP) as NotIp and unknown link types as UnsupportedLink', () => {
    expect(decode(1, ethernet(0x0806, new Uint8Array(28))).status).toBe(DecodeStatus.NotIp);
    expect(decode(127, ethernet(0x0800, v4Udp)).status).toBe(DecodeStatus.UnsupportedLink);
  });

  it('reports frames shorter than their link header as Truncated', () => {
    expect(decode(1, new Uint8Array(10)).status).toBe(DecodeStatus.Truncated);
    expect(decode(113, new Uint8Array(15)).status).toBe(DecodeStatus.Truncated);
    expect(decode(1, ethernet(0x0800, v4Udp, [0x8100]).subarray(0, 17)).status).toBe(DecodeStatus.Truncated);
  });
});

describe('IP and transport decoding', () => {
  it('skips IPv4 options to reach the transport header', () => {
    const packet = decode(101, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 6, options: Uint8Array.of(1, 1, 1, 1, 7, 7, 4), payload: tcp(1, 2, TCP_FLAGS.SYN) }));
    expect([packet.status, packet.srcPort, packet.dstPort, packet.tcpFlags]).toEqual([DecodeStatus.Transport, 1, 2, TCP_FLAGS.SYN]);
  });

  it('walks hop-by-hop, routing and destination-options headers before UDP', () => {
    const payload = bytes(ipv6Extension(43), ipv6Extension(60), ipv6Extension(17), udp(53, 5353, 4));
    const packet = decode(229, ipv6({ src: '::1', dst: '::2', nextHeader: 0, payload }));
    expect([packet.status, packet.ipProtocol, packet.srcPort, packet.dstPort, packet.payloadLength]).toEqual([DecodeStatus.Transport, 17, 53, 5353, 4]);
  });

  it('decodes the first IPv4 fragment with ports and later fragments without', () => {
    const first = decode(101, ipv4({ src: '9.9.9.9', dst: '8.8.8.8', protocol: 17, id: 77, moreFragments: true, payload: udp(1000, 2000, 16) }));
    expect([first.status, first.fragmentId, first.isFirstFragment, first.srcPort]).toEqual([DecodeStatus.Transport, 77, true, 1000]);
    const later = decode(101, ipv4({ src: '9.9.9.9', dst: '8.8.8.8', protocol: 17, id: 77, fragmentOffsetBytes: 24, payload: new Uint8Array(8) }));
    expect([later.status, later.fragmentId, later.fragmentOffset, later.ipProtocol, later.srcPort]).toEqual([DecodeStatus.Fragment, 77, 24, 17, 0]);
  });

  it('decodes IPv6 fragment headers the same way', () => {
    const first = decode(229, ipv6({ src: '::a', dst: '::b', nextHeader: 44, payload: bytes(ipv6Fragment(17, 0, true, 0xdeadbeef), udp(7, 8, 100)) }));
    expect([first.status, first.fragmentId, first.isFirstFragment, first.dstPort]).toEqual([DecodeStatus.Transport, 0xdeadbeef, true, 8]);
    const later = decode(229, ipv6({ src: '::a', dst: '::b', nextHeader: 44, payload: bytes(ipv6Fragment(17, 64, false, 0xdeadbeef), new Uint8Array(40)) }));
    expect([later.status, later.fragmentOffset, later.ipProtocol]).toEqual([DecodeStatus.Fragment, 64, 17]);
  });

  it('reports an IPv4 total length shorter than its header as Truncated, but trusts the frame for 0', () => {
    const frame = ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 17, payload: udp(1, 2, 10) });
    const bogus = frame.slice();
    bogus[2] = 0;
    bogus[3] = 8;
    expect(decode(101, bogus).status).toBe(DecodeStatus.Truncated);
    const offloaded = frame.slice();
    offloaded[2] = offloaded[3] = 0;
    expect([decode(101, offloaded).status, decode(101, offloaded).payloadLength]).toEqual([DecodeStatus.Transport, 10]);
  });

  it('reports ICMP as OtherIp', () => {
    expect(decode(101, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 1, payload: new Uint8Array(8) })).status).toBe(DecodeStatus.OtherIp);
  });

  it('reports headers cut before the ports as Truncated', () => {
    const full = ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 6, payload: tcp(1, 2, TCP_FLAGS.SYN) });
    expect(decode(101, full.subarray(0, 22)).status).toBe(DecodeStatus.Truncated);
    expect(decode(101, full.subarray(0, 19)).status).toBe(DecodeStatus.Truncated);
    expect(decode(101, ipv6({ src: '::1', dst: '::2', nextHeader: 6, payload: tcp(1, 2, 0) }).subarray(0, 39)).status).toBe(DecodeStatus.Truncated);
  });

  it('keeps the transport payload length from the IP header when the snapshot cut the payload', () => {
    const full = ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 6, payload: tcp(1, 2, TCP_FLAGS.ACK, 1000) });
    const packet = decode(101, full.subarray(0, 40));
    expect([packet.status, packet.payloadLength]).toEqual([DecodeStatus.Transport, 1000]);
  });

  it('stops on an endless chain of IPv6 extension headers', () => {
    const chain = bytes(...Array.from({ length: 40 }, () => ipv6Extension(0)));
    expect(decode(229, ipv6({ src: '::1', dst: '::2', nextHeader: 0, payload: chain })).status).toBe(DecodeStatus.Truncated);
  });

  it('reads IPv6 addresses in network order', () => {
    expect([...ipv6Bytes('2001:db8::ff00:42:8329')]).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0x42, 0x83, 0x29]);
  });
});
