/**
 * Builds Ethernet II frames carrying IPv4/IPv6 and TCP/UDP into a caller's buffer, with correct
 * IPv4 header, TCP and UDP checksums (so Wireshark shows no checksum warnings when validation is
 * switched on). Used to write synthetic captures; payload bytes are whatever the caller put at
 * the payload offset: zero or pseudo-random filler, never real traffic.
 *
 * Usage per frame, without allocating:
 *   const at = tcpPayloadOffset(spec);  // fill out[at .. at + spec.payloadLength) first
 *   const length = writeTcpFrame(out, spec);
 */
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from './link-layer';

const ETHERNET_HEADER = 14;
const IPV4_HEADER = 20;
const IPV6_HEADER = 40;
const TCP_HEADER = 20;
const UDP_HEADER = 8;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

/** Addresses and IP fields shared by TCP and UDP frames. Mutable so one object serves a flow. */
export interface FrameSpec {
  srcMac: Uint8Array;
  dstMac: Uint8Array;
  /** 4 bytes (IPv4) or 16 bytes (IPv6); both addresses of one family. */
  srcIp: Uint8Array;
  dstIp: Uint8Array;
  srcPort: number;
  dstPort: number;
  /** IPv4 TTL or IPv6 hop limit. */
  ttl: number;
  /** IPv4 identification; ignored for IPv6. */
  ipId: number;
  /** IPv4 DS field / IPv6 traffic class (DSCP << 2 | ECN). */
  trafficClass: number;
  /** IPv6 flow label (20 bits); ignored for IPv4. */
  flowLabel: number;
  payloadLength: number;
}

export interface TcpFrameSpec extends FrameSpec {
  seq: number;
  ack: number;
  /** TCP_* flag bits (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10). */
  flags: number;
  /** Raw 16-bit window field (before window scaling). */
  window: number;
  /** TCP options, already padded to a multiple of 4 bytes (at most 40); empty for none. */
  options: Uint8Array;
}

function ipHeaderLength(spec: FrameSpec): number {
  if (spec.srcIp.length === 4 && spec.dstIp.length === 4) return IPV4_HEADER;
  if (spec.srcIp.length === 16 && spec.dstIp.length === 16) return IPV6_HEADER;
  throw new RangeError(
    `source and destination addresses must both be 4 (IPv4) or 16 (IPv6) bytes, got ${spec.srcIp.length} and ${spec.dstIp.length}`,
  );
}

/** Where the TCP payload starts in the frame. */
export function tcpPayloadOffset(spec: TcpFrameSpec): number {
  return ETHERNET_HEADER + ipHeaderLength(spec) + TCP_HEADER + spec.options.length;
}

/** Where the UDP payload starts in the frame. */
export function udpPayloadOffset(spec: FrameSpec): number {
  return ETHERNET_HEADER + ipHeaderLength(spec) + UDP_HEADER;
}

/**
 * Writes the headers of a TCP frame at the start of `out` around the payload already placed at
 * `tcpPayloadOffset(spec)`; returns the frame length.
 */
export function writeTcpFrame(out: Uint8Array, spec: TcpFrameSpec): number {
  const optionsLength = spec.options.length;
  if (optionsLength % 4 !== 0 || optionsLength > 40) {
    throw new RangeError(`TCP options must be a multiple of 4 bytes, at most 40; got ${optionsLength}`);
  }
  const tcpLength = TCP_HEADER + optionsLength + spec.payloadLength;
  const l4 = writeIpHeaders(out, spec, IPPROTO_TCP, tcpLength);
  putU16(out, l4, spec.srcPort);
  putU16(out, l4 + 2, spec.dstPort);
  putU32(out, l4 + 4, spec.seq);
  putU32(out, l4 + 8, spec.ack);
  out[l4 + 12] = ((TCP_HEADER + optionsLength) / 4) << 4;
  out[l4 + 13] = spec.flags & 0xff;
  putU16(out, l4 + 14, spec.window);
  putU16(out, l4 + 16, 0); // checksum, filled below
  putU16(out, l4 + 18, 0); // urgent pointer
  out.set(spec.options, l4 + TCP_HEADER);
  putU16(out, l4 + 16, transportChecksum(out, spec, IPPROTO_TCP, l4, tcpLength));
  return l4 + tcpLength;
}

/**
 * Writes the headers of a UDP frame at the start of `out` around the payload already placed at
 * `udpPayloadOffset(spec)`; returns the frame length.
 */
export function writeUdpFrame(out: Uint8Array, spec: FrameSpec): number {
  const udpLength = UDP_HEADER + spec.payloadLength;
  const l4 = writeIpHeaders(out, spec, IPPROTO_UDP, udpLength);
  putU16(out, l4, spec.srcPort);
  putU16(out, l4 + 2, spec.dstPort);
  putU16(out, l4 + 4, udpLength);
  putU16(out, l4 + 6, 0);
  // A computed 0 is sent as 0xffff: 0 means "no checksum" (and is invalid over IPv6).
  putU16(out, l4 + 6, transportChecksum(out, spec, IPPROTO_UDP, l4, udpLength) || 0xffff);
  return l4 + udpLength;
}

/** Ethernet + IP headers; returns the offset of the transport header. */
function writeIpHeaders(out: Uint8Array, spec: FrameSpec, protocol: number, transportLength: number): number {
  const ipLength = ipHeaderLength(spec);
  // IPv4 total length and IPv6 payload length are both 16-bit fields.
  const lengthField = transportLength + (ipLength === IPV4_HEADER ? IPV4_HEADER : 0);
  if (!Number.isInteger(spec.payloadLength) || spec.payloadLength < 0 || lengthField > 65535) {
    throw new RangeError(`payload length ${spec.payloadLength} does not fit one IP packet`);
  }
  if (ETHERNET_HEADER + ipLength + transportLength > out.length) {
    throw new RangeError(`frame of ${ETHERNET_HEADER + ipLength + transportLength} bytes does not fit the ${out.length}-byte buffer`);
  }
  out.set(spec.dstMac, 0);
  out.set(spec.srcMac, 6);
  const ip = ETHERNET_HEADER;
  if (ipLength === IPV4_HEADER) {
    putU16(out, 12, ETHERTYPE_IPV4);
    out[ip] = 0x45; // version 4, 5 words
    out[ip + 1] = spec.trafficClass & 0xff;
    putU16(out, ip + 2, IPV4_HEADER + transportLength);
    putU16(out, ip + 4, spec.ipId & 0xffff);
    putU16(out, ip + 6, 0x4000); // don't fragment, as Linux sets on TCP and most UDP
    out[ip + 8] = spec.ttl & 0xff;
    out[ip + 9] = protocol;
    putU16(out, ip + 10, 0);
    out.set(spec.srcIp, ip + 12);
    out.set(spec.dstIp, ip + 16);
    putU16(out, ip + 10, finishChecksum(sumWords(out, ip, ip + IPV4_HEADER, 0)));
  } else {
    putU16(out, 12, ETHERTYPE_IPV6);
    putU32(out, ip, ((6 << 28) | ((spec.trafficClass & 0xff) << 20) | (spec.flowLabel & 0xfffff)) >>> 0);
    putU16(out, ip + 4, transportLength);
    out[ip + 6] = protocol;
    out[ip + 7] = spec.ttl & 0xff;
    out.set(spec.srcIp, ip + 8);
    out.set(spec.dstIp, ip + 24);
  }
  return ip + ipLength;
}

/** TCP/UDP checksum: pseudo-header (addresses, protocol, length) + transport header + payload. */
function transportChecksum(out: Uint8Array, spec: FrameSpec, protocol: number, l4: number, length: number): number {
  let sum = sumWords(spec.srcIp, 0, spec.srcIp.length, 0);
  sum = sumWords(spec.dstIp, 0, spec.dstIp.length, sum);
  sum += protocol + (length >>> 16) + (length & 0xffff);
  return finishChecksum(sumWords(out, l4, l4 + length, sum));
}

/**
 * Adds the big-endian 16-bit words of bytes[start, end) to `sum` (an odd last byte is padded
 * with zero, per RFC 1071). Folds as it goes so the sum stays a small integer.
 */
export function sumWords(bytes: Uint8Array, start: number, end: number, sum: number): number {
  let i = start;
  // Four bytes per step halves the loop overhead; the partial sum stays below 2^31 because it
  // is folded every 4 KiB (1024 steps × 2 × 0xffff < 2^28).
  const stop4 = start + ((end - start) & ~3);
  while (i < stop4) {
    const blockEnd = Math.min(stop4, i + 4096);
    for (; i < blockEnd; i += 4) {
      sum += ((bytes[i]! << 8) | bytes[i + 1]!) + ((bytes[i + 2]! << 8) | bytes[i + 3]!);
    }
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  return sum;
}

/** Folds carries into 16 bits and complements (RFC 1071). */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function putU16(out: Uint8Array, at: number, value: number): void {
  out[at] = (value >>> 8) & 0xff;
  out[at + 1] = value & 0xff;
}

function putU32(out: Uint8Array, at: number, value: number): void {
  out[at] = (value >>> 24) & 0xff;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

/**
 * A fixed block of pseudo-random bytes (xorshift32, fixed seed): stands in for encrypted payload,
 * which looks random. Copying slices of it is far cheaper than generating bytes per packet.
 */
const FILLER_BYTES = 65536;
const filler = ((): Uint8Array => {
  const bytes = new Uint8Array(FILLER_BYTES + 65536);
  let x = 0x2545f491;
  for (let i = 0; i < bytes.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
})();

/**
 * Fills out[offset, offset + length) with pseudo-random filler; `variant` (any integer) picks
 * where in the filler block to start so consecutive packets differ. Length at most 65536.
 */
export function fillPseudoRandom(out: Uint8Array, offset: number, length: number, variant: number): void {
  if (length > filler.length - FILLER_BYTES) throw new RangeError(`filler of ${length} bytes asked for; at most ${filler.length - FILLER_BYTES}`);
  const start = (variant >>> 0) % FILLER_BYTES;
  out.set(filler.subarray(start, start + length), offset);
}
