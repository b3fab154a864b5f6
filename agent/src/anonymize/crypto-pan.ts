/**
 * Crypto-PAn: keyed, prefix-preserving address anonymisation (Xu, Fan, Ammar, Moon, "Prefix-
 * preserving IP address anonymization", ICNP 2002), with AES-128 as the pseudorandom function.
 *
 * Key: 32 bytes. Bytes 0..15 are the AES-128 key; bytes 16..31, encrypted once with that key,
 * form the 128-bit pad.
 *
 * For an n-bit address a (n = 32 or 128) and each bit position i in 0..n-1, the AES input block
 * is the first i bits of a followed by the pad's bits i..127; the most significant bit of the
 * encrypted block is bit i of a one-time pad, which is XORed into a. Output bit i therefore
 * depends only on address bits 0..i, so two addresses sharing a k-bit prefix map to addresses
 * sharing exactly a k-bit prefix, and the map is a bijection on n-bit values.
 *
 * IPv4 is exactly the reference implementation (panonymizer.cpp of the Crypto-PAn 1.0
 * distribution): the address sits in the first 32 bits of the block, bits 32..127 are always the
 * pad's; its sample key and trace (sample_trace_raw.dat / sample_trace_sanitized.dat) are the
 * test vectors. IPv6 is the same construction over 128 bits, as yacryptopan's IPv6 extension and
 * Yawning Angel's Go `cryptopan` do; their published IPv6 vectors (::1, 2001:db8::1, …) are
 * tested too. The "use bit i of the output instead of its MSB" variant some papers suggest is not
 * followed: no interoperable implementation uses it.
 *
 * Speed: the n input blocks depend only on the original address, not on earlier outputs, so all
 * of them go through one ECB call (32 blocks for IPv4, 128 for IPv6) on a cipher object created
 * once and reused (ECB keeps no state between blocks, and final() is never called); each block is
 * built from the one before by copying it and changing one bit.
 */
import { createCipheriv, type Cipher } from 'node:crypto';

/** Length of a Crypto-PAn key: 16 bytes of AES key, then 16 bytes that become the pad. */
export const CRYPTO_PAN_KEY_BYTES = 32;

const BLOCK = 16;

export class CryptoPan {
  private readonly cipher: Cipher;
  /** The encrypted pad: the AES input for bit 0, whatever the address. */
  private readonly pad: Uint8Array;
  /** 32 AES input blocks; bytes 4..15 of each are the pad's and never change. */
  private readonly v4Blocks = new Uint8Array(32 * BLOCK);
  private readonly v4Words = new Uint32Array(this.v4Blocks.buffer);
  /** 128 AES input blocks, rebuilt per address. */
  private readonly v6Blocks = new Uint8Array(128 * BLOCK);
  private readonly v6Words = new Uint32Array(this.v6Blocks.buffer);
  private readonly v6Address = new Uint8Array(16);

  constructor(key: Uint8Array) {
    if (key.length !== CRYPTO_PAN_KEY_BYTES) {
      throw new RangeError(`a Crypto-PAn key is ${CRYPTO_PAN_KEY_BYTES} bytes, got ${key.length}`);
    }
    this.cipher = createCipheriv('aes-128-ecb', key.subarray(0, 16), null);
    this.cipher.setAutoPadding(false);
    this.pad = Uint8Array.from(this.encrypt(key.subarray(16, 32)));
    for (let pos = 0; pos < 32; pos++) this.v4Blocks.set(this.pad, pos * BLOCK);
    this.v6Blocks.set(this.pad, 0);
  }

  /** Anonymises an IPv4 address held as an unsigned 32-bit integer (network order). */
  anonymizeIpv4(address: number): number {
    const addr = address >>> 0;
    const blocks = this.v4Blocks;
    const words = this.v4Words;
    // Block i+1 is block i with address bit i in place of the pad's: copy the first word (the
    // only one that differs; native byte order is fine for a copy) and set one byte.
    for (let pos = 1; pos < 32; pos++) {
      const at = pos * BLOCK;
      words[at >>> 2] = words[(at - BLOCK) >>> 2]!;
      const byte = at + ((pos - 1) >>> 3);
      const bit = 0x80 >>> ((pos - 1) & 7);
      const addressByte = addr >>> (24 - ((pos - 1) & ~7));
      blocks[byte] = (blocks[byte]! & ~bit) | (addressByte & bit);
    }
    const out = this.encrypt(blocks);
    let flips = 0;
    for (let pos = 0; pos < 32; pos++) flips |= (out[pos * BLOCK]! >>> 7) << (31 - pos);
    return (addr ^ flips) >>> 0;
  }

  /** Anonymises an IPv6 address held as four big-endian 32-bit words; returns four new words. */
  anonymizeIpv6(words: ArrayLike<number>): Uint32Array {
    if (words.length !== 4) throw new RangeError(`an IPv6 address is 4 words, got ${words.length}`);
    const address = this.v6Address;
    for (let word = 0; word < 4; word++) {
      const value = words[word]! >>> 0;
      address[word * 4] = value >>> 24;
      address[word * 4 + 1] = value >>> 16;
      address[word * 4 + 2] = value >>> 8;
      address[word * 4 + 3] = value;
    }
    const blocks = this.v6Blocks;
    const blockWords = this.v6Words;
    // Block 0 is the pad (set once); block i+1 is block i with address bit i in place of the pad's.
    for (let pos = 1; pos < 128; pos++) {
      const to = (pos * BLOCK) >>> 2;
      blockWords[to] = blockWords[to - 4]!;
      blockWords[to + 1] = blockWords[to - 3]!;
      blockWords[to + 2] = blockWords[to - 2]!;
      blockWords[to + 3] = blockWords[to - 1]!;
      const index = (pos - 1) >>> 3;
      const bit = 0x80 >>> ((pos - 1) & 7);
      const byte = pos * BLOCK + index;
      blocks[byte] = (blocks[byte]! & ~bit) | (address[index]! & bit);
    }
    const out = this.encrypt(blocks);
    const result = new Uint32Array(4);
    for (let word = 0; word < 4; word++) {
      let flips = 0;
      for (let bit = 0; bit < 32; bit++) flips |= (out[(word * 32 + bit) * BLOCK]! >>> 7) << (31 - bit);
      result[word] = ((words[word]! >>> 0) ^ flips) >>> 0;
    }
    return result;
  }

  /** Anonymises an address given as its 4 (IPv4) or 16 (IPv6) network-order bytes. */
  anonymizeBytes(address: Uint8Array): Uint8Array {
    const view = new DataView(address.buffer, address.byteOffset, address.byteLength);
    if (address.length === 4) {
      const result = new Uint8Array(4);
      new DataView(result.buffer).setUint32(0, this.anonymizeIpv4(view.getUint32(0)));
      return result;
    }
    if (address.length === 16) {
      const words = this.anonymizeIpv6([view.getUint32(0), view.getUint32(4), view.getUint32(8), view.getUint32(12)]);
      const result = new Uint8Array(16);
      const out = new DataView(result.buffer);
      for (let word = 0; word < 4; word++) out.setUint32(word * 4, words[word]!);
      return result;
    }
    throw new RangeError(`an address is 4 or 16 bytes, got ${address.length}`);
  }

  /** AES-128-ECB over whole blocks; the cipher is reused, so every call is independent. */
  private encrypt(blocks: Uint8Array): Buffer {
    const out = this.cipher.update(blocks);
    if (out.length !== blocks.length) throw new Error('AES-128-ECB returned a partial block');
    return out;
  }
}
