/**
 * Payload bytes for synthetic flows: structurally valid TLS 1.3 records, DNS messages and RTP
 * headers around pseudo-random filler. Structure matters so that Wireshark and nDPI parse the
 * file cleanly (random bytes on port 443 would be reported as malformed TLS); the contents are
 * made up (example.* names, documentation addresses, filler where ciphertext would be).
 */
import { fillPseudoRandom } from '../../agent/src/capture/frame-builder';

/** TLS record carrying a Chrome-sized ClientHello: 512-byte body after padding. */
export const CLIENT_HELLO_BYTES = 517;
/** ServerHello record + ChangeCipherSpec record that open the server's first flight. */
const SERVER_HELLO_RECORD_BYTES = 127;
const CCS_RECORD_BYTES = 6;
/** Smallest TLS 1.3 encrypted record: header, one content-type byte, 16-byte AEAD tag. */
export const MIN_APP_DATA_BYTES = 22;
const MIN_SERVER_FIRST_BYTES = SERVER_HELLO_RECORD_BYTES + CCS_RECORD_BYTES + MIN_APP_DATA_BYTES;
export const MIN_CLIENT_FINISHED_BYTES = CCS_RECORD_BYTES + MIN_APP_DATA_BYTES;

const TLS_HANDSHAKE = 0x16;
const TLS_CCS = 0x14;
const TLS_APPLICATION_DATA = 0x17;
const SNI = new TextEncoder().encode('chat.example.net');

function putU16(out: Uint8Array, at: number, value: number): void {
  out[at] = (value >>> 8) & 0xff;
  out[at + 1] = value & 0xff;
}

function putU24(out: Uint8Array, at: number, value: number): void {
  out[at] = (value >>> 16) & 0xff;
  putU16(out, at + 1, value & 0xffff);
}

function putBytes(out: Uint8Array, at: number, bytes: readonly number[]): number {
  for (let i = 0; i < bytes.length; i++) out[at + i] = bytes[i]!;
  return at + bytes.length;
}

function recordHeader(out: Uint8Array, at: number, type: number, bodyLength: number, legacyVersion = 0x0303): number {
  out[at] = type;
  putU16(out, at + 1, legacyVersion);
  putU16(out, at + 3, bodyLength);
  return at + 5;
}

/** A TLS 1.3 ClientHello record of exactly CLIENT_HELLO_BYTES (the padding extension fills up). */
export function writeClientHello(out: Uint8Array, at: number, variant: number): void {
  const end = at + CLIENT_HELLO_BYTES;
  let o = recordHeader(out, at, TLS_HANDSHAKE, CLIENT_HELLO_BYTES - 5, 0x0301);
  out[o] = 0x01; // client_hello
  putU24(out, o + 1, CLIENT_HELLO_BYTES - 9);
  o += 4;
  putU16(out, o, 0x0303);
  fillPseudoRandom(out, o + 2, 32, variant); // random
  out[o + 34] = 32; // legacy session id (middlebox compatibility)
  fillPseudoRandom(out, o + 35, 32, variant + 32);
  o += 67;
  o = putBytes(out, o, [0x00, 0x06, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0x01, 0x00]);
  const extensionsAt = o;
  o += 2;
  // server_name
  o = putBytes(out, o, [0x00, 0x00]);
  putU16(out, o, SNI.length + 5);
  putU16(out, o + 2, SNI.length + 3);
  out[o + 4] = 0; // host_name
  putU16(out, o + 5, SNI.length);
  out.set(SNI, o + 7);
  o += 7 + SNI.length;
  o = putBytes(out, o, [0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04]); // supported_versions: TLS 1.3
  o = putBytes(out, o, [0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x1d]); // supported_groups: x25519
  o = putBytes(out, o, [0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20]); // key_share
  fillPseudoRandom(out, o, 32, variant + 64);
  o += 32;
  o = putBytes(out, o, [0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03]); // signature_algorithms
  // padding extension (RFC 7685) up to the fixed size, as browsers do.
  const paddingLength = end - o - 4;
  o = putBytes(out, o, [0x00, 0x15]);
  putU16(out, o, paddingLength);
  out.fill(0, o + 2, end);
  putU16(out, extensionsAt, end - extensionsAt - 2);
}

/** ServerHello + ChangeCipherSpec + an encrypted record filling `length` bytes. */
export function writeServerFirstSegment(out: Uint8Array, at: number, length: number, variant: number): void {
  if (length < MIN_SERVER_FIRST_BYTES) throw new RangeError(`server first segment of ${length} bytes is below ${MIN_SERVER_FIRST_BYTES}`);
  let o = recordHeader(out, at, TLS_HANDSHAKE, SERVER_HELLO_RECORD_BYTES - 5);
  out[o] = 0x02; // server_hello
  putU24(out, o + 1, SERVER_HELLO_RECORD_BYTES - 9);
  o += 4;
  putU16(out, o, 0x0303);
  fillPseudoRandom(out, o + 2, 32, variant);
  out[o + 34] = 32;
  fillPseudoRandom(out, o + 35, 32, variant + 32);
  o += 67;
  o = putBytes(out, o, [0x13, 0x01, 0x00, 0x00, 0x2e]); // TLS_AES_128_GCM_SHA256, no compression
  o = putBytes(out, o, [0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]);
  o = putBytes(out, o, [0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20]);
  fillPseudoRandom(out, o, 32, variant + 64);
  o += 32;
  o = writeChangeCipherSpec(out, o);
  writeApplicationData(out, o, at + length - o, variant + 96);
}

/** The client's ChangeCipherSpec + encrypted Finished, `length` bytes in all. */
export function writeClientFinished(out: Uint8Array, at: number, length: number, variant: number): void {
  const o = writeChangeCipherSpec(out, at);
  writeApplicationData(out, o, length - CCS_RECORD_BYTES, variant);
}

/** One encrypted record (opaque type application_data) of `length` bytes including its header. */
export function writeApplicationData(out: Uint8Array, at: number, length: number, variant: number): void {
  if (length < MIN_APP_DATA_BYTES) throw new RangeError(`encrypted record of ${length} bytes is below ${MIN_APP_DATA_BYTES}`);
  recordHeader(out, at, TLS_APPLICATION_DATA, length - 5);
  fillPseudoRandom(out, at + 5, length - 5, variant);
}

function writeChangeCipherSpec(out: Uint8Array, at: number): number {
  const o = recordHeader(out, at, TLS_CCS, 1);
  out[o] = 1;
  return o + 1;
}

const EXAMPLE_COM = [7, ...new TextEncoder().encode('example'), 3, ...new TextEncoder().encode('com'), 0];
/** Question: one 8-character label + example.com, type, class. */
const QUESTION_BYTES = 1 + 8 + EXAMPLE_COM.length + 4;
export const DNS_QUERY_BYTES = 12 + QUESTION_BYTES;
/** Answer with a compression pointer to the question name. */
export function dnsResponseBytes(ipv6: boolean): number {
  return DNS_QUERY_BYTES + 12 + (ipv6 ? 16 : 4);
}

const HEX = new TextEncoder().encode('0123456789abcdef');

function writeQuestion(out: Uint8Array, at: number, label: number, ipv6: boolean): number {
  out[at] = 8;
  for (let i = 0; i < 8; i++) out[at + 1 + i] = HEX[(label >>> (28 - 4 * i)) & 0xf]!;
  let o = putBytes(out, at + 9, EXAMPLE_COM);
  putU16(out, o, ipv6 ? 28 : 1); // AAAA or A
  putU16(out, o + 2, 1); // IN
  o += 4;
  return o;
}

function writeDnsHeader(out: Uint8Array, at: number, id: number, flags: number, answers: number): number {
  putU16(out, at, id);
  putU16(out, at + 2, flags);
  putU16(out, at + 4, 1);
  putU16(out, at + 6, answers);
  putU16(out, at + 8, 0);
  putU16(out, at + 10, 0);
  return at + 12;
}

/** A recursive query for `<label as 8 hex digits>.example.com`, A or AAAA. */
export function writeDnsQuery(out: Uint8Array, at: number, id: number, label: number, ipv6: boolean): void {
  writeQuestion(out, writeDnsHeader(out, at, id, 0x0100, 0), label, ipv6);
}

/** The matching answer: one record in documentation space (203.0.113.0/24, 2001:db8::/32). */
export function writeDnsResponse(out: Uint8Array, at: number, id: number, label: number, ipv6: boolean): void {
  let o = writeQuestion(out, writeDnsHeader(out, at, id, 0x8180, 1), label, ipv6);
  o = putBytes(out, o, [0xc0, 0x0c]); // pointer to the question name
  putU16(out, o, ipv6 ? 28 : 1);
  putU16(out, o + 2, 1);
  putU16(out, o + 4, 0);
  putU16(out, o + 6, 300); // TTL
  putU16(out, o + 8, ipv6 ? 16 : 4);
  o += 10;
  if (ipv6) {
    o = putBytes(out, o, [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    putU16(out, o, label & 0xffff);
  } else {
    putBytes(out, o, [203, 0, 113, label & 0xff]);
  }
}

/** RTP header (version 2, dynamic payload type 111 as Opus calls use) + filler: SRTP-like. */
export const RTP_HEADER_BYTES = 12;
export function writeRtp(
  out: Uint8Array,
  at: number,
  length: number,
  sequence: number,
  timestamp: number,
  ssrc: number,
  variant: number,
): void {
  out[at] = 0x80;
  out[at + 1] = 111;
  putU16(out, at + 2, sequence & 0xffff);
  putU16(out, at + 4, (timestamp >>> 16) & 0xffff);
  putU16(out, at + 6, timestamp & 0xffff);
  putU16(out, at + 8, (ssrc >>> 16) & 0xffff);
  putU16(out, at + 10, ssrc & 0xffff);
  fillPseudoRandom(out, at + RTP_HEADER_BYTES, length - RTP_HEADER_BYTES, variant);
}
