/**
 * Link-layer stripping: from a frame's link type and bytes to the offset of the network-layer
 * header and what it carries. Pure functions over the reader's buffer.
 */

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
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
 * Result of stripping the link layer, returned through a reused object so that the per-packet
 * path allocates nothing.
 */
export class LinkLayerResult {
  kind: NetworkKind = NetworkKind.Truncated;
  /** Offset of the network header inside the buffer. */
  offset = 0;
}

function fromEtherType(etherType: number, offset: number, out: LinkLayerResult): LinkLayerResult {
  out.offset = offset;
  out.kind =
    etherType === ETHERTYPE_IPV4 ? NetworkKind.Ipv4 : etherType === ETHERTYPE_IPV6 ? NetworkKind.Ipv6 : NetworkKind.Other;
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
  out.kind = version === 4 ? NetworkKind.Ipv4 : version === 6 ? NetworkKind.Ipv6 : NetworkKind.Other;
  return out;
}

/** BSD address families for IPv6 differ between systems (Linux/NetBSD 24, FreeBSD 28, macOS 30). */
function fromAddressFamily(family: number, offset: number, out: LinkLayerResult): LinkLayerResult {
  out.offset = offset;
  out.kind =
    family === 2 ? NetworkKind.Ipv4 : family === 24 || family === 28 || family === 30 ? NetworkKind.Ipv6 : NetworkKind.Other;
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
  return fromEtherType(etherType, typeOffset + 2, out);
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
      if (protocol !== ETHERTYPE_VLAN && protocol !== ETHERTYPE_QINQ && protocol !== ETHERTYPE_QINQ_OLD) {
        return fromEtherType(protocol, start + 20, out);
      }
      // The tag's TCI sits at the header's end; the encapsulated type follows it.
      return fromTaggedEtherType(bytes, start + 20 + 2, end, out);
    }
    case LINKTYPE_RAW:
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
