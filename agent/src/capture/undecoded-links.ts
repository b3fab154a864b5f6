/**
 * Counts the packets Cumma could not look into, so that every command that reads a capture says
 * so once per kind instead of leaving the user to wonder why a capture of Wi-Fi (802.11) or USB
 * frames, or of traffic inside a tunnel, gave no flows or dialogs:
 * - link types Cumma does not decode;
 * - frames whose link layer carries something other than IP that might hide traffic: an
 *   unknown EtherType, a PPP data protocol inside PPPoE, an MPLS pseudowire, …;
 * - IP tunnels, which are not followed inside: IPv4/IPv6 in IP (4, 41), GRE (47), EtherIP (97),
 *   L2TPv3 (115), MPLS in IP (137). (UDP tunnels such as VXLAN or GTP-U need no report: they
 *   are counted as their outer UDP flow.)
 * Link control that never carries traffic (ARP, LLDP, 802.1X, PPPoE discovery, spanning tree
 * and other LLC, PPP control protocols, …) is only counted in --stats, as ICMP and other IP
 * protocols are: reporting it would put a line on stderr for nearly every real capture.
 */
import { notIpDetail } from './frame-decoder';
import { MPLS_TOO_DEEP, NOT_IP_KIND_SHIFT, NotIpKind, linkTypeName } from './link-layer';
import { DecodeStatus, Packet } from './packet';

/**
 * Report keys are kind × NOT_IP_KIND_SHIFT + value, as link-layer.ts encodes not-IP frames:
 * NotIpKind's kinds (1–7), then these two for IP tunnels (value: the protocol) and unsupported
 * link types (value: the link type).
 */
const IP_PROTOCOL_KIND = 16;
const LINK_TYPE_KIND = 32;

/** IP protocols that carry other packets, which Cumma does not decode. */
const TUNNEL_PROTOCOLS: ReadonlyMap<number, string> = new Map([
  [4, 'IPv4 in IP'],
  [41, 'IPv6 in IP, 6in4'],
  [47, 'GRE'],
  [97, 'EtherIP'],
  [115, 'L2TPv3'],
  [137, 'MPLS in IP'],
]);

/** EtherTypes of link control, which carry no user traffic: counted, never reported. */
const QUIET_ETHERTYPES: ReadonlySet<number> = new Set([
  0x0806, // ARP
  0x0842, // Wake-on-LAN
  0x8035, // RARP
  0x8808, // Ethernet flow control (MAC control)
  0x8809, // slow protocols (LACP, marker, OAM)
  0x8863, // PPPoE discovery
  0x888e, // 802.1X (EAPOL)
  0x8899, // Realtek switch protocols (RRCP, loop detection): seen in the real captures
  0x88c7, // 802.11i pre-authentication
  0x88cc, // LLDP
  0x88f7, // PTP
  0x8902, // 802.1ag connectivity fault management
  0x893a, // IEEE 1905.1
  0x9000, // configuration test (loopback)
]);

/** Names of the EtherTypes a user may meet among those reported. */
const ETHERTYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x6558, 'transparent Ethernet bridging'],
  [0x809b, 'AppleTalk'],
  [0x8137, 'IPX'],
  [0x88e5, 'MACsec'],
  [0x88e7, '802.1ah provider backbone bridging'],
  [0x8906, 'FCoE'],
  [0x894f, 'NSH'],
]);

const CISCO_OUI = 0x00000c;

function hex(value: number, digits: number): string {
  return `0x${value.toString(16).padStart(digits, '0')}`;
}

/** The report key of a not-IP frame, or -1 when it is link control that needs no report. */
function notIpKey(detail: number): number {
  const kind = Math.floor(detail / NOT_IP_KIND_SHIFT);
  const value = detail % NOT_IP_KIND_SHIFT;
  switch (kind) {
    case NotIpKind.EtherType:
      return QUIET_ETHERTYPES.has(value) ? -1 : detail;
    case NotIpKind.PppProtocol:
      // RFC 1661: 0x8000–0xffff are network and link control protocols (IPCP, LCP, PAP, …).
      return value >= 0x8000 ? -1 : detail;
    case NotIpKind.Llc:
      return -1;
    case NotIpKind.SnapOui:
      // Cisco's SNAP frames are CDP, VTP, DTP, PVST: link control.
      return value === CISCO_OUI ? -1 : detail;
    case NotIpKind.MplsPayload:
    case NotIpKind.AddressFamily:
    case NotIpKind.IpVersion:
      return detail;
    default:
      return -1; // not recorded (see notIpDetail)
  }
}

/** What the packets of one report key carried (after "N packets with") and why they were not decoded. */
function describe(key: number): readonly [what: string, why: string] {
  const kind = Math.floor(key / NOT_IP_KIND_SHIFT);
  const value = key % NOT_IP_KIND_SHIFT;
  if (kind >= LINK_TYPE_KIND) {
    const linkType = key - LINK_TYPE_KIND * NOT_IP_KIND_SHIFT;
    return [`${linkTypeName(linkType)} framing`, `unsupported link type ${linkType}`];
  }
  switch (kind) {
    case IP_PROTOCOL_KIND:
      return [`${TUNNEL_PROTOCOLS.get(value) ?? 'a tunnel'} (IP protocol ${value})`, 'IP tunnels are not followed inside'];
    case NotIpKind.EtherType: {
      const name = ETHERTYPE_NAMES.get(value);
      return [`EtherType ${hex(value, 4)}${name === undefined ? '' : ` (${name})`}`, 'not IP'];
    }
    case NotIpKind.PppProtocol:
      return [`PPP protocol ${hex(value, 4)} in a PPPoE session`, 'not IP'];
    case NotIpKind.MplsPayload:
      return value === MPLS_TOO_DEEP
        ? [`an MPLS label stack of more than 16 labels`, 'malformed']
        : ['a payload under MPLS that is not IP', 'a pseudowire, such as Ethernet over MPLS, is not followed inside'];
    case NotIpKind.SnapOui:
      return [`802.2 SNAP of organisation ${hex(value, 6)}`, 'not IP'];
    case NotIpKind.AddressFamily:
      return [`loopback address family ${value}`, 'not IP'];
    default:
      return [`raw IP framing but IP version ${value}`, 'neither 4 nor 6'];
  }
}

export class UndecodedLinks {
  private readonly packetsByKind = new Map<number, number>();

  /** Call for every packet read; cheap for the common, decoded case. */
  note(packet: Packet): void {
    // Kept this small so that it inlines into the per-packet callbacks; the rest is rare.
    if (packet.status !== DecodeStatus.Transport) this.noteUndecoded(packet);
  }

  private noteUndecoded(packet: Packet): void {
    const status = packet.status;
    let key: number;
    if (status === DecodeStatus.UnsupportedLink) {
      key = LINK_TYPE_KIND * NOT_IP_KIND_SHIFT + packet.linkType;
    } else if (status === DecodeStatus.NotIp) {
      key = notIpKey(notIpDetail(packet));
    } else if (status === DecodeStatus.OtherIp && TUNNEL_PROTOCOLS.has(packet.ipProtocol)) {
      key = IP_PROTOCOL_KIND * NOT_IP_KIND_SHIFT + packet.ipProtocol;
    } else {
      return;
    }
    if (key < 0) return;
    this.packetsByKind.set(key, (this.packetsByKind.get(key) ?? 0) + 1);
  }

  get packets(): number {
    let total = 0;
    for (const count of this.packetsByKind.values()) total += count;
    return total;
  }

  /** One line per kind seen, naming the file: what stderr gets. */
  messages(file: string): string[] {
    return [...this.packetsByKind].map(
      ([key, packets]) => {
        const [what, why] = describe(key);
        return `${file}: ${packets} ${packets === 1 ? 'packet' : 'packets'} with ${what} ${packets === 1 ? 'was' : 'were'} not decoded (${why})`;
      },
    );
  }
}
