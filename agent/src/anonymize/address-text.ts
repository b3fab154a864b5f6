/**
 * Anonymisation of addresses inside free text: capture names (dumpcap writes files such as
 * `10.0.0.5.pcapng`) and messages that quote an address. Every IPv4/IPv6 address in the text is
 * replaced by its Crypto-PAn image, so text that travels with anonymised records does not undo
 * them by naming the original next to its image.
 */
import { isIP } from 'node:net';
import { IpAnonymizer } from './anonymizer';

/**
 * IPv6-looking runs (hex, colons, a dotted tail) or runs of four or more dotted numbers. Such a
 * run may hold more than the address (a port or a colon after it, "fe80::1: timeout"; a word
 * before it, "host:2001:db8::1"; a full stop), so inside it the longest IPv6 address at each
 * position is looked for, and what is left is searched again for dotted numbers, so
 * "x:10.0.0.1" still loses its address.
 */
const ADDRESS_LIKE = /[0-9A-Fa-f]*:[0-9A-Fa-f:.]+|\d+(?:\.\d+){3,}/g;
const DOTTED_NUMBERS = /\d+(?:\.\d+){3,}/g;
/** Longest IPv6 text: eight groups of four and seven colons, or 45 with a dotted IPv4 tail. */
const MAX_IPV6_TEXT = 45;

/** `input` with every IPv4 and IPv6 address in it replaced by its image under `anonymizer`. */
export function anonymizeAddressesInText(anonymizer: IpAnonymizer, input: string): string {
  const tryAnonymize = (candidate: string): string | undefined => {
    try {
      return anonymizer.anonymize(candidate);
    } catch {
      return undefined;
    }
  };
  /**
   * A run of dotted numbers with the addresses in it replaced. Its numbers are taken whole (the
   * 24 of 2024 is not an octet), and any four in a row may be an address: "2024.01.15.10.1.2.3"
   * and "run300.10.1.2.3" hold 10.1.2.3 after numbers that make no address with it. Where
   * addresses overlap, only one can be replaced: the last, since names put dates, versions and
   * run numbers before an address more often than after it. Every address of the run loses at
   * least one of its numbers to an image.
   */
  const dotted = (run: string): string => {
    const numbers = run.split('.');
    const out: string[] = [];
    let end = numbers.length;
    while (end >= 4) {
      const image = tryAnonymize(numbers.slice(end - 4, end).join('.'));
      out.unshift(image ?? numbers[end - 1]!);
      end -= image === undefined ? 1 : 4;
    }
    return [...numbers.slice(0, end), ...out].join('.');
  };
  const quads = (part: string): string => part.replace(DOTTED_NUMBERS, dotted);
  /** The run with every IPv6 address in it (longest first, left to right) replaced, then dotted numbers. */
  const run = (match: string): string => {
    if (!match.includes(':')) return dotted(match);
    let out = '';
    let plain = 0; // start of the text not yet copied to out
    let at = 0;
    while (at < match.length) {
      let end = 0;
      for (let stop = Math.min(match.length, at + MAX_IPV6_TEXT); stop > at + 1; stop--) {
        if (isIP(match.slice(at, stop)) === 6) {
          end = stop;
          break;
        }
      }
      const image = end > 0 ? tryAnonymize(match.slice(at, end)) : undefined;
      if (image === undefined) {
        at += 1;
        continue;
      }
      out += quads(match.slice(plain, at)) + image;
      plain = at = end;
    }
    return out + quads(match.slice(plain));
  };
  return input.replace(ADDRESS_LIKE, run);
}
