// UDP payloads of the recorder are AES-256-GCM sealed at the script's size.

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DatagramSealer,
  GCM_NONCE_BYTES,
  MAX_UDP_PAYLOAD_BYTES,
  SEAL_OVERHEAD_BYTES,
  plaintextBytesFor,
  sealedBytesFor,
} from '../../agent/src/record/datagram-sealer';

describe('DatagramSealer', () => {
  it('makes datagrams of exactly the requested size, with the GCM overhead taken from the plaintext', () => {
    const sealer = new DatagramSealer();
    for (const size of [29, 60, 200, 1200, MAX_UDP_PAYLOAD_BYTES]) {
      const datagram = sealer.seal(size);
      expect(datagram.length).toBe(size);
      expect(sealer.open(datagram)?.length).toBe(size - SEAL_OVERHEAD_BYTES);
    }
  });

  it('sends at least one byte of plaintext: smaller requests grow to overhead + 1', () => {
    expect(SEAL_OVERHEAD_BYTES).toBe(28);
    expect(plaintextBytesFor(10)).toBe(1);
    expect(sealedBytesFor(10)).toBe(29);
    expect(new DatagramSealer().seal(1).length).toBe(29);
  });

  it('never repeats a nonce, and the ciphertext of equal plaintexts differs', () => {
    const sealer = new DatagramSealer();
    const a = sealer.seal(100);
    const b = sealer.seal(100);
    expect(a.subarray(0, GCM_NONCE_BYTES).equals(b.subarray(0, GCM_NONCE_BYTES))).toBe(false);
    expect(a.subarray(GCM_NONCE_BYTES).equals(b.subarray(GCM_NONCE_BYTES))).toBe(false);
  });

  it('rejects altered datagrams and datagrams of another key', () => {
    const sealer = new DatagramSealer();
    const datagram = sealer.seal(80);
    const altered = Buffer.from(datagram);
    altered[40] = altered[40]! ^ 1;
    expect(sealer.open(altered)).toBeUndefined();
    expect(new DatagramSealer(randomBytes(32)).open(datagram)).toBeUndefined();
    expect(sealer.open(datagram.subarray(0, 20))).toBeUndefined();
  });

  it('refuses datagrams beyond the UDP limit and keys of the wrong length', () => {
    expect(() => new DatagramSealer().seal(MAX_UDP_PAYLOAD_BYTES + 1)).toThrow(/exceeds the 65507-byte UDP limit/);
    expect(() => new DatagramSealer(Buffer.alloc(16))).toThrow(/32-byte key/);
  });
});
