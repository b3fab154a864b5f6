import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CryptoPan } from '../../agent/src/anonymize/crypto-pan';
import { formatIpv4, formatIpv6 } from '../../agent/src/flows/ip-address';
import { seededRandom } from '../support/random-capture';
import { SAMPLE_KEY, parseV4, parseV6 } from './support';

/**
 * The reference distribution's (Crypto-PAn 1.0, Georgia Tech) sample trace: every distinct
 * address of sample_trace_raw.dat with its counterpart in sample_trace_sanitized.dat, under the
 * sample key, as other implementations (Go cryptopan, yacryptopan) test against them.
 */
const REFERENCE_IPV4: readonly (readonly [string, string])[] = [
  ['128.11.68.132', '135.242.180.132'],
  ['129.118.74.4', '134.136.186.123'],
  ['130.132.252.244', '133.68.164.234'],
  ['141.223.7.43', '141.167.8.160'],
  ['141.233.145.108', '141.129.237.235'],
  ['152.163.225.39', '151.140.114.167'],
  ['156.29.3.236', '147.225.12.42'],
  ['165.247.96.84', '162.9.99.234'],
  ['166.107.77.190', '160.132.178.185'],
  ['192.102.249.13', '252.138.62.131'],
  ['192.215.32.125', '252.43.47.189'],
  ['192.233.80.103', '252.25.108.8'],
  ['192.41.57.43', '252.222.221.184'],
  ['193.150.244.223', '253.169.52.216'],
  ['195.205.63.100', '255.186.223.5'],
  ['198.200.171.101', '249.199.68.213'],
  ['198.26.132.101', '249.36.123.202'],
  ['198.36.213.5', '249.7.21.132'],
  ['198.51.77.238', '249.18.186.254'],
  ['199.217.79.101', '248.38.184.213'],
  ['202.49.198.20', '245.206.7.234'],
  ['203.12.160.252', '244.248.163.4'],
  ['204.184.162.189', '243.192.77.90'],
  ['204.202.136.230', '243.178.4.198'],
  ['204.29.20.4', '243.33.20.123'],
  ['205.178.38.67', '242.108.198.51'],
  ['205.188.147.153', '242.96.16.101'],
  ['205.188.248.25', '242.96.88.27'],
  ['205.245.121.43', '242.21.121.163'],
  ['207.105.49.5', '241.118.205.138'],
  ['207.135.65.238', '241.202.129.222'],
  ['207.155.9.214', '241.220.250.22'],
  ['207.188.7.45', '241.255.249.220'],
  ['207.25.71.27', '241.33.119.156'],
  ['207.33.151.131', '241.1.233.131'],
  ['208.147.89.59', '227.237.98.191'],
  ['208.234.120.210', '227.154.67.17'],
  ['208.28.185.184', '227.39.94.90'],
  ['208.52.56.122', '227.8.63.165'],
  ['209.12.231.7', '226.243.167.8'],
  ['209.238.72.3', '226.6.119.243'],
  ['209.246.74.109', '226.22.124.76'],
  ['209.68.60.238', '226.184.220.233'],
  ['209.85.249.6', '226.170.70.6'],
  ['212.120.124.31', '228.135.163.231'],
  ['212.146.8.236', '228.19.4.234'],
  ['212.186.227.154', '228.59.98.98'],
  ['212.204.172.118', '228.71.195.169'],
  ['212.206.130.201', '228.69.242.193'],
  ['216.148.237.145', '235.84.194.111'],
  ['216.157.30.252', '235.89.31.26'],
  ['216.184.159.48', '235.96.225.78'],
  ['216.227.10.221', '235.28.253.36'],
  ['216.254.18.172', '235.7.16.162'],
  ['216.32.132.250', '235.192.139.38'],
  ['216.35.217.178', '235.195.157.81'],
  ['24.0.250.221', '100.15.198.226'],
  ['24.13.62.231', '100.2.192.247'],
  ['24.14.213.138', '100.1.42.141'],
  ['24.5.0.80', '100.9.15.210'],
  ['24.7.198.88', '100.10.6.25'],
  ['24.94.26.44', '100.88.228.35'],
  ['38.15.67.68', '64.3.66.187'],
  ['4.3.88.225', '124.60.155.63'],
  ['63.14.55.111', '95.9.215.7'],
  ['63.195.241.44', '95.179.238.44'],
  ['63.97.7.140', '95.97.9.123'],
  ['64.14.118.196', '0.255.183.58'],
  ['64.34.154.117', '0.221.154.117'],
  ['64.39.15.238', '0.219.7.41'],
];

/**
 * IPv6 under the same key, 128-bit construction: the vectors published with Yawning Angel's Go
 * cryptopan and reused by other ports (C++, Rust); yacryptopan's IPv6 extension computes the same.
 */
const REFERENCE_IPV6: readonly (readonly [string, string])[] = [
  ['::1', '78ff:f001:9fc0:20df:8380:b1f1:704:ed'],
  ['::2', '78ff:f001:9fc0:20df:8380:b1f1:704:ef'],
  ['::ffff', '78ff:f001:9fc0:20df:8380:b1f1:704:f838'],
  ['2001:db8::1', '4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e'],
  ['2001:db8::2', '4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1c'],
];

function commonPrefix32(a: number, b: number): number {
  const diff = (a ^ b) >>> 0;
  return diff === 0 ? 32 : Math.clz32(diff);
}

function toBig(words: ArrayLike<number>): bigint {
  let value = 0n;
  for (let word = 0; word < 4; word++) value = (value << 32n) | BigInt(words[word]! >>> 0);
  return value;
}

function fromBig(value: bigint): Uint32Array {
  const words = new Uint32Array(4);
  for (let word = 3; word >= 0; word--) {
    words[word] = Number(value & 0xffffffffn);
    value >>= 32n;
  }
  return words;
}

function commonPrefix128(a: bigint, b: bigint): number {
  const diff = a ^ b;
  return diff === 0n ? 128 : 128 - diff.toString(2).length;
}

/** `a` with bit `k` (0 = most significant) flipped and the bits after it taken from `noise`. */
function sibling32(a: number, k: number, noise: number): number {
  const keep = k === 0 ? 0 : (0xffffffff << (32 - k)) >>> 0;
  const flip = 1 << (31 - k);
  return (((a & keep) | (noise & ~keep)) ^ (((a ^ noise) & flip) ^ flip)) >>> 0;
}

function sibling128(a: bigint, k: number, noise: bigint): bigint {
  const all = (1n << 128n) - 1n;
  const keep = k === 0 ? 0n : (all << BigInt(128 - k)) & all;
  const flip = 1n << BigInt(127 - k);
  return (((a & keep) | (noise & ~keep & all)) & ~flip) | (~a & flip);
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u128 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });

describe('Crypto-PAn, IPv4', () => {
  const pan = new CryptoPan(SAMPLE_KEY);

  it('matches every address of the reference sample trace', () => {
    const got = REFERENCE_IPV4.map(([raw]) => [raw, formatIpv4(pan.anonymizeIpv4(parseV4(raw)))]);
    expect(got).toEqual(REFERENCE_IPV4);
  });

  it('keeps exactly the shared prefix length of any two addresses', () => {
    fc.assert(
      fc.property(u32, fc.integer({ min: 0, max: 31 }), u32, (a, k, noise) => {
        const b = sibling32(a, k, noise);
        expect(commonPrefix32(a, b)).toBe(k);
        expect(commonPrefix32(pan.anonymizeIpv4(a), pan.anonymizeIpv4(b))).toBe(k);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(u32, u32, (a, b) => {
        expect(commonPrefix32(pan.anonymizeIpv4(a), pan.anonymizeIpv4(b))).toBe(commonPrefix32(a, b));
      }),
      { numRuns: 1000 },
    );
  });

  it('maps 10 000 distinct addresses to 10 000 distinct addresses', () => {
    const random = seededRandom(4);
    const inputs = new Set<number>();
    while (inputs.size < 10_000) inputs.add(Math.floor(random() * 2 ** 32));
    const outputs = new Set([...inputs].map((a) => pan.anonymizeIpv4(a)));
    expect(outputs.size).toBe(10_000);
    // A whole /18 is permuted onto one /18: prefix preservation plus injectivity.
    const base = parseV4('10.20.0.0');
    const block = new Set<number>();
    for (let low = 0; low < 1 << 14; low++) block.add(pan.anonymizeIpv4(base + low) >>> 14);
    expect(block.size).toBe(1);
  });

  it('gives the same mapping for the same key and a different one for another key', () => {
    const again = new CryptoPan(Uint8Array.from(SAMPLE_KEY));
    const otherKey = Uint8Array.from(SAMPLE_KEY);
    otherKey[31] ^= 1; // only the pad differs
    const otherPad = new CryptoPan(otherKey);
    const otherAes = new CryptoPan(Uint8Array.from(SAMPLE_KEY, (byte, index) => (index === 0 ? byte ^ 0x80 : byte)));
    const random = seededRandom(5);
    let samePad = 0;
    let sameAes = 0;
    for (let index = 0; index < 1000; index++) {
      const a = Math.floor(random() * 2 ** 32);
      expect(again.anonymizeIpv4(a)).toBe(pan.anonymizeIpv4(a));
      if (otherPad.anonymizeIpv4(a) === pan.anonymizeIpv4(a)) samePad++;
      if (otherAes.anonymizeIpv4(a) === pan.anonymizeIpv4(a)) sameAes++;
    }
    expect(samePad).toBe(0);
    expect(sameAes).toBe(0);
  });

  it('agrees with its byte interface and leaves the key untouched', () => {
    const key = Uint8Array.from(SAMPLE_KEY);
    const withCopy = new CryptoPan(key);
    expect(key).toEqual(SAMPLE_KEY);
    expect(Array.from(withCopy.anonymizeBytes(Uint8Array.of(128, 11, 68, 132)))).toEqual([135, 242, 180, 132]);
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => new CryptoPan(new Uint8Array(16))).toThrow(/32 bytes, got 16/);
    expect(() => new CryptoPan(new Uint8Array(33))).toThrow(/32 bytes, got 33/);
  });
});

describe('Crypto-PAn, IPv6', () => {
  const pan = new CryptoPan(SAMPLE_KEY);

  it('matches the published 128-bit vectors', () => {
    const got = REFERENCE_IPV6.map(([raw]) => [raw, formatIpv6(pan.anonymizeIpv6(parseV6(raw)))]);
    expect(got).toEqual(REFERENCE_IPV6);
    const bytes = pan.anonymizeBytes(Uint8Array.from(Buffer.from('20010db8000000000000000000000001', 'hex')));
    expect(Buffer.from(bytes).toString('hex')).toBe('440102bc603fd91d027fff8ee6f1dc1e');
  });

  it('keeps exactly the shared prefix length of any two addresses', () => {
    fc.assert(
      fc.property(u128, fc.integer({ min: 0, max: 127 }), u128, (a, k, noise) => {
        const b = sibling128(a, k, noise);
        expect(commonPrefix128(a, b)).toBe(k);
        expect(commonPrefix128(toBig(pan.anonymizeIpv6(fromBig(a))), toBig(pan.anonymizeIpv6(fromBig(b))))).toBe(k);
      }),
      { numRuns: 1000 },
    );
  });

  it('maps 10 000 distinct addresses of one /64 to 10 000 distinct addresses of one /64', () => {
    const random = seededRandom(6);
    const prefix = toBig(parseV6('2a03:2880:f10c:83::')) >> 64n;
    const inputs = new Set<bigint>();
    while (inputs.size < 10_000) inputs.add((prefix << 64n) | (BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32)));
    const outputs = [...inputs].map((a) => toBig(pan.anonymizeIpv6(fromBig(a))));
    expect(new Set(outputs).size).toBe(10_000);
    expect(new Set(outputs.map((a) => a >> 64n)).size).toBe(1);
    expect(outputs[0]! >> 64n).not.toBe(prefix);
  });

  it('gives the same mapping for the same key and a different one for another key', () => {
    const again = new CryptoPan(Uint8Array.from(SAMPLE_KEY));
    const other = new CryptoPan(Uint8Array.from(SAMPLE_KEY, (byte, index) => (index === 20 ? byte ^ 1 : byte)));
    for (const [raw] of REFERENCE_IPV6) {
      expect(again.anonymizeIpv6(parseV6(raw))).toEqual(pan.anonymizeIpv6(parseV6(raw)));
      expect(other.anonymizeIpv6(parseV6(raw))).not.toEqual(pan.anonymizeIpv6(parseV6(raw)));
    }
  });
});
