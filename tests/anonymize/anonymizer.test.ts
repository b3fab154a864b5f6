import { describe, expect, it } from 'vitest';
import { IpAnonymizer, parseIpv4, parseIpv6 } from '../../agent/src/anonymize/anonymizer';
import { seededRandom } from '../support/random-capture';
import { SAMPLE_KEY } from './support';

const anonymizer = new IpAnonymizer(SAMPLE_KEY);

describe('IpAnonymizer on address text', () => {
  it('maps dotted IPv4 and IPv6 text as Crypto-PAn does', () => {
    expect(anonymizer.anonymize('128.11.68.132')).toBe('135.242.180.132');
    expect(anonymizer.anonymize('64.39.15.238')).toBe('0.219.7.41');
    expect(anonymizer.anonymize('2001:db8::1')).toBe('4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e');
    expect(anonymizer.anonymize('::1')).toBe('78ff:f001:9fc0:20df:8380:b1f1:704:ed');
  });

  it('reads any IPv6 text form and prints the RFC 5952 form', () => {
    const canonical = anonymizer.anonymize('2001:db8::1');
    for (const form of ['2001:DB8::1', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8:0:0:0:0:0:1', '2001:db8::0:1', '2001:db8::0.0.0.1']) {
      expect(anonymizer.anonymize(form)).toBe(canonical);
    }
    const random = seededRandom(11);
    for (let index = 0; index < 500; index++) {
      // Sparse groups so that zero runs (and "::") occur often.
      const groups = Array.from({ length: 8 }, () => (random() < 0.5 ? 0 : Math.floor(random() * 0x10000)));
      const out = anonymizer.anonymize(groups.map((group) => group.toString(16)).join(':'));
      expect(out).toMatch(/^[0-9a-f:.]+$/);
      expect(out).not.toMatch(/(^|:)0[0-9a-f]/); // no leading zeros
      expect(out.split('::').length).toBeLessThanOrEqual(2);
      expect(anonymizer.anonymize(out.toUpperCase())).toBe(anonymizer.anonymize(out));
      // Canonical text survives a round trip through the parser unchanged in meaning.
      expect(parseIpv6(out)).toBeDefined();
    }
  });

  it('maps the IPv4 part of ::ffff:a.b.c.d as IPv4 and keeps the mapped prefix', () => {
    expect(anonymizer.anonymize('::ffff:128.11.68.132')).toBe('::ffff:135.242.180.132');
    expect(anonymizer.anonymize('::FFFF:800b:4484')).toBe('::ffff:135.242.180.132');
    expect(anonymizer.anonymize('0:0:0:0:0:ffff:64.39.15.238')).toBe('::ffff:0.219.7.41');
    // Other embeddings are ordinary IPv6 addresses.
    expect(anonymizer.anonymize('64:ff9b::128.11.68.132')).not.toContain('.');
  });

  it('keeps a zone identifier and refuses text that is not an address', () => {
    expect(anonymizer.anonymize('fe80::1%eth0')).toBe(`${anonymizer.anonymize('fe80::1')}%eth0`);
    for (const bad of ['', 'localhost', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.4:80', ' 1.2.3.4', '1::2::3', ':::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', '::g', 'fe80::1%', '1.2.3.4::', '::1.2.3', '[::1]']) {
      expect(() => anonymizer.anonymize(bad), bad).toThrow(/not a dotted IPv4 or an IPv6 address/);
    }
  });

  it('parses the forms RFC 4291 allows', () => {
    expect(parseIpv4('0.0.0.0')).toBe(0);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(Array.from(parseIpv6('::')!)).toEqual([0, 0, 0, 0]);
    expect(Array.from(parseIpv6('1:2:3:4:5:6:7::')!)).toEqual([0x10002, 0x30004, 0x50006, 0x70000]);
    expect(Array.from(parseIpv6('::2:3:4:5:6:7:8')!)).toEqual([0x2, 0x30004, 0x50006, 0x70008]);
    expect(Array.from(parseIpv6('1:2:3:4:5:6:1.2.3.4')!)).toEqual([0x10002, 0x30004, 0x50006, 0x01020304]);
  });

  it('gives the same mapping with or without its memo, and keeps the memo bounded', () => {
    const small = new IpAnonymizer(SAMPLE_KEY, { cacheSize: 8 });
    const none = new IpAnonymizer(SAMPLE_KEY, { cacheSize: 0 });
    const random = seededRandom(12);
    const addresses = Array.from({ length: 50 }, () => `10.${Math.floor(random() * 4)}.${Math.floor(random() * 4)}.${Math.floor(random() * 4)}`);
    for (const address of [...addresses, ...addresses]) {
      expect(small.anonymize(address)).toBe(anonymizer.anonymize(address));
      expect(none.anonymize(address)).toBe(anonymizer.anonymize(address));
    }
    expect((small as unknown as { cache: Map<string, string> }).cache.size).toBeLessThanOrEqual(8);
    expect((none as unknown as { cache: Map<string, string> }).cache.size).toBe(0);
  });

  it('different keys give different mappings', () => {
    const other = new IpAnonymizer(Uint8Array.from(SAMPLE_KEY, (byte, index) => (index === 5 ? byte ^ 4 : byte)));
    expect(other.anonymize('128.11.68.132')).not.toBe('135.242.180.132');
    expect(other.anonymize('2001:db8::1')).not.toBe(anonymizer.anonymize('2001:db8::1'));
  });
});

describe('anonymised records', () => {
  interface Endpoint {
    ip: string;
    port: number;
  }
  interface Record {
    l4: 'tcp' | 'udp';
    client: Endpoint;
    server: Endpoint;
    firstUs: number;
    lastUs: number;
    packets: { up: number; down: number };
    bytes: { up: number; down: number };
    usage: string;
  }

  /** Realistic endpoints: a few client LANs and server blocks, both families, some mapped. */
  function randomRecords(count: number, seed: number): Record[] {
    const random = seededRandom(seed);
    const pick = (n: number): number => Math.floor(random() * n);
    const address = (): string => {
      const kind = pick(6);
      if (kind === 0) return `192.168.${pick(3)}.${1 + pick(254)}`;
      if (kind === 1) return `10.${pick(4)}.${pick(256)}.${pick(256)}`;
      if (kind === 2) return `157.240.${pick(256)}.${pick(256)}`;
      if (kind === 3) return `::ffff:31.13.${pick(256)}.${pick(256)}`;
      if (kind === 4) return `2a03:2880:f1${pick(16).toString(16)}:${pick(0x10000).toString(16)}:face:b00c:0:${pick(0x10000).toString(16)}`;
      return `2001:db8:${pick(4).toString(16)}::${pick(0x10000).toString(16)}`;
    };
    return Array.from({ length: count }, (_, index) => ({
      l4: random() < 0.5 ? 'tcp' : 'udp',
      client: { ip: address(), port: 1024 + pick(60000) },
      server: { ip: address(), port: [443, 5222, 3478][pick(3)]! },
      firstUs: 1_700_000_000_000_000 + index * 1000,
      lastUs: 1_700_000_000_000_000 + index * 1000 + pick(1e6),
      packets: { up: pick(100), down: pick(100) },
      bytes: { up: pick(1e5), down: pick(1e5) },
      usage: 'text',
    }));
  }

  /** Every address-shaped token of a text, and the dotted tail of mapped ones. */
  function addressTokens(text: string): Set<string> {
    const tokens = new Set<string>();
    for (const token of text.split(/[^0-9a-fA-F.:%]+/)) {
      if (token === '') continue;
      tokens.add(token);
      const tail = token.slice(token.lastIndexOf(':') + 1);
      if (tail.includes('.')) tokens.add(tail);
    }
    return tokens;
  }

  it('leave none of the original addresses anywhere in the output text', () => {
    const records = randomRecords(2000, 21);
    const originals = new Set<string>();
    for (const record of records) {
      for (const ip of [record.client.ip, record.server.ip]) {
        originals.add(ip);
        originals.add(ip.toLowerCase());
        if (ip.startsWith('::ffff:')) originals.add(ip.slice('::ffff:'.length));
      }
    }
    expect(originals.size).toBeGreaterThan(3000);
    const input = records.map((record) => JSON.stringify(record)).join('\n');
    // The check itself finds the originals in the unanonymised text.
    const inputTokens = addressTokens(input);
    for (const ip of originals) expect(inputTokens.has(ip), ip).toBe(true);

    const output = records.map((record) => JSON.stringify(anonymizer.anonymizeEndpoints(record))).join('\n');
    const outputTokens = addressTokens(output);
    const survivors = [...originals].filter((ip) => outputTokens.has(ip) || output.includes(`"${ip}"`));
    expect(survivors).toEqual([]);

    // Only the addresses changed: ports, counts and times are intact, and the mapping is consistent.
    const back = output.split('\n').map((line) => JSON.parse(line) as Record);
    back.forEach((record, index) => {
      const original = records[index]!;
      expect({ ...record, client: { ...record.client, ip: '' }, server: { ...record.server, ip: '' } }).toEqual({
        ...original,
        client: { ...original.client, ip: '' },
        server: { ...original.server, ip: '' },
      });
      expect(record.client.ip).toBe(anonymizer.anonymize(original.client.ip));
    });
    // Distinct addresses stay distinct.
    const pairs = new Map<string, string>();
    back.forEach((record, index) => {
      pairs.set(records[index]!.client.ip, record.client.ip);
      pairs.set(records[index]!.server.ip, record.server.ip);
    });
    expect(new Set(pairs.values()).size).toBe(pairs.size);
  });
});
