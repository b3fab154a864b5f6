// Catalogue of fixture captures for the tshark agreement test, each isolating one decoding
// concern (a link type, IPv4 options, IPv6 extension headers, fragments, flow restarts,
// non-flow traffic, a file format) so that a failure names the concern. Each fixture also
// states how many tuples the reference must find, which checks the reference itself.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { editcap, mergecap, run, text2pcap, timeAt, type TimedPacket } from './capture-files';
import {
  AF_INET,
  AF_INET6_BSD,
  AF_INET6_DARWIN,
  AF_INET6_FREEBSD,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_QINQ,
  ETHERTYPE_VLAN,
  EXT_DEST_OPTS,
  EXT_FRAGMENT,
  EXT_HOP_BY_HOP,
  EXT_ROUTING,
  PROTO_AH,
  PROTO_ICMP,
  PROTO_ICMPV6,
  PROTO_IPIP,
  PROTO_IPV6,
  PROTO_TCP,
  PROTO_UDP,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  ethernet,
  ipv4,
  ipv4Fragments,
  ipv6,
  loopLink,
  nullLink,
  payload,
  sll,
  u16,
  sll2,
  tcp,
  udp,
  type Bytes,
  type Ipv6Extension,
} from './packets';

const BASE_SECONDS = 1_700_000_000;
// Odd nanosecond steps, so µs truncation vs rounding and ns/µs mix-ups all show in times.
const STEP_NS = 1_234_567;

// ---------------------------------------------------------------------------------------------
// Packet sequences (IP packets; link layers are added per fixture)

type IpVersion = 4 | 6;

interface IpPacket {
  version: IpVersion;
  bytes: Bytes;
}

function ip(version: IpVersion, src: string, dst: string, proto: number, body: Bytes, extensions?: Ipv6Extension[]): IpPacket {
  const bytes =
    version === 4 ? ipv4({ src, dst, proto }, body) : ipv6({ src, dst, next: proto, extensions }, body);
  return { version, bytes };
}

/** A whole TCP connection: handshake, data both ways, FIN both ways. */
function tcpSession(v: IpVersion, client: string, server: string, cport: number, sport: number): IpPacket[] {
  const up = (flags: number, data: Bytes = []): IpPacket =>
    ip(v, client, server, PROTO_TCP, tcp({ sport: cport, dport: sport, flags }, data));
  const down = (flags: number, data: Bytes = []): IpPacket =>
    ip(v, server, client, PROTO_TCP, tcp({ sport, dport: cport, flags }, data));
  return [
    up(TCP_SYN),
    down(TCP_SYN | TCP_ACK),
    up(TCP_ACK),
    up(TCP_PSH | TCP_ACK, payload(120, 1)),
    down(TCP_PSH | TCP_ACK, payload(700, 2)),
    up(TCP_ACK),
    up(TCP_FIN | TCP_ACK),
    down(TCP_FIN | TCP_ACK),
    up(TCP_ACK),
  ];
}

function udpExchange(v: IpVersion, client: string, server: string, cport: number, sport: number, ext?: Ipv6Extension[]): IpPacket[] {
  const up = (n: number): IpPacket => ip(v, client, server, PROTO_UDP, udp(cport, sport, payload(n, n)), ext);
  const down = (n: number): IpPacket => ip(v, server, client, PROTO_UDP, udp(sport, cport, payload(n, n)), ext);
  return [up(40), down(90), up(1200), up(33), down(5)];
}

type LinkWrap = (p: IpPacket) => Bytes;

const etherTypeOf = (p: IpPacket): number => (p.version === 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6);
const plainEthernet: LinkWrap = (p) => ethernet(etherTypeOf(p), p.bytes);

function timed(frames: Bytes[], startNs = 0): TimedPacket[] {
  return frames.map((bytes, i) => ({ time: timeAt(BASE_SECONDS, startNs + i * STEP_NS), bytes }));
}

// ---------------------------------------------------------------------------------------------
// Fixtures

export interface Fixture {
  name: string;
  /** Tuples the reference must find (sanity check of the reference, not of cumma). */
  tuples: number;
  /** Tuples the reference must skip as tunnels. */
  skipped?: number;
  /** Later fragments (IPv4 or IPv6) the reference must attribute / leave out. */
  fragments?: { attributed: number; unattributed: number };
  build(dir: string): string;
}

interface LinkCase {
  name: string;
  linkType: number;
  versions: IpVersion[];
  wrap: LinkWrap;
}

// Every link type cumma reads, with the family/ethertype variants each one has in the wild.
const LINK_CASES: LinkCase[] = [
  { name: 'ethernet', linkType: 1, versions: [4, 6], wrap: plainEthernet },
  { name: 'vlan-8021q', linkType: 1, versions: [4, 6], wrap: (p) => ethernet(etherTypeOf(p), p.bytes, [[ETHERTYPE_VLAN, 100]]) },
  {
    name: 'qinq-8021ad',
    linkType: 1,
    versions: [4, 6],
    wrap: (p) => ethernet(etherTypeOf(p), p.bytes, [[ETHERTYPE_QINQ, 200], [ETHERTYPE_VLAN, 100]]),
  },
  { name: 'sll-113', linkType: 113, versions: [4, 6], wrap: (p) => sll(etherTypeOf(p), p.bytes) },
  { name: 'sll2-276', linkType: 276, versions: [4, 6], wrap: (p) => sll2(etherTypeOf(p), p.bytes) },
  { name: 'raw-101', linkType: 101, versions: [4, 6], wrap: (p) => p.bytes },
  { name: 'ipv4-228', linkType: 228, versions: [4], wrap: (p) => p.bytes },
  { name: 'ipv6-229', linkType: 229, versions: [6], wrap: (p) => p.bytes },
  {
    name: 'null-0-little-endian',
    linkType: 0,
    versions: [4, 6],
    wrap: (p) => nullLink(p.version === 4 ? AF_INET : AF_INET6_BSD, p.bytes, true),
  },
  {
    name: 'null-0-big-endian',
    linkType: 0,
    versions: [4, 6],
    wrap: (p) => nullLink(p.version === 4 ? AF_INET : AF_INET6_DARWIN, p.bytes, false),
  },
  {
    name: 'loop-108',
    linkType: 108,
    versions: [4, 6],
    wrap: (p) => loopLink(p.version === 4 ? AF_INET : AF_INET6_FREEBSD, p.bytes),
  },
];

// Distinct addresses per link case, so merged captures keep their tuples apart.
function linkFixture(c: LinkCase, index: number): Fixture {
  const v4 = (host: number): string => `10.${index}.0.${host}`;
  const v6 = (host: number): string => `2001:db8:${index}::${host}`;
  const sessions = c.versions.flatMap((v) => {
    const addr = v === 4 ? v4 : v6;
    return [...tcpSession(v, addr(1), addr(2), 40000 + index, 443), ...udpExchange(v, addr(1), addr(2), 50000 + index, 3478)];
  });
  return {
    name: `link ${c.name}`,
    tuples: c.versions.length * 2,
    build: (dir) => text2pcap(timed(sessions.map(c.wrap), index * 1000), join(dir, `link-${c.name}.pcapng`), { linkType: c.linkType }),
  };
}

/** text2pcap's own dummy TCP/UDP + IPv4/IPv6 headers, directions alternating via -D. */
function dummyFixture(l4: 'tcp' | 'udp', v: IpVersion, linkType: number): Fixture {
  const addresses = v === 4 ? ['-4', '192.0.2.1,192.0.2.2'] : ['-6', '2001:db8::a,2001:db8::b'];
  const ports = [l4 === 'tcp' ? '-T' : '-u', '1234,80'];
  const packets: TimedPacket[] = [30, 500, 3, 1400, 64].map((n, i) => ({
    time: timeAt(BASE_SECONDS, i * STEP_NS),
    bytes: payload(n, i),
    direction: i % 2 === 0 ? 'O' : 'I',
  }));
  const name = `dummy-${l4}-ipv${v}-linktype-${linkType}`;
  return {
    name: `text2pcap ${name}`,
    tuples: 1,
    build: (dir) => text2pcap(packets, join(dir, `${name}.pcapng`), { linkType, args: [...ports, ...addresses] }),
  };
}

const ipv4OptionsFixture: Fixture = {
  name: 'IPv4 options',
  tuples: 2,
  build: (dir) => {
    const recordRoute = [7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0]; // RFC 791 record route, 2 slots
    const routerAlert = [0x94, 4, 0, 0]; // RFC 2113
    const nops = [1, 1, 1];
    const frames = [
      ipv4({ src: '10.9.0.1', dst: '10.9.0.2', proto: PROTO_TCP, options: [...nops, ...recordRoute] }, tcp({ sport: 1111, dport: 80, flags: TCP_SYN })),
      ipv4({ src: '10.9.0.2', dst: '10.9.0.1', proto: PROTO_TCP, options: nops }, tcp({ sport: 80, dport: 1111, flags: TCP_SYN | TCP_ACK })),
      // The longest header IHL allows (60 bytes): 40 bytes of options.
      ipv4({ src: '10.9.0.1', dst: '10.9.0.2', proto: PROTO_TCP, options: new Array<number>(40).fill(1) }, tcp({ sport: 1111, dport: 80, flags: TCP_ACK }, payload(10))),
      ipv4({ src: '10.9.0.1', dst: '224.0.0.22', proto: PROTO_UDP, options: routerAlert }, udp(5353, 5353, payload(20))),
    ].map((bytes) => ethernet(ETHERTYPE_IPV4, bytes));
    return text2pcap(timed(frames), join(dir, 'ipv4-options.pcapng'));
  },
};

const ipv6ExtensionsFixture: Fixture = {
  name: 'IPv6 extension headers',
  tuples: 3,
  build: (dir) => {
    const all: Ipv6Extension[] = [{ type: EXT_HOP_BY_HOP }, { type: EXT_ROUTING }, { type: EXT_DEST_OPTS }];
    const a = '2001:db8:e::1';
    const b = '2001:db8:e::2';
    const packets: IpPacket[] = [
      ip(6, a, b, PROTO_TCP, tcp({ sport: 2000, dport: 443, flags: TCP_SYN }), all),
      ip(6, b, a, PROTO_TCP, tcp({ sport: 443, dport: 2000, flags: TCP_SYN | TCP_ACK }), [{ type: EXT_DEST_OPTS }]),
      ip(6, a, b, PROTO_TCP, tcp({ sport: 2000, dport: 443, flags: TCP_ACK }, payload(50))),
      ...udpExchange(6, a, b, 3000, 53, [{ type: EXT_HOP_BY_HOP }]),
      ...udpExchange(6, a, b, 3001, 53, [{ type: EXT_HOP_BY_HOP }, { type: EXT_DEST_OPTS }, { type: EXT_ROUTING }, { type: EXT_DEST_OPTS }]),
      // ICMPv6 behind a hop-by-hop header (as MLD is): not a flow.
      ip(6, a, 'ff02::16', PROTO_ICMPV6, [143, 0, 0, 0, 0, 0, 0, 0], [{ type: EXT_HOP_BY_HOP }]),
    ];
    return text2pcap(timed(packets.map(plainEthernet)), join(dir, 'ipv6-extensions.pcapng'));
  },
};

// Non-first fragments carry no ports; they belong to the flow of the earlier first fragment with
// the same (src, dst, protocol, id), otherwise to no flow.
const ipv4FragmentsFixture: Fixture = {
  name: 'IPv4 fragments',
  tuples: 3,
  fragments: { attributed: 4, unattributed: 3 },
  build: (dir) => {
    const a = '10.7.0.1';
    const b = '10.7.0.2';
    const bigUdp = udp(6000, 7000, payload(1000));
    const bigTcp = tcp({ sport: 6001, dport: 80, flags: TCP_ACK | TCP_PSH }, payload(600));
    const reply = udp(7000, 6000, payload(500));
    const outOfOrder = ipv4Fragments({ src: a, dst: b, proto: PROTO_UDP, id: 0x0300 }, udp(6002, 7002, payload(300)), 160);
    const icmpSameId = ipv4Fragments({ src: a, dst: b, proto: PROTO_ICMP, id: 0x0100 }, [8, 0, 0, 0, 0, 1, 0, 1, ...payload(300)], 160);
    const frames: Bytes[] = [
      ...ipv4Fragments({ src: a, dst: b, proto: PROTO_UDP, id: 0x0100 }, bigUdp, 400),
      ...ipv4Fragments({ src: b, dst: a, proto: PROTO_UDP, id: 0x0100 }, reply, 256),
      ...ipv4Fragments({ src: a, dst: b, proto: PROTO_TCP, id: 0x0200 }, bigTcp, 320),
      // Same src/dst/id as the UDP datagram but ICMP: its later fragment must not join UDP.
      ...icmpSameId,
      // Last fragment before its first: not attributable when seen.
      outOfOrder[1]!,
      outOfOrder[0]!,
      // A later fragment whose first fragment was never captured.
      ipv4({ src: a, dst: b, proto: PROTO_UDP, id: 0x0999, fragmentOffset: 50 }, payload(64)),
    ];
    return text2pcap(timed(frames.map((f) => ethernet(ETHERTYPE_IPV4, f))), join(dir, 'ipv4-fragments.pcapng'));
  },
};

// A 5-tuple reused: FIN then a new SYN, and RST then a new SYN; cumma makes several flow
// records, whose per-tuple sums must still match.
const flowRestartFixture: Fixture = {
  name: 'TCP FIN then new SYN on the same 5-tuple',
  tuples: 1,
  build: (dir) => {
    const c = '10.6.0.1';
    const s = '10.6.0.2';
    const abort = [
      ip(4, c, s, PROTO_TCP, tcp({ sport: 5555, dport: 80, flags: TCP_SYN })),
      ip(4, s, c, PROTO_TCP, tcp({ sport: 80, dport: 5555, flags: TCP_RST | TCP_ACK })),
    ];
    const packets = [...tcpSession(4, c, s, 5555, 80), ...tcpSession(4, c, s, 5555, 80), ...abort, ...tcpSession(4, c, s, 5555, 80)];
    return text2pcap(timed(packets.map(plainEthernet)), join(dir, 'tcp-restart.pcapng'));
  },
};

// Traffic that must not form flows (ICMP quoting a UDP header, IP-in-IP, 6in4, ARP) and a UDP
// tunnel (VXLAN) whose outer tuple both sides skip.
const nonFlowFixture: Fixture = {
  name: 'ICMP errors, IP tunnels, ARP',
  tuples: 2,
  skipped: 1,
  build: (dir) => {
    const a = '10.5.0.1';
    const b = '10.5.0.2';
    const probe = ipv4({ src: a, dst: b, proto: PROTO_UDP }, udp(4444, 33434, payload(12)));
    const unreachable = [3, 3, 0, 0, 0, 0, 0, 0, ...probe.slice(0, 28)];
    const probe6 = ipv6({ src: '2001:db8:5::1', dst: '2001:db8:5::2', next: PROTO_UDP }, udp(4445, 33435, payload(12)));
    const unreachable6 = [1, 4, 0, 0, 0, 0, 0, 0, ...probe6];
    const innerTcp = ipv4({ src: '192.168.5.1', dst: '192.168.5.2', proto: PROTO_TCP }, tcp({ sport: 9000, dport: 22, flags: TCP_SYN }));
    const inner6 = ipv6({ src: '2001:db8:6::1', dst: '2001:db8:6::2', next: PROTO_TCP }, tcp({ sport: 9001, dport: 22, flags: TCP_SYN }));
    const vxlan = [0x08, 0, 0, 0, 0, 0, 0x2a, 0, ...ethernet(ETHERTYPE_IPV4, innerTcp)];
    const arp = [0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 0x0a, 10, 5, 0, 1, 0, 0, 0, 0, 0, 0, 10, 5, 0, 2];
    const frames: Bytes[] = [
      ethernet(ETHERTYPE_IPV4, probe),
      ethernet(ETHERTYPE_IPV4, ipv4({ src: b, dst: a, proto: PROTO_ICMP }, unreachable)),
      ethernet(ETHERTYPE_IPV6, probe6),
      ethernet(ETHERTYPE_IPV6, ipv6({ src: '2001:db8:5::2', dst: '2001:db8:5::1', next: PROTO_ICMPV6 }, unreachable6)),
      ethernet(ETHERTYPE_IPV4, ipv4({ src: a, dst: b, proto: PROTO_IPIP }, innerTcp)),
      ethernet(ETHERTYPE_IPV4, ipv4({ src: a, dst: b, proto: PROTO_IPV6 }, inner6)),
      ethernet(ETHERTYPE_IPV4, ipv4({ src: a, dst: b, proto: PROTO_UDP }, udp(51000, 4789, vxlan))),
      ethernet(ETHERTYPE_IPV4, ipv4({ src: b, dst: a, proto: PROTO_UDP }, udp(4789, 51000, vxlan))),
      ethernet(ETHERTYPE_ARP, arp),
    ];
    return text2pcap(timed(frames), join(dir, 'non-flows.pcapng'));
  },
};

const LINK_FIXTURES = LINK_CASES.map(linkFixture);

// IPv6 later fragments, keyed by the fragment header's (next header, identification); the
// fragment header may follow other extension headers.
const ipv6FragmentsFixture: Fixture = {
  name: 'IPv6 fragments',
  tuples: 2,
  fragments: { attributed: 3, unattributed: 1 },
  build: (dir) => {
    const a = '2001:db8:f::1';
    const b = '2001:db8:f::2';
    const fragments = (src: string, dst: string, body: Bytes, id: number, chunk: number, before: Ipv6Extension[] = []): Bytes[] => {
      const out: Bytes[] = [];
      for (let start = 0; start < body.length; start += chunk) {
        const more = start + chunk < body.length;
        const ext: Ipv6Extension[] = [...before, { type: EXT_FRAGMENT, offset: start / 8, more, id }];
        out.push(ipv6({ src, dst, next: PROTO_UDP, extensions: ext }, body.slice(start, start + chunk)));
      }
      return out;
    };
    const packets: Bytes[] = [
      ...fragments(a, b, udp(7100, 7200, payload(1500)), 0x11, 512, [{ type: EXT_HOP_BY_HOP }]),
      ...fragments(b, a, udp(7200, 7100, payload(600)), 0x22, 512),
      // An atomic fragment (offset 0, M=0) is a complete datagram of its own flow.
      ...fragments(a, b, udp(7101, 7201, payload(100)), 0x33, 512),
      // Whose first fragment was never captured.
      ipv6({ src: a, dst: b, next: PROTO_UDP, extensions: [{ type: EXT_FRAGMENT, offset: 64, more: false, id: 0x44 }] }, payload(80)),
    ];
    return text2pcap(timed(packets.map((p) => ethernet(ETHERTYPE_IPV6, p))), join(dir, 'ipv6-fragments.pcapng'));
  },
};

// Later fragments are attributed only within 30 s of their first fragment (cumma's
// FragmentIndex; Linux drops unfinished reassembly after 30 s too).
const fragmentAgeFixture: Fixture = {
  name: 'IPv4 fragments 29 s and 31 s after their first fragment',
  tuples: 2,
  fragments: { attributed: 1, unattributed: 1 },
  build: (dir) => {
    const src = '10.8.0.1';
    const dst = '10.8.0.2';
    const [recentFirst, recentLater] = ipv4Fragments({ src, dst, proto: PROTO_UDP, id: 1 }, udp(8001, 8002, payload(300)), 160);
    const [staleFirst, staleLater] = ipv4Fragments({ src, dst, proto: PROTO_UDP, id: 2 }, udp(8003, 8004, payload(300)), 160);
    const frames: TimedPacket[] = [
      { time: timeAt(BASE_SECONDS, 0), bytes: recentFirst! },
      { time: timeAt(BASE_SECONDS, 1_000), bytes: staleFirst! },
      { time: timeAt(BASE_SECONDS, 29_000_000_000), bytes: recentLater! },
      { time: timeAt(BASE_SECONDS, 31_000_002_000), bytes: staleLater! },
    ].map((p) => ({ ...p, bytes: ethernet(ETHERTYPE_IPV4, p.bytes) }));
    return text2pcap(frames, join(dir, 'fragment-age.pcapng'));
  },
};

// Captures taken on the sending host with TCP segmentation offload show IPv4 total length 0:
// both tools then take the length from the frame.
const tsoFixture: Fixture = {
  name: 'IPv4 total length 0 (segmentation offload)',
  tuples: 1,
  build: (dir) => {
    const segment = (data: number): Bytes =>
      ipv4({ src: '10.4.0.1', dst: '10.4.0.2', proto: PROTO_TCP, totalLength: 0 }, tcp({ sport: 4000, dport: 443, flags: TCP_ACK }, payload(data)));
    return text2pcap(timed([segment(9000), segment(20000)].map((f) => ethernet(ETHERTYPE_IPV4, f))), join(dir, 'tso.pcapng'));
  },
};

// AH in IPv6 is an extension header (RFC 8200 §4) that cumma steps over; after IPv4 it is the
// transport protocol, so no flow.
const authenticationHeaderFixture: Fixture = {
  name: 'IPsec AH before UDP (IPv6: a flow, IPv4: none)',
  tuples: 1,
  build: (dir) => {
    const ah = (next: number): Bytes => [next, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, ...new Array<number>(12).fill(0)];
    const v6 = ipv6({ src: '2001:db8:a::1', dst: '2001:db8:a::2', next: PROTO_AH }, [...ah(PROTO_UDP), ...udp(500, 4500, payload(40))]);
    const v4 = ipv4({ src: '10.10.0.1', dst: '10.10.0.2', proto: PROTO_AH }, [...ah(PROTO_UDP), ...udp(500, 4500, payload(40))]);
    const frames = [ethernet(ETHERTYPE_IPV6, v6), ethernet(ETHERTYPE_IPV4, v4)];
    return text2pcap(timed(frames), join(dir, 'ah.pcapng'));
  },
};

// libpcap inserts the stripped 802.1Q tag into Linux cooked (SLL) headers: protocol 0x8100,
// then the tag, then the real EtherType (pcap-linux.c set_vlan_offset). Also the pre-802.1ad
// 0x9100 QinQ TPID on Ethernet.
const taggedLinkFixture: Fixture = {
  name: 'VLAN tag inside SLL, 0x9100 QinQ on Ethernet',
  tuples: 2,
  build: (dir) => {
    const sllVlan = (p: IpPacket): Bytes => sll(ETHERTYPE_VLAN, [...u16(100), ...u16(etherTypeOf(p)), ...p.bytes]);
    const sllFile = text2pcap(timed(udpExchange(4, '10.11.0.1', '10.11.0.2', 1100, 53).map(sllVlan)), join(dir, 'sll-vlan.pcapng'), { linkType: 113 });
    const oldQinq = (p: IpPacket): Bytes => ethernet(etherTypeOf(p), p.bytes, [[0x9100, 300], [ETHERTYPE_VLAN, 100]]);
    const ethFile = text2pcap(timed(udpExchange(6, '2001:db8:b::1', '2001:db8:b::2', 1100, 53).map(oldQinq)), join(dir, 'qinq-9100.pcapng'));
    return mergecap([sllFile, ethFile], join(dir, 'tagged-links.pcapng'));
  },
};

// A snapshot length cuts frames short: bytes still count the original length. At 38 bytes the
// IPv4 packets keep their ports only; the IPv6 ones lose even the IP header (no flow).
function snaplenFixture(snaplen: number, tuples: number): Fixture {
  return {
    name: `editcap -s ${snaplen} (snapshot length)`,
    tuples,
    build: (dir) => {
      const out = join(dir, `snaplen-${snaplen}.pcapng`);
      run('editcap', ['-s', String(snaplen), join(dir, ETHERNET_SOURCE), out]);
      return out;
    },
  };
}

// An IPv4 total length shorter than the header itself is malformed (Wireshark: "bogus IP
// length", no transport decoded). Only 0 means segmentation offload (tsoFixture).
const bogusLengthFixture: Fixture = {
  name: 'IPv4 total length shorter than its header (malformed)',
  tuples: 1,
  build: (dir) => {
    const good = ipv4({ src: '10.13.0.1', dst: '10.13.0.2', proto: PROTO_UDP }, udp(1300, 53, payload(20)));
    const bogus = ipv4({ src: '10.13.0.1', dst: '10.13.0.2', proto: PROTO_UDP, totalLength: 8 }, udp(1301, 53, payload(20)));
    return text2pcap(timed([good, bogus].map((f) => ethernet(ETHERTYPE_IPV4, f))), join(dir, 'bogus-length.pcapng'));
  },
};

// An interface whose link type cumma does not decode (PPP, 9) beside an Ethernet one: its
// packets are in no flow, the Ethernet ones still are.
const unsupportedLinkFixture: Fixture = {
  name: 'interface with an undecoded link type (PPP) beside Ethernet',
  tuples: 1,
  build: (dir) => {
    const ppp = (p: IpPacket): Bytes => [0xff, 0x03, ...u16(0x0021), ...p.bytes];
    const pppFile = text2pcap(timed(udpExchange(4, '10.14.0.1', '10.14.0.2', 1400, 53).map(ppp)), join(dir, 'ppp.pcapng'), { linkType: 9 });
    const ethFile = text2pcap(timed(udpExchange(4, '10.14.0.3', '10.14.0.4', 1401, 53).map(plainEthernet)), join(dir, 'beside-ppp.pcapng'));
    return mergecap([pppFile, ethFile], join(dir, 'ppp-and-ethernet.pcapng'));
  },
};

// Two pcapng sections in one file (as `cat a.pcapng b.pcapng` makes): each has its own
// interfaces, so interface 0 means something else in the second section.
const multiSectionFixture: Fixture = {
  name: 'pcapng with two sections (concatenated files)',
  tuples: 4 + 4,
  build: (dir) => {
    const out = join(dir, 'two-sections.pcapng');
    const parts = [join(dir, ETHERNET_SOURCE), join(dir, 'link-sll-113.pcapng')].map((f) => readFileSync(f));
    writeFileSync(out, Buffer.concat(parts));
    return out;
  },
};

// Time going backwards (mergecap -a concatenates without sorting) and a 400 s silence inside
// a UDP tuple (longer than cumma's idle timeout): flow records split, per-tuple sums do not.
const timeOrderFixture: Fixture = {
  name: 'non-monotonic time and idle gaps (mergecap -a)',
  tuples: 2,
  build: (dir) => {
    const late = udpExchange(4, '10.12.0.1', '10.12.0.2', 1200, 443).map(plainEthernet);
    const early = tcpSession(4, '10.12.0.1', '10.12.0.2', 1201, 443).map(plainEthernet);
    const gapped = [...timed(late), ...timed(late, 400e9)];
    const lateFile = text2pcap(gapped, join(dir, 'late.pcapng'));
    const earlyFile = text2pcap(timed(early, -60e9), join(dir, 'early.pcapng'));
    const out = join(dir, 'time-order.pcapng');
    run('mergecap', ['-a', '-w', out, lateFile, earlyFile]);
    return out;
  },
};

const ETHERNET_SOURCE = 'link-ethernet.pcapng';

/** The Ethernet link fixture rewritten by editcap into another file format. */
function conversionFixture(format: string, comments: string[] = []): Fixture {
  const label = comments.length > 0 ? `${format} with packet comments` : format;
  return {
    name: `editcap -F ${label}`,
    tuples: 4,
    build: (dir) => editcap(join(dir, ETHERNET_SOURCE), join(dir, `converted-${label.replace(/\W+/g, '-')}`), format, comments),
  };
}

// One pcapng with an interface per link type, packets interleaved by time.
const mergedFixture: Fixture = {
  name: 'mergecap -w: multi-interface pcapng with different link types',
  tuples: 2 + 4 + 4 + 4 + 2,
  build: (dir) =>
    mergecap(
      ['link-ipv4-228', 'link-sll-113', 'link-null-0-big-endian', 'link-ethernet', 'link-ipv6-229'].map((n) => join(dir, `${n}.pcapng`)),
      join(dir, 'merged.pcapng'),
    ),
};

export const FIXTURES: Fixture[] = [
  ...LINK_FIXTURES,
  dummyFixture('tcp', 4, 1),
  dummyFixture('udp', 4, 1),
  dummyFixture('tcp', 6, 1),
  dummyFixture('udp', 6, 1),
  dummyFixture('udp', 4, 101),
  dummyFixture('tcp', 6, 229),
  ipv4OptionsFixture,
  ipv6ExtensionsFixture,
  ipv4FragmentsFixture,
  flowRestartFixture,
  nonFlowFixture,
  ipv6FragmentsFixture,
  fragmentAgeFixture,
  tsoFixture,
  bogusLengthFixture,
  authenticationHeaderFixture,
  taggedLinkFixture,
  snaplenFixture(64, 4),
  snaplenFixture(38, 2),
  multiSectionFixture,
  timeOrderFixture,
  unsupportedLinkFixture,
  conversionFixture('pcap'),
  conversionFixture('pcapng'),
  conversionFixture('nsecpcap'),
  conversionFixture('pcapng', ['1:first packet comment', '3:a comment, with a comma']),
  mergedFixture,
];
