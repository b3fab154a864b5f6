/**
 * IPv4, IPv6 (with extension headers), TCP and UDP header decoding straight from the reader's
 * buffer into the reused Packet. Only header fields are read; payload bytes are never touched.
 */
import { DecodeStatus, Packet, Transport } from './packet';

const IPPROTO_HOPOPTS = 0;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ROUTING = 43;
const IPPROTO_FRAGMENT = 44;
const IPPROTO_AH = 51;
const IPPROTO_DSTOPTS = 60;
const IPPROTO_MOBILITY = 135;
const IPPROTO_HIP = 139;
const IPPROTO_SHIM6 = 140;

/** Longer chains than this are malformed or hostile; stop rather than loop. */
const MAX_IPV6_EXTENSION_HEADERS = 16;

/**
 * Big-endian 32 bits as a signed integer: callers store it into a Uint32Array, which restores
 * the unsigned value, and a signed result is never boxed the way an unsigned one above 2^31
 * is when returned from a call.
 */
function readI32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
}

function readU16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

/**
 * Reads the TCP or UDP header at `offset`. `transportLength` is the transport segment's length
 * according to the IP header, used for the payload length so that a snapshot length that cut
 * the payload does not change it.
 */
function decodeTransport(
  bytes: Uint8Array,
  offset: number,
  end: number,
  protocol: number,
  transportLength: number,
  packet: Packet,
): void {
  if (protocol === IPPROTO_TCP) {
    // Ports are the first 4 bytes; a snapshot length can cut the header after them, and the
    // packet still belongs to its connection (flags then read as 0).
    if (offset + 4 > end) {
      packet.status = DecodeStatus.Truncated;
      return;
    }
    const hasFlags = offset + 14 <= end;
    const headerLength = hasFlags ? (bytes[offset + 12]! >> 4) * 4 : 20;
    packet.transport = Transport.Tcp;
    packet.srcPort = readU16(bytes, offset);
    packet.dstPort = readU16(bytes, offset + 2);
    packet.tcpFlags = hasFlags ? bytes[offset + 13]! | ((bytes[offset + 12]! & 0x01) << 8) : 0;
    packet.payloadLength = Math.max(0, transportLength - Math.max(headerLength, 20));
    packet.status = DecodeStatus.Transport;
    return;
  }
  if (protocol === IPPROTO_UDP) {
    if (offset + 4 > end) {
      packet.status = DecodeStatus.Truncated;
      return;
    }
    packet.transport = Transport.Udp;
    packet.srcPort = readU16(bytes, offset);
    packet.dstPort = readU16(bytes, offset + 2);
    packet.payloadLength = Math.max(0, transportLength - 8);
    packet.status = DecodeStatus.Transport;
    return;
  }
  packet.status = DecodeStatus.OtherIp;
}

export function decodeIpv4(bytes: Uint8Array, offset: number, end: number, packet: Packet): void {
  if (offset + 20 > end || bytes[offset]! >> 4 !== 4) {
    packet.status = DecodeStatus.Truncated;
    return;
  }
  const headerLength = (bytes[offset]! & 0x0f) * 4;
  if (headerLength < 20 || offset + headerLength > end) {
    packet.status = DecodeStatus.Truncated;
    return;
  }
  packet.ipVersion = 4;
  const totalLength = readU16(bytes, offset + 2);
  const flagsAndOffset = readU16(bytes, offset + 6);
  packet.fragmentId = readU16(bytes, offset + 4);
  packet.moreFragments = (flagsAndOffset & 0x2000) !== 0;
  packet.fragmentOffset = (flagsAndOffset & 0x1fff) * 8;
  packet.ipProtocol = bytes[offset + 9]!;
  packet.srcAddress[0] = readI32(bytes, offset + 12);
  packet.dstAddress[0] = readI32(bytes, offset + 16);
  packet.srcAddress[1] = packet.srcAddress[2] = packet.srcAddress[3] = 0;
  packet.dstAddress[1] = packet.dstAddress[2] = packet.dstAddress[3] = 0;
  if (packet.fragmentOffset !== 0) {
    // Only the first fragment carries the transport header.
    packet.status = DecodeStatus.Fragment;
    return;
  }
  // A total length of 0 happens with TCP segmentation offload captures: trust the frame then.
  // Any other length shorter than the header is malformed, and Wireshark stops there too.
  if (totalLength !== 0 && totalLength < headerLength) {
    packet.status = DecodeStatus.Truncated;
    return;
  }
  const transportLength = (totalLength !== 0 ? totalLength : end - offset) - headerLength;
  decodeTransport(bytes, offset + headerLength, end, packet.ipProtocol, transportLength, packet);
}

export function decodeIpv6(bytes: Uint8Array, offset: number, end: number, packet: Packet): void {
  if (offset + 40 > end || bytes[offset]! >> 4 !== 6) {
    packet.status = DecodeStatus.Truncated;
    return;
  }
  packet.ipVersion = 6;
  for (let word = 0; word < 4; word++) {
    packet.srcAddress[word] = readI32(bytes, offset + 8 + word * 4);
    packet.dstAddress[word] = readI32(bytes, offset + 24 + word * 4);
  }
  // Payload length 0 means a jumbogram or offloaded segment: fall back to the frame.
  const payloadLength = readU16(bytes, offset + 4);
  let remaining = payloadLength !== 0 ? payloadLength : end - offset - 40;
  let nextHeader = bytes[offset + 6]!;
  let cursor = offset + 40;
  for (let hops = 0; hops < MAX_IPV6_EXTENSION_HEADERS; hops++) {
    switch (nextHeader) {
      case IPPROTO_HOPOPTS:
      case IPPROTO_ROUTING:
      case IPPROTO_DSTOPTS:
      case IPPROTO_MOBILITY:
      case IPPROTO_HIP:
      case IPPROTO_SHIM6: {
        if (cursor + 2 > end) {
          packet.status = DecodeStatus.Truncated;
          return;
        }
        const length = (bytes[cursor + 1]! + 1) * 8;
        nextHeader = bytes[cursor]!;
        cursor += length;
        remaining -= length;
        break;
      }
      case IPPROTO_AH: {
        if (cursor + 2 > end) {
          packet.status = DecodeStatus.Truncated;
          return;
        }
        const length = (bytes[cursor + 1]! + 2) * 4;
        nextHeader = bytes[cursor]!;
        cursor += length;
        remaining -= length;
        break;
      }
      case IPPROTO_FRAGMENT: {
        if (cursor + 8 > end) {
          packet.status = DecodeStatus.Truncated;
          return;
        }
        nextHeader = bytes[cursor]!;
        const offsetAndFlags = readU16(bytes, cursor + 2);
        packet.fragmentOffset = offsetAndFlags & 0xfff8;
        packet.moreFragments = (offsetAndFlags & 0x1) !== 0;
        packet.fragmentId = readI32(bytes, cursor + 4) >>> 0;
        cursor += 8;
        remaining -= 8;
        if (packet.fragmentOffset !== 0) {
          // The header the fragmentable part starts with, which is the upper-layer protocol only
          // when no extension header (AH, destination options) comes after the Fragment header;
          // the first fragment, decoded to its end, has the real one. So fragment-index.ts keys
          // IPv6 datagrams without it, as RFC 8200 reassembly does.
          packet.ipProtocol = nextHeader;
          packet.status = DecodeStatus.Fragment;
          return;
        }
        break;
      }
      default:
        packet.ipProtocol = nextHeader;
        decodeTransport(bytes, cursor, end, nextHeader, remaining, packet);
        return;
    }
  }
  packet.status = DecodeStatus.Truncated;
}
