/**
 * Seals the recorder's UDP payloads with AES-256-GCM, as real call and messaging protocols
 * (SRTP-GCM, QUIC, WireGuard) do, so recorded datagrams are really encrypted and look like it.
 *
 * Datagram layout: nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes). The nonce is a random 4-byte
 * salt and a 64-bit counter: unique for every datagram sealed with the run's key, which GCM
 * needs (a repeated nonce leaks the key stream), without drawing random bytes per datagram.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const GCM_NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;
/** Bytes a sealed datagram carries beyond its plaintext. */
export const SEAL_OVERHEAD_BYTES = GCM_NONCE_BYTES + GCM_TAG_BYTES;
/** Largest UDP payload over IPv4 (65535 − 20 IP − 8 UDP). */
export const MAX_UDP_PAYLOAD_BYTES = 65507;

/** Plaintext length that makes a datagram of `wireBytes`; at least 1 byte of plaintext. */
export function plaintextBytesFor(wireBytes: number): number {
  return Math.max(1, wireBytes - SEAL_OVERHEAD_BYTES);
}

/** Size of the datagram actually sent for a script message of `wireBytes`. */
export function sealedBytesFor(wireBytes: number): number {
  return plaintextBytesFor(wireBytes) + SEAL_OVERHEAD_BYTES;
}

// The plaintext's content does not matter (it is encrypted); zeros avoid drawing random bytes.
const ZEROS = Buffer.alloc(MAX_UDP_PAYLOAD_BYTES);

export class DatagramSealer {
  private readonly salt: Buffer;
  private counter = 0n;

  constructor(private readonly key: Buffer = randomBytes(32)) {
    if (key.length !== 32) throw new RangeError(`AES-256-GCM needs a 32-byte key, got ${key.length}`);
    this.salt = randomBytes(4);
  }

  /** A sealed datagram of sealedBytesFor(wireBytes) bytes. */
  seal(wireBytes: number): Buffer {
    const plaintext = plaintextBytesFor(wireBytes);
    if (plaintext + SEAL_OVERHEAD_BYTES > MAX_UDP_PAYLOAD_BYTES) {
      throw new RangeError(`a ${wireBytes}-byte datagram exceeds the ${MAX_UDP_PAYLOAD_BYTES}-byte UDP limit`);
    }
    const out = Buffer.allocUnsafe(plaintext + SEAL_OVERHEAD_BYTES);
    this.salt.copy(out, 0);
    out.writeBigUInt64BE(this.counter, 4);
    this.counter++;
    const cipher = createCipheriv('aes-256-gcm', this.key, out.subarray(0, GCM_NONCE_BYTES));
    const body = cipher.update(ZEROS.subarray(0, plaintext));
    const final = cipher.final();
    body.copy(out, GCM_NONCE_BYTES);
    final.copy(out, GCM_NONCE_BYTES + body.length);
    cipher.getAuthTag().copy(out, out.length - GCM_TAG_BYTES);
    return out;
  }

  /** The plaintext, or undefined when the datagram was not sealed with this key (or altered). */
  open(datagram: Uint8Array): Buffer | undefined {
    if (datagram.length < SEAL_OVERHEAD_BYTES + 1) return undefined;
    const bytes = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.length);
    const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, GCM_NONCE_BYTES));
    decipher.setAuthTag(bytes.subarray(bytes.length - GCM_TAG_BYTES));
    const body = decipher.update(bytes.subarray(GCM_NONCE_BYTES, bytes.length - GCM_TAG_BYTES));
    try {
      return Buffer.concat([body, decipher.final()]);
    } catch {
      return undefined;
    }
  }
}
