/** Shared by the anonymisation tests. */
import { parseIpv4, parseIpv6 } from '../../agent/src/anonymize/anonymizer';

/** The sample key of the Crypto-PAn 1.0 reference distribution (sample.cpp). */
export const SAMPLE_KEY = Uint8Array.of(
  21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16,
  216, 152, 143, 131, 121, 121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2,
);

export function parseV4(text: string): number {
  const value = parseIpv4(text);
  if (value === undefined) throw new Error(`test bug: bad IPv4 '${text}'`);
  return value;
}

export function parseV6(text: string): Uint32Array {
  const value = parseIpv6(text);
  if (value === undefined) throw new Error(`test bug: bad IPv6 '${text}'`);
  return value;
}
