import { describe, it, expect } from 'vitest';
import { formatIpv4, formatIpv6 } from '../../agent/src/flows/ip-address';
import { seededRandom } from '../support/random-capture';

/** Eight 16-bit groups to the four big-endian 32-bit words the flow table keeps. */
function wordsOf(groups: readonly number[]): Uint32Array {
  expect(groups).toHaveLength(8);
  const words = new Uint32Array(4);
  for (let word = 0; word < 4; word++) words[word] = ((groups[word * 2]! << 16) | groups[word * 2 + 1]!) >>> 0;
  return words;
}

/** Full, uncompressed text ("2001:0db8:0:0:…"), parsed without any shared code. */
function parseFull(text: string): number[] {
  const groups = text.split(':').map((group) => parseInt(group, 16));
  expect(groups).toHaveLength(8);
  return groups;
}

describe('formatIpv4', () => {
  it.each([
    [0x00000000, '0.0.0.0'],
    [0x0a000001, '10.0.0.1'],
    [0xc0a80101, '192.168.1.1'],
    [0x7f000001, '127.0.0.1'],
    [0xffffffff, '255.255.255.255'],
    [0x01020304, '1.2.3.4'],
  ])('prints the word %i as %s', (word, text) => {
    expect(formatIpv4(word)).toBe(text);
  });

  it('prints a word stored as a negative 32-bit integer the same as its unsigned value', () => {
    expect(formatIpv4(0xc0a80101 | 0)).toBe('192.168.1.1');
  });
});

describe('formatIpv6 (RFC 5952)', () => {
  it.each([
    ['0:0:0:0:0:0:0:0', '::', 'all zeros become ::'],
    ['0:0:0:0:0:0:0:1', '::1', 'loopback'],
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1', 'the zero run is compressed'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1', 'the longest zero run is compressed, not the first'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1', 'of equal runs the first is compressed'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1', 'a single zero group is not compressed'],
    ['0:0:0:0:1:2:3:4', '::1:2:3:4', 'a leading run'],
    ['1:2:3:4:0:0:0:0', '1:2:3:4::', 'a trailing run'],
    ['2001:db8:0:0:0:0:0:0', '2001:db8::', 'a trailing run of six'],
    ['1:0:0:0:0:0:0:0', '1::', 'a trailing run of seven'],
    ['1:2:3:4:5:6:0:0', '1:2:3:4:5:6::', 'a trailing run of two'],
    ['0:0:1:2:3:4:5:6', '::1:2:3:4:5:6', 'a leading run of two'],
    ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0', 'only single zero groups'],
    ['2001:0DB8:00AB:000C:0:0:0:1', '2001:db8:ab:c::1', 'lowercase hex without leading zeros'],
    ['ABCD:EF01:2345:6789:ABCD:EF01:2345:6789', 'abcd:ef01:2345:6789:abcd:ef01:2345:6789', 'no zeros at all, lowercase'],
    ['fe80:0:0:0:0:0:0:a', 'fe80::a', 'link-local'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'all ones'],
  ])('prints %s as %s (%s)', (full, expected) => {
    expect(formatIpv6(wordsOf(parseFull(full)))).toBe(expected);
  });

  it('keeps the dotted IPv4 tail of an IPv4-mapped address', () => {
    expect(formatIpv6(wordsOf(parseFull('0:0:0:0:0:ffff:c000:0201')))).toBe('::ffff:192.0.2.1');
    expect(formatIpv6(wordsOf(parseFull('0:0:0:0:0:ffff:0:0')))).toBe('::ffff:0.0.0.0');
  });

  it('prints an address that only resembles an IPv4-mapped one in hex', () => {
    expect(formatIpv6(wordsOf(parseFull('0:0:0:0:1:ffff:c000:0201')))).toBe('::1:ffff:c000:201');
    expect(formatIpv6(wordsOf(parseFull('0:0:0:0:0:fffe:c000:0201')))).toBe('::fffe:c000:201');
  });

  it('reads the four words from any array-like, such as a slice of a larger word array', () => {
    const table = new Uint32Array([0xdeadbeef, 0x20010db8, 0, 0, 1, 0xdeadbeef]);
    expect(formatIpv6(table.subarray(1, 5))).toBe('2001:db8::1');
    expect(formatIpv6([0x20010db8, 0, 0, 1])).toBe('2001:db8::1');
  });
});

// ---- against WHATWG URL -----------------------------------------------------------------------


/** Random groups with random zero runs: each group is zero, tiny or anything, so runs of every length occur. */
function randomGroups(random: () => number): number[] {
  const groups: number[] = [];
  while (groups.length < 8) {
    const roll = random();
    if (roll < 0.35) {
      const run = 1 + Math.floor(random() * 4);
      for (let index = 0; index < run && groups.length < 8; index++) groups.push(0);
    } else if (roll < 0.55) {
      groups.push(1 + Math.floor(random() * 15));
    } else {
      groups.push(1 + Math.floor(random() * 0xffff));
    }
  }
  return groups;
}

const isIpv4Mapped = (groups: readonly number[]): boolean => groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
/** ::a.b.c.d: six zero groups, then a non-zero seventh (with a zero seventh the run is longer). */
const isIpv4Compatible = (groups: readonly number[]): boolean => groups.slice(0, 6).every((group) => group === 0) && groups[6] !== 0;

/** The WHATWG URL serialiser compresses IPv6 hosts as RFC 5952 does; it returns "[addr]". */
function urlForm(groups: readonly number[]): string {
  const full = groups.map((group) => group.toString(16).padStart(4, '0').toUpperCase()).join(':');
  const hostname = new URL(`http://[${full}]/`).hostname;
  return hostname.slice(1, -1);
}

describe('formatIpv6 against WHATWG URL serialisation', () => {
  it('agrees with new URL() on a few thousand random addresses with random zero runs', () => {
    const random = seededRandom(5952);
    const disagreements: string[] = [];
    let compressed = 0;
    for (let index = 0; index < 4000; index++) {
      const groups = randomGroups(random);
      if (isIpv4Mapped(groups) || isIpv4Compatible(groups)) continue; // URL prints these in hex; Cumma, as tshark, dotted
      const expected = urlForm(groups);
      if (expected.includes('::')) compressed++;
      const actual = formatIpv6(wordsOf(groups));
      if (actual !== expected && disagreements.length < 5) disagreements.push(`${groups.join(',')}: ${actual} vs URL ${expected}`);
    }
    expect(disagreements).toStrictEqual([]);
    expect(compressed).toBeGreaterThan(1000); // the sample did exercise compression
  });

  it('agrees with new URL() on every placement of one zero run of every length', () => {
    const disagreements: string[] = [];
    for (let start = 0; start < 8; start++) {
      for (let length = 1; start + length <= 8; length++) {
        const groups = Array.from({ length: 8 }, (_, index) => (index >= start && index < start + length ? 0 : 0x100 + index));
        if (isIpv4Compatible(groups)) continue; // the run of the first six: dotted, as tshark prints it
        const expected = urlForm(groups);
        const actual = formatIpv6(wordsOf(groups));
        if (actual !== expected) disagreements.push(`zeros at ${start}+${length}: ${actual} vs URL ${expected}`);
      }
    }
    expect(disagreements).toStrictEqual([]);
  });

  it('differs from new URL() only on IPv4-mapped and IPv4-compatible addresses, which URL prints in hex', () => {
    expect(urlForm(parseFull('0:0:0:0:0:0:0102:0304'))).toBe('::102:304');
    expect(formatIpv6(wordsOf(parseFull('0:0:0:0:0:0:0102:0304')))).toBe('::1.2.3.4');
    const groups = parseFull('0:0:0:0:0:ffff:0a00:0001');
    expect(urlForm(groups)).toBe('::ffff:a00:1');
    expect(formatIpv6(wordsOf(groups))).toBe('::ffff:10.0.0.1');
  });
});
