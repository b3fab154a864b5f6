/**
 * Payloads of simulated datagrams. Encrypted media and QUIC-like traffic look random, so most
 * datagrams are filler; but Wireshark dissects some ports and shapes whatever the bytes, and
 * reports random bytes there as malformed (DNS on 53/5353, NTP on 123; on the STUN/TURN ports
 * a random first byte with the TURN ChannelData bits set hands filler to the RTCP, COTP and
 * GOOSE heuristics). So:
 * - DNS and NTP ports: a structurally valid message of exactly the script's size, with a
 *   made-up name (random letters) and filler where values would be;
 * - `stun` connections: a STUN Binding request/success response (RFC 8489) padded to size;
 * - `call` connections, and other datagrams on STUN/TURN ports: an SRTP-like packet — the RTP
 *   header (version 2, a dynamic payload type, sequence, timestamp, SSRC) and filler — which is
 *   what call media look like and what STUN's dissector passes over.
 */
import { fillPseudoRandom } from '../../capture/frame-builder';
import { ConnectionPurpose } from '../traffic-script';

export type UdpPayloadShape = 'filler' | 'dns' | 'ntp' | 'stun' | 'rtp';

/** STUN/TURN ports (RFC 8489/8656, with TLS/DTLS variants): the STUN dissector owns them. */
const STUN_PORTS: ReadonlySet<number> = new Set([3478, 3479, 5349, 5350]);

/** The shape a datagram of a connection with this purpose and server port gets. */
export function udpPayloadShape(purpose: ConnectionPurpose, serverPort: number): UdpPayloadShape {
  if (serverPort === 53 || serverPort === 5353) return 'dns';
  if (serverPort === 123) return 'ntp';
  if (purpose === 'stun') return 'stun';
  if (purpose === 'call' || STUN_PORTS.has(serverPort)) return 'rtp';
  return 'filler';
}

/** The shape one datagram of `bytes` really gets: STUN needs 20 + a multiple of 4, RTP 12 bytes. */
export function datagramShape(shape: UdpPayloadShape, bytes: number): UdpPayloadShape {
  if (shape === 'stun' && (bytes < STUN_HEADER_BYTES || (bytes - STUN_HEADER_BYTES) % 4 !== 0)) return bytes >= RTP_HEADER_BYTES ? 'rtp' : 'filler';
  if (shape === 'rtp' && bytes < RTP_HEADER_BYTES) return 'filler';
  return shape;
}

const DNS_HEADER_BYTES = 12;
/** qtype + qclass after the name. */
const DNS_QUESTION_TAIL_BYTES = 4;
/** Pointer to the question name, type, class, TTL, rdlength, IPv4 address. */
const DNS_ANSWER_A_BYTES = 16;
/** OPT pseudo-record (RFC 6891) with one Padding option (RFC 7830) header. */
const DNS_OPT_WITH_PADDING_BYTES = 11 + 4;
/** Names longer than this use an OPT padding option for the rest of the size, as DoT/DoH clients pad. */
const DNS_MAX_NAME_BYTES = 64;
const DNS_PADDED_NAME_BYTES = 24;
const NTP_HEADER_BYTES = 48;
const STUN_HEADER_BYTES = 20;
const RTP_HEADER_BYTES = 12;

/** Smallest sizes, and sizes with no valid layout, for error messages and validation. */
export function udpPayloadProblem(shape: UdpPayloadShape, bytes: number, up: boolean): string | undefined {
  if (shape === 'dns') {
    const fixed = DNS_HEADER_BYTES + DNS_QUESTION_TAIL_BYTES + (!up && bytes >= minDnsWithAnswer() ? DNS_ANSWER_A_BYTES : 0);
    if (nameBytesFor(bytes - fixed) === undefined) return `a DNS message cannot be exactly ${bytes} bytes (17, or 19 and more)`;
  }
  if (shape === 'ntp') {
    const extra = bytes - NTP_HEADER_BYTES;
    if (!(extra === 0 || extra === 20 || extra === 24 || (extra >= 16 && extra % 4 === 0))) {
      return `an NTP message is 48 bytes, 68 or 72 with a MAC, or 48 + a multiple of 4 ≥ 16 with an extension field; got ${bytes}`;
    }
  }
  return undefined;
}

function minDnsWithAnswer(): number {
  return DNS_HEADER_BYTES + 3 + DNS_QUESTION_TAIL_BYTES + DNS_ANSWER_A_BYTES;
}

/**
 * How to fill `room` bytes (name + optional OPT): the name's wire length and the padding
 * option's data length (-1: no OPT record). undefined when impossible (room < 1 or room 2).
 */
function nameBytesFor(room: number): { name: number; padding: number } | undefined {
  if (room >= 1 && room <= DNS_MAX_NAME_BYTES && room !== 2) return { name: room, padding: -1 };
  const padding = room - DNS_PADDED_NAME_BYTES - DNS_OPT_WITH_PADDING_BYTES;
  if (padding >= 0) return { name: DNS_PADDED_NAME_BYTES, padding };
  return undefined;
}

/**
 * A DNS query (up) or response (down) of exactly `length` bytes at out[at…]. `id` pairs a
 * response with its query. The name is random lowercase letters (seeded by `variant`).
 */
export function writeDnsMessage(out: Uint8Array, at: number, length: number, up: boolean, id: number, variant: number): void {
  const answer = !up && length >= minDnsWithAnswer();
  const fixed = DNS_HEADER_BYTES + DNS_QUESTION_TAIL_BYTES + (answer ? DNS_ANSWER_A_BYTES : 0);
  const layout = nameBytesFor(length - fixed);
  if (layout === undefined) throw new RangeError(udpPayloadProblem('dns', length, up));
  putU16(out, at, id);
  putU16(out, at + 2, up ? 0x0100 : 0x8180); // RD; or QR RD RA, NOERROR
  putU16(out, at + 4, 1);
  putU16(out, at + 6, answer ? 1 : 0);
  putU16(out, at + 8, 0);
  putU16(out, at + 10, layout.padding >= 0 ? 1 : 0);
  let o = writeName(out, at + DNS_HEADER_BYTES, layout.name, variant);
  putU16(out, o, 1); // A
  putU16(out, o + 2, 1); // IN
  o += 4;
  if (answer) {
    putU16(out, o, 0xc00c); // the question's name
    putU16(out, o + 2, 1);
    putU16(out, o + 4, 1);
    putU16(out, o + 6, 0);
    putU16(out, o + 8, 300); // TTL
    putU16(out, o + 10, 4);
    // 192.0.2.0/24 (RFC 5737 documentation space): no real host.
    out.set([192, 0, 2, 1 + (variant % 254)], o + 12);
    o += DNS_ANSWER_A_BYTES;
  }
  if (layout.padding >= 0) {
    out[o] = 0; // root name
    putU16(out, o + 1, 41); // OPT
    putU16(out, o + 3, 1232); // advertised UDP payload size (DNS flag day 2020)
    putU16(out, o + 5, 0); // extended RCODE, version
    putU16(out, o + 7, 0); // flags
    putU16(out, o + 9, 4 + layout.padding);
    putU16(out, o + 11, 12); // Padding
    putU16(out, o + 13, layout.padding);
    out.fill(0, o + 15, o + 15 + layout.padding);
  }
}

/** A name of exactly `length` wire bytes: labels of random letters, then the root. */
function writeName(out: Uint8Array, at: number, length: number, variant: number): number {
  let o = at;
  let left = length - 1;
  let x = (variant | 1) >>> 0;
  while (left > 0) {
    let label = Math.min(63, left - 1);
    // A single byte cannot hold a label (length byte + at least one character).
    if (left - 1 - label === 1) label--;
    out[o++] = label;
    for (let i = 0; i < label; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[o++] = 0x61 + ((x >>> 0) % 26);
    }
    left -= label + 1;
  }
  out[o++] = 0;
  return o;
}

/**
 * An NTPv4 client request (up, mode 3) or server reply (down, mode 4) of `length` bytes: the
 * 48-byte header with filler timestamps, then a MAC (20 or 24 bytes) or one extension field.
 */
export function writeNtpMessage(out: Uint8Array, at: number, length: number, up: boolean, variant: number): void {
  const problem = udpPayloadProblem('ntp', length, up);
  if (problem !== undefined) throw new RangeError(problem);
  fillPseudoRandom(out, at, length, variant);
  out[at] = up ? 0x23 : 0x24; // LI 0, version 4, mode 3 / 4
  out[at + 1] = up ? 0 : 2; // stratum
  out[at + 2] = 6; // poll 2^6 s
  out[at + 3] = 0xe9; // precision 2^-23 s
  if (up) out.fill(0, at + 4, at + 40); // a client leaves delay, dispersion, refid and timestamps zero, except transmit
  const extra = length - NTP_HEADER_BYTES;
  if (extra >= 16 && extra !== 20 && extra !== 24) {
    const o = at + NTP_HEADER_BYTES;
    putU16(out, o, 0x0104); // Unique Identifier extension (RFC 8915)
    putU16(out, o + 2, extra);
  }
}

function putU16(out: Uint8Array, at: number, value: number): void {
  out[at] = (value >>> 8) & 0xff;
  out[at + 1] = value & 0xff;
}

/**
 * A STUN Binding request (up) or success response (down) of `length` bytes (20 + a multiple of
 * 4): the header with the magic cookie and `transactionId` (a response echoes its request's),
 * then a PADDING attribute (RFC 5780) of zeros for the rest.
 */
export function writeStunMessage(out: Uint8Array, at: number, length: number, up: boolean, transactionId: number): void {
  putU16(out, at, up ? 0x0001 : 0x0101);
  putU16(out, at + 2, length - STUN_HEADER_BYTES);
  out.set([0x21, 0x12, 0xa4, 0x42], at + 4);
  fillPseudoRandom(out, at + 8, 8, transactionId);
  putU16(out, at + 16, transactionId >>> 16);
  putU16(out, at + 18, transactionId & 0xffff);
  if (length > STUN_HEADER_BYTES) {
    const o = at + STUN_HEADER_BYTES;
    putU16(out, o, 0x0026);
    putU16(out, o + 2, length - STUN_HEADER_BYTES - 4);
    out.fill(0, o + 4, at + length);
  }
}

export interface RtpHeader {
  readonly payloadType: number;
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
}

/** RTP header (RFC 3550, version 2, no CSRC, no extension) followed by filler: SRTP-like. */
export function writeRtpPacket(out: Uint8Array, at: number, length: number, header: RtpHeader, variant: number): void {
  fillPseudoRandom(out, at, length, variant);
  out[at] = 0x80;
  out[at + 1] = header.payloadType & 0x7f;
  putU16(out, at + 2, header.sequence & 0xffff);
  putU16(out, at + 4, (header.timestamp >>> 16) & 0xffff);
  putU16(out, at + 6, header.timestamp & 0xffff);
  putU16(out, at + 8, (header.ssrc >>> 16) & 0xffff);
  putU16(out, at + 10, header.ssrc & 0xffff);
}
