/**
 * Link-layer stripping: from a frame's link type and bytes to the offset of the network-layer
 * header and what it carries. Pure functions over the reader's buffer.
 */

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
/**
 * Raw IP under the platform-dependent DLT_RAW values that old files carry instead of
 * LINKTYPE_RAW (101). https://www.tcpdump.org/linktypes.html lists LINKTYPE_RAW = 101 and notes
 * that DLT_RAW is 12 on most platforms but 14 on OpenBSD and BSD/OS, which is why files should
 * hold 101. Wireshark's wiretap/pcap-common.c (pcap_to_wtap_map) reads 14 as raw IP everywhere
 * and 12 as raw IP except in its own OpenBSD build (LOOP there) and BSD/OS build (Cisco HDLC):
 * tshark on Linux, our reference, decodes both as raw IP, and so do we.
 */
export const LINKTYPE_DLT_RAW_12 = 12;
export const LINKTYPE_DLT_RAW_14 = 14;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;
const ETHERTYPE_PPPOE_SESSION = 0x8864;
const ETHERTYPE_MPLS = 0x8847;
const ETHERTYPE_MPLS_MULTICAST = 0x8848;
/** EtherType field values up to this are 802.3 lengths: an 802.2 LLC header follows. */
const MAX_8023_LENGTH = 1500;
const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;
/** Longer label stacks than this are malformed; real ones hold a handful of labels. */
const MAX_MPLS_LABELS = 16;

/** What the link layer says comes next. */
export const enum NetworkKind {
  Ipv4 = 4,
  Ipv6 = 6,
  /** Known link type, but the payload is not IP. */
  Other = 0,
  /** Header cut short. */
  Truncated = -1,
  /** Link type Cumma does not decode. */
  Unsupported = -2,
}

export const SUPPORTED_LINK_TYPES: ReadonlySet<number> = new Set([
  LINKTYPE_NULL,
  LINKTYPE_ETHERNET,
  LINKTYPE_DLT_RAW_12,
  LINKTYPE_DLT_RAW_14,
  LINKTYPE_RAW,
  LINKTYPE_LOOP,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL2,
]);

/** Names for the link types users are most likely to meet, for error messages. */
const LINK_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'BSD loopback (NULL)'],
  [1, 'Ethernet'],
  [9, 'PPP'],
  [50, 'PPP in HDLC framing'],
  [101, 'raw IP'],
  [105, 'IEEE 802.11'],
  [108, 'OpenBSD loopback (LOOP)'],
  [113, 'Linux cooked capture (SLL)'],
  [127, 'IEEE 802.11 with radiotap'],
  [147, 'user-defined (147)'],
  [192, 'IEEE 802.11 with PPI'],
  [195, 'IEEE 802.15.4'],
  [201, 'Bluetooth HCI H4 with phdr'],
  [228, 'raw IPv4'],
  [229, 'raw IPv6'],
  [252, 'Wireshark upper PDU'],
  [276, 'Linux cooked capture v2 (SLL2)'],
]);

export function linkTypeName(linkType: number): string {
  return LINK_TYPE_NAMES.get(linkType) ?? `link type ${linkType}`;
}

/**
 * What a frame that is not IP carried instead, for the report of packets not decoded
 * (undecoded-links.ts): the kind times 2^24 plus a value of up to 24 bits. 0 = not recorded.
 */
export const enum NotIpKind {
  /** An EtherType (or Linux cooked protocol type) other than IP and the encapsulations decoded. */
  EtherType = 1,
  /** A PPP protocol other than IPv4/IPv6 inside a PPPoE session. */
  PppProtocol = 2,
  /** The payload under an MPLS label stack is not IP (a pseudowire); value: its first nibble. */
  MplsPayload = 3,
  /** 802.2 LLC without SNAP (spanning tree, NetBIOS, IPX, …); value: the DSAP. */
  Llc = 4,
  /** 802.2 SNAP with an organisation code other than encapsulated EtherTypes; value: the OUI. */
  SnapOui = 5,
  /** BSD loopback (NULL/LOOP) address family other than IPv4/IPv6; value: the family. */
  AddressFamily = 6,
  /** Raw IP whose version nibble is neither 4 nor 6; value: the nibble. */
  IpVersion = 7,
}

export const NOT_IP_KIND_SHIFT = 0x1000000;
/** MplsPayload's value for a label stack given up on as too deep (a payload nibble is below it). */
export const MPLS_TOO_DEEP = 0x10;

/**
 * Result of stripping the link layer, returned through a reused object so that the per-packet
 * path allocates nothing.
 */
export class LinkLayerResult {
  kind: NetworkKind = NetworkKind.Truncated;
  /** Offset of the network header inside the buffer. */
  offset = 0;
  /** With kind Other: what the frame carried (NotIpKind × NOT_IP_KIND_SHIFT + value). */
  notIp = 0;
}

function notIp(out: LinkLayerResult, kind: NotIpKind, value: number): LinkLayerResult {
  out.kind = NetworkKind.Other;
  out.notIp = kind * NOT_IP_KIND_SHIFT + value;
  return out;
}

function fromEtherType(etherType: number, offset: number, out: LinkLayerResult): LinkLayerResult {
  out.offset = offset;
  if (etherType === ETHERTYPE_IPV4) out.kind = NetworkKind.Ipv4;
  else if (etherType === ETHERTYPE_IPV6) out.kind = NetworkKind.Ipv6;
  else notIp(out, NotIpKind.EtherType, etherType);
  return out;
}

/** Raw IP: the version nibble says which IP it is. */
function fromVersionNibble(bytes: Uint8Array, offset: number, end: number, out: LinkLayerResult): LinkLayerResult {
  out.offset = offset;
  if (offset >= end) {
    out.kind = NetworkKind.Truncated;
    return out;
  }
  const version = bytes[offset]! >> 4;
  if (version === 4) out.kind = NetworkKind.Ipv4;
  else if (version === 6) out.kind = NetworkKind.Ipv6;
  else notIp(out, NotIpKind.IpVersion, version);
  return out;
}

/** BSD address families for IPv6 differ between systems (Linux/NetBSD 24, FreeBSD 28, macOS 30). */
function fromAddressFamily(family: number, offset: number, out: LinkLayerResult): LinkLayerResult {
  out.offset = offset;
  if (family === 2) out.kind = NetworkKind.Ipv4;
  else if (family === 24 || family === 28 || family === 30) out.kind = NetworkKind.Ipv6;
  else notIp(out, NotIpKind.AddressFamily, family & 0xffffff);
  return out;
}

function truncated(out: LinkLayerResult): LinkLayerResult {
  out.kind = NetworkKind.Truncated;
  return out;
}

/**
 * Reads the EtherType at typeOffset, stepping over 802.1Q/802.1ad tags: each adds 4 bytes
 * before the real EtherType. Linux cooked captures put re-inserted VLAN tags there too.
 */
function fromTaggedEtherType(bytes: Uint8Array, typeOffset: number, end: number, out: LinkLayerResult): LinkLayerResult {
  if (typeOffset + 2 > end) return truncated(out);
  let etherType = (bytes[typeOffset]! << 8) | bytes[typeOffset + 1]!;
  while (etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ || etherType === ETHERTYPE_QINQ_OLD) {
    typeOffset += 4;
    if (typeOffset + 2 > end) return truncated(out);
    etherType = (bytes[typeOffset]! << 8) | bytes[typeOffset + 1]!;
  }
  // IP first, inline: everything else is rare and handled out of the hot path.
  out.offset = typeOffset + 2;
  if (etherType === ETHERTYPE_IPV4) {
    out.kind = NetworkKind.Ipv4;
    return out;
  }
  if (etherType === ETHERTYPE_IPV6) {
    out.kind = NetworkKind.Ipv6;
    return out;
  }
  return fromEncapsulation(bytes, etherType, typeOffset + 2, end, out);
}

/**
 * The encapsulations between Ethernet and IP that Wireshark decodes on its own and that carry
 * whole IP packets: a PPPoE session, an MPLS label stack, 802.3 length frames with 802.2
 * LLC/SNAP. `offset` is where the EtherType's payload starts.
 */
function fromEncapsulation(bytes: Uint8Array, etherType: number, offset: number, end: number, out: LinkLayerResult): LinkLayerResult {
  if (etherType <= MAX_8023_LENGTH) {
    // 802.3: the field was a length, an LLC header follows (SLL's protocol 4, ETH_P_802_2, too).
    // SNAP (AA AA 03) with OUI 00-00-00 (RFC 1042) or 00-00-F8 (802.1H) carries an EtherType.
    if (offset + 3 > end) return truncated(out);
    if (bytes[offset] !== 0xaa || bytes[offset + 1] !== 0xaa || bytes[offset + 2] !== 0x03) {
      out.offset = offset;
      return notIp(out, NotIpKind.Llc, bytes[offset]!);
    }
    if (offset + 8 > end) return truncated(out);
    const oui = (bytes[offset + 3]! << 16) | (bytes[offset + 4]! << 8) | bytes[offset + 5]!;
    out.offset = offset + 8;
    if (oui !== 0x000000 && oui !== 0x0000f8) return notIp(out, NotIpKind.SnapOui, oui);
    const inner = (bytes[offset + 6]! << 8) | bytes[offset + 7]!;
    // No LLC inside LLC: a length here is malformed, and refusing it bounds the recursion.
    if (inner <= MAX_8023_LENGTH) return notIp(out, NotIpKind.EtherType, inner);
    return fromTaggedEtherType(bytes, offset + 6, end, out);
  }
  if (etherType === ETHERTYPE_PPPOE_SESSION) {
    // RFC 2516: version/type, code, session id, length (6 bytes), then the 2-byte PPP protocol.
    if (offset + 8 > end) return truncated(out);
    const protocol = (bytes[offset + 6]! << 8) | bytes[offset + 7]!;
    out.offset = offset + 8;
    if (protocol === PPP_IPV4) out.kind = NetworkKind.Ipv4;
    else if (protocol === PPP_IPV6) out.kind = NetworkKind.Ipv6;
    else notIp(out, NotIpKind.PppProtocol, protocol);
    return out;
  }
  if (etherType === ETHERTYPE_MPLS || etherType === ETHERTYPE_MPLS_MULTICAST) {
    // RFC 3032: 4-byte label stack entries until the bottom-of-stack bit; the payload's type is
    // not signalled, so, as Wireshark does, the first nibble tells IPv4 (4) from IPv6 (6).
    let at = offset;
    for (let labels = 0; ; labels++) {
      if (at + 4 > end) return truncated(out);
      const bottom = (bytes[at + 2]! & 0x01) !== 0;
      at += 4;
      if (bottom) break;
      if (labels + 1 >= MAX_MPLS_LABELS) {
        out.offset = at;
        return notIp(out, NotIpKind.MplsPayload, MPLS_TOO_DEEP);
      }
    }
    if (at >= end) return truncated(out);
    const nibble = bytes[at]! >> 4;
    out.offset = at;
    if (nibble === 4) out.kind = NetworkKind.Ipv4;
    else if (nibble === 6) out.kind = NetworkKind.Ipv6;
    else notIp(out, NotIpKind.MplsPayload, nibble);
    return out;
  }
  return fromEtherType(etherType, offset, out);
}

/**
 * Finds the network header of a frame occupying bytes[start, end).
 */
export function stripLinkLayer(
  linkType: number,
  bytes: Uint8Array,
  start: number,
  end: number,
  out: LinkLayerResult,
): LinkLayerResult {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return fromTaggedEtherType(bytes, start + 12, end, out);
    case LINKTYPE_LINUX_SLL:
      // 16-byte header; protocol type (an EtherType) in its last two bytes, tags after it.
      if (start + 16 > end) return truncated(out);
      return fromTaggedEtherType(bytes, start + 14, end, out);
    case LINKTYPE_LINUX_SLL2: {
      // 20-byte header with the protocol type first; VLAN tags, if any, follow the header.
      if (start + 20 > end) return truncated(out);
      const protocol = (bytes[start]! << 8) | bytes[start + 1]!;
      if (protocol === ETHERTYPE_IPV4 || protocol === ETHERTYPE_IPV6) return fromEtherType(protocol, start + 20, out);
      if (protocol !== ETHERTYPE_VLAN && protocol !== ETHERTYPE_QINQ && protocol !== ETHERTYPE_QINQ_OLD) {
        return fromEncapsulation(bytes, protocol, start + 20, end, out);
      }
      // The tag's TCI sits at the header's end; the encapsulated type follows it.
      return fromTaggedEtherType(bytes, start + 20 + 2, end, out);
    }
    case LINKTYPE_RAW:
    case LINKTYPE_DLT_RAW_12:
    case LINKTYPE_DLT_RAW_14:
      return fromVersionNibble(bytes, start, end, out);
    case LINKTYPE_IPV4:
      out.offset = start;
      out.kind = NetworkKind.Ipv4;
      return out;
    case LINKTYPE_IPV6:
      out.offset = start;
      out.kind = NetworkKind.Ipv6;
      return out;
    case LINKTYPE_NULL: {
      // The family is in the byte order of the machine that captured, which the file does not
      // record; families are small numbers, so a non-zero first byte means little-endian.
      if (start + 4 > end) return truncated(out);
      const littleEndian = bytes[start] !== 0;
      const family = littleEndian
        ? bytes[start]! | (bytes[start + 1]! << 8)
        : (bytes[start + 2]! << 8) | bytes[start + 3]!;
      return fromAddressFamily(family, start + 4, out);
    }
    case LINKTYPE_LOOP: {
      // Like NULL, but the family is always in network byte order.
      if (start + 4 > end) return truncated(out);
      return fromAddressFamily(((bytes[start + 2]! << 8) | bytes[start + 3]!) >>> 0, start + 4, out);
    }
    default:
      out.kind = NetworkKind.Unsupported;
      out.offset = start;
      return out;
  }
}
