/**
 * The bytes of one direction of a simulated TLS 1.3 connection: where each record starts in the
 * TCP stream, and what to put in a segment that carries part of it. Records are structurally
 * valid so Wireshark dissects them cleanly (random bytes on port 443 would show as malformed
 * TLS); what would be ciphertext is filler, and the cleartext handshake carries no name or
 * other meaningful value.
 *
 * Sizes follow what TLS 1.3 stacks put on the wire (RFC 8446): a ClientHello padded to 512
 * bytes of handshake (517 with the record header, as Chrome and BoringSSL-based apps send), a
 * 127-byte ServerHello record, the 6-byte middlebox-compatibility ChangeCipherSpec, and
 * encrypted records of plaintext + 1 content-type byte + 16-byte AEAD tag + 5-byte header.
 */
import { fillPseudoRandom } from '../../capture/frame-builder';
import { Prng } from '../../common/prng';

const TLS_CHANGE_CIPHER_SPEC = 0x14;
const TLS_HANDSHAKE = 0x16;
const TLS_APPLICATION_DATA = 0x17;

export const TLS_RECORD_HEADER_BYTES = 5;
/** Per encrypted record: header, inner content type, AEAD tag. */
export const TLS_RECORD_OVERHEAD_BYTES = 22;
/** TLS 1.3 limit on a record's plaintext (2^14). */
export const TLS_MAX_PLAINTEXT_BYTES = 16384;
export const CLIENT_HELLO_BYTES = 517;
export const SERVER_HELLO_BYTES = 127;
export const CHANGE_CIPHER_SPEC_BYTES = 6;

/** TLS 1.3 cipher suites the simulated server picks from, with the Finished hash length. */
const CIPHER_SUITES = [
  { id: 0x1301, hashBytes: 32 }, // TLS_AES_128_GCM_SHA256
  { id: 0x1302, hashBytes: 48 }, // TLS_AES_256_GCM_SHA384
  { id: 0x1303, hashBytes: 32 }, // TLS_CHACHA20_POLY1305_SHA256
] as const;

/** What one connection's handshake looks like on the wire, drawn per connection. */
export interface TlsHandshakeShape {
  readonly cipherSuite: number;
  /** ServerHello + CCS + the encrypted EncryptedExtensions…Finished record. */
  readonly serverFlightBytes: number;
  /** CCS + encrypted Finished (64 bytes with SHA-256 suites, 80 with SHA-384). */
  readonly clientFinishedBytes: number;
  /** NewSessionTicket records the server sends after the client's Finished (0–2). */
  readonly ticketBytes: readonly number[];
}

/**
 * Server flight 2.5–5 KB: a certificate chain of two certificates (leaf + intermediate, RSA or
 * ECDSA) dominates it. Tickets: 0–2 records of 200–280 bytes (OpenSSL sends two by default,
 * Go's crypto/tls one, some servers none).
 */
export function drawHandshakeShape(rng: Prng): TlsHandshakeShape {
  const suite = rng.pick(CIPHER_SUITES);
  const tickets = rng.pick([0, 1, 1, 2, 2]);
  const ticketBytes: number[] = [];
  for (let i = 0; i < tickets; i++) ticketBytes.push(rng.int(200, 280));
  return {
    cipherSuite: suite.id,
    serverFlightBytes: rng.int(2500, 5000),
    clientFinishedBytes: CHANGE_CIPHER_SPEC_BYTES + TLS_RECORD_OVERHEAD_BYTES + 4 + suite.hashBytes,
    ticketBytes,
  };
}

/** Wire length of each record carrying `plaintextBytes` of application data. */
export function applicationRecordLengths(plaintextBytes: number): number[] {
  const lengths: number[] = [];
  for (let left = plaintextBytes; left > 0; left -= TLS_MAX_PLAINTEXT_BYTES) {
    lengths.push(Math.min(left, TLS_MAX_PLAINTEXT_BYTES) + TLS_RECORD_OVERHEAD_BYTES);
  }
  return lengths;
}

/** Wire bytes of a message of `plaintextBytes`: the plaintext plus 22 bytes per record. */
export function applicationWireBytes(plaintextBytes: number): number {
  return plaintextBytes + TLS_RECORD_OVERHEAD_BYTES * Math.ceil(plaintextBytes / TLS_MAX_PLAINTEXT_BYTES);
}

/**
 * Record boundaries of one direction, in TCP sequence space (relative: the first data byte is
 * 1), appended as the sender writes. Cleartext records keep their bytes (a few hundred bytes per
 * connection); encrypted ones only their header is stored, their body is filler.
 */
export class TlsStreamLayout {
  private readonly starts: number[] = [];
  private readonly lengths: number[] = [];
  private readonly types: number[] = [];
  private readonly cleartext = new Map<number, Uint8Array>();
  private endSeq = 1;

  constructor(private readonly fillerBase: number) {}

  /** Sequence number after the last record. */
  get end(): number {
    return this.endSeq;
  }

  /** Appends an encrypted record of `length` wire bytes (header included). */
  addEncrypted(length: number): void {
    if (length < TLS_RECORD_OVERHEAD_BYTES) throw new RangeError(`encrypted TLS record of ${length} bytes is below ${TLS_RECORD_OVERHEAD_BYTES}`);
    this.push(TLS_APPLICATION_DATA, length);
  }

  /** Appends a cleartext record given whole (header included). */
  addCleartext(record: Uint8Array): void {
    this.cleartext.set(this.endSeq, record);
    this.push(record[0]!, record.length);
  }

  /**
   * Writes stream bytes [seq, seq + length) at out[at…]: filler (fixed by the position in the
   * stream, so a retransmission repeats the original bytes), then the record headers and
   * cleartext records that fall inside.
   */
  paint(out: Uint8Array, at: number, seq: number, length: number): void {
    fillPseudoRandom(out, at, length, this.fillerBase + seq);
    const end = seq + length;
    // Last record starting at or before seq: it may overlap the segment's start.
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= seq) lo = mid;
      else hi = mid - 1;
    }
    for (let r = lo; r < this.starts.length && this.starts[r]! < end; r++) {
      const start = this.starts[r]!;
      const clear = this.cleartext.get(start);
      const bytes = clear ?? this.header(r);
      const from = Math.max(seq, start);
      const to = Math.min(end, start + bytes.length);
      if (from < to) out.set(bytes.subarray(from - start, to - start), at + from - seq);
    }
  }

  private readonly headerBytes = new Uint8Array(TLS_RECORD_HEADER_BYTES);

  private header(r: number): Uint8Array {
    const h = this.headerBytes;
    const bodyLength = this.lengths[r]! - TLS_RECORD_HEADER_BYTES;
    h[0] = this.types[r]!;
    h[1] = 0x03;
    h[2] = 0x03;
    h[3] = bodyLength >>> 8;
    h[4] = bodyLength & 0xff;
    return h;
  }

  private push(type: number, length: number): void {
    if (length - TLS_RECORD_HEADER_BYTES > 0xffff) throw new RangeError(`TLS record body of ${length - TLS_RECORD_HEADER_BYTES} bytes exceeds 65535`);
    this.starts.push(this.endSeq);
    this.lengths.push(length);
    this.types.push(type);
    this.endSeq += length;
  }
}

// --- cleartext handshake records -------------------------------------------------------------

function putU16(out: Uint8Array, at: number, value: number): number {
  out[at] = (value >>> 8) & 0xff;
  out[at + 1] = value & 0xff;
  return at + 2;
}

function putBytes(out: Uint8Array, at: number, bytes: readonly number[]): number {
  out.set(bytes, at);
  return at + bytes.length;
}

function putRandom(out: Uint8Array, at: number, length: number, rng: Prng): number {
  for (let i = 0; i < length; i++) out[at + i] = rng.int(0, 255);
  return at + length;
}

function recordAndHandshakeHeader(out: Uint8Array, contentType: number, legacyVersion: number, handshakeType: number): number {
  out[0] = contentType;
  putU16(out, 1, legacyVersion);
  putU16(out, 3, out.length - TLS_RECORD_HEADER_BYTES);
  out[5] = handshakeType;
  const bodyLength = out.length - TLS_RECORD_HEADER_BYTES - 4;
  out[6] = bodyLength >>> 16;
  putU16(out, 7, bodyLength & 0xffff);
  return 9;
}

/**
 * A ClientHello as a mobile TLS 1.3 stack sends it, CLIENT_HELLO_BYTES long: random, a 32-byte
 * legacy session id, TLS 1.3 and 1.2 suites, supported_versions, groups, an x25519 key share,
 * signature algorithms, PSK modes, padding to size (RFC 7685). No server_name: a name would be
 * meaningful, and nothing downstream needs one.
 */
export function buildClientHello(rng: Prng): Uint8Array {
  const out = new Uint8Array(CLIENT_HELLO_BYTES);
  let o = recordAndHandshakeHeader(out, TLS_HANDSHAKE, 0x0301, 0x01);
  o = putU16(out, o, 0x0303);
  o = putRandom(out, o, 32, rng);
  out[o++] = 32;
  o = putRandom(out, o, 32, rng);
  const suites = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8];
  o = putU16(out, o, suites.length * 2);
  for (const suite of suites) o = putU16(out, o, suite);
  o = putBytes(out, o, [0x01, 0x00]); // compression: null
  const extensionsAt = o;
  o += 2;
  o = putBytes(out, o, [0x00, 0x17, 0x00, 0x00]); // extended_master_secret
  o = putBytes(out, o, [0xff, 0x01, 0x00, 0x01, 0x00]); // renegotiation_info
  o = putBytes(out, o, [0x00, 0x0a, 0x00, 0x08, 0x00, 0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18]); // supported_groups
  o = putBytes(out, o, [0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]); // ec_point_formats
  o = putBytes(out, o, [0x00, 0x23, 0x00, 0x00]); // session_ticket
  o = putBytes(out, o, [0x00, 0x0d, 0x00, 0x10, 0x00, 0x0e, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03, 0x08, 0x05, 0x05, 0x01, 0x08, 0x06]); // signature_algorithms
  o = putBytes(out, o, [0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20]); // key_share: x25519
  o = putRandom(out, o, 32, rng);
  o = putBytes(out, o, [0x00, 0x2d, 0x00, 0x02, 0x01, 0x01]); // psk_key_exchange_modes: psk_dhe_ke
  o = putBytes(out, o, [0x00, 0x2b, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03]); // supported_versions: 1.3, 1.2
  const paddingLength = out.length - o - 4;
  o = putU16(out, o, 0x0015); // padding; its zero bytes are already in place
  putU16(out, o, paddingLength);
  putU16(out, extensionsAt, out.length - extensionsAt - 2);
  return out;
}

/** The ServerHello record (SERVER_HELLO_BYTES): the chosen suite, TLS 1.3, an x25519 share. */
export function buildServerHello(rng: Prng, cipherSuite: number): Uint8Array {
  const out = new Uint8Array(SERVER_HELLO_BYTES);
  let o = recordAndHandshakeHeader(out, TLS_HANDSHAKE, 0x0303, 0x02);
  o = putU16(out, o, 0x0303);
  o = putRandom(out, o, 32, rng);
  out[o++] = 32; // echoes the client's legacy session id (its value: filler)
  o = putRandom(out, o, 32, rng);
  o = putU16(out, o, cipherSuite);
  out[o++] = 0; // compression: null
  o = putU16(out, o, 46);
  o = putBytes(out, o, [0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]); // supported_versions: 1.3
  o = putBytes(out, o, [0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20]); // key_share: x25519
  putRandom(out, o, 32, rng);
  return out;
}

export function buildChangeCipherSpec(): Uint8Array {
  return Uint8Array.of(TLS_CHANGE_CIPHER_SPEC, 0x03, 0x03, 0x00, 0x01, 0x01);
}

/** Wire bytes of the encrypted record (EncryptedExtensions … Finished) that completes a server flight of `flightBytes`. */
export function encryptedServerHandshakeRecordBytes(flightBytes: number): number {
  return flightBytes - SERVER_HELLO_BYTES - CHANGE_CIPHER_SPEC_BYTES;
}
