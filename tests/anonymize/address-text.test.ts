// Addresses inside free text (capture names, messages): each one replaced by its image, also
// where it is run together with other dotted numbers.
import { describe, expect, it } from 'vitest';
import { anonymizeAddressesInText } from '../../agent/src/anonymize/address-text';
import { IpAnonymizer } from '../../agent/src/anonymize/anonymizer';
import { seededRandom } from '../support/random-capture';
import { SAMPLE_KEY } from './support';

const anonymizer = new IpAnonymizer(SAMPLE_KEY);
const image = (address: string): string => anonymizer.anonymize(address);
const scrub = (text: string): string => anonymizeAddressesInText(anonymizer, text);

describe('addresses in text', () => {
  it('replaces an address that comes right after dotted numbers making no address with it', () => {
    // Found in review: "024.01.15.10" and "300.10.1.2" were tried, failed, and the search went on
    // after them, past the address they overlap.
    expect(scrub('2024.01.15.10.1.2.3.pcap')).toBe(`2024.01.15.${image('10.1.2.3')}.pcap`);
    expect(scrub('run300.10.1.2.3.pcap')).toBe(`run300.${image('10.1.2.3')}.pcap`);
    expect(scrub('2024.01.15.10.1.2.3:443')).toBe(`2024.01.15.${image('10.1.2.3')}:443`);
    expect(scrub('at 999.10.1.2.3, then 1234.5.6.7')).toBe(`at 999.${image('10.1.2.3')}, then 1234.5.6.7`);
  });

  it('replaces every address of a run, and of overlapping ones the last', () => {
    expect(scrub('10.1.2.3.10.1.2.4.pcap')).toBe(`${image('10.1.2.3')}.${image('10.1.2.4')}.pcap`);
    expect(scrub('v1.2.10.1.2.3.pcap')).toBe(`v1.2.${image('10.1.2.3')}.pcap`);
    expect(scrub('2024.11.15.10.1.2.3.pcap')).toBe(`2024.11.15.${image('10.1.2.3')}.pcap`);
    expect(scrub('10.1.2.3:40000.pcap')).toBe(`${image('10.1.2.3')}:40000.pcap`);
    expect(scrub('203.0.113.7-203.0.113.200.pcap')).toBe(`${image('203.0.113.7')}-${image('203.0.113.200')}.pcap`);
    expect(scrub('x:10.0.0.1')).toBe(`x:${image('10.0.0.1')}`);
    expect(scrub('1.2.3 and 10.1.2 are no addresses')).toBe('1.2.3 and 10.1.2 are no addresses');
  });

  it('leaves no address of a run of dotted numbers as it was', () => {
    const random = seededRandom(29);
    const number = (): string => {
      const kind = random();
      if (kind < 0.6) return String(Math.floor(random() * 256));
      if (kind < 0.8) return String(256 + Math.floor(random() * 2000));
      return `0${Math.floor(random() * 10)}`;
    };
    for (let trial = 0; trial < 2000; trial++) {
      const numbers = Array.from({ length: 4 + Math.floor(random() * 6) }, number);
      const text = `cap-${numbers.join('.')}.pcap`;
      const out = scrub(text);
      // Each four numbers in a row that make an address lose at least one of them to an image:
      // none is left standing as it was, between the same neighbours.
      for (let at = 0; at + 4 <= numbers.length; at++) {
        const quad = numbers.slice(at, at + 4).join('.');
        if (!/^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(quad)) continue;
        const before = at === 0 ? 'cap-' : `${numbers[at - 1]}.`;
        const after = at + 4 === numbers.length ? '.pcap' : `.${numbers[at + 4]}`;
        expect(out, `${text} -> ${out}`).not.toContain(`${before}${quad}${after}`);
      }
    }
  });
});
