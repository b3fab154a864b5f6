// Canonical text forms of IP addresses, so that tshark's and cumma's spellings of the same
// address produce the same 5-tuple key. Both tools should already print RFC 5952 for IPv6, but
// the reference must not depend on that: it normalises every address, and a separate check
// (isRfc5952) reports cumma output that is not in the contract's form.

const IPV4_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses dotted-quad IPv4 into 4 octets, or undefined when it is not one. */
export function parseIpv4(text: string): number[] | undefined {
  const match = IPV4_PATTERN.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  return octets.every((o) => o <= 255) ? octets : undefined;
}

/** Parses any textual IPv6 form (with '::' and an optional dotted IPv4 tail) into 8 groups. */
export function parseIpv6(text: string): number[] | undefined {
  const halves = text.toLowerCase().split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0] ?? '');
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  // '::' stands for at least one zero group (RFC 4291 §2.2).
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

function parseGroups(text: string): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (const [index, part] of parts.entries()) {
    const isLast = index === parts.length - 1;
    const v4 = isLast ? parseIpv4(part) : undefined;
    if (v4) {
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else if (/^[0-9a-f]{1,4}$/.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

/**
 * RFC 5952 text of 8 groups: lowercase, no leading zeros, the longest run (≥ 2) of zero groups
 * replaced by '::' (the first one on ties). IPv4-mapped addresses stay in hex here; the mixed
 * spelling RFC 5952 §5 recommends is accepted separately by isRfc5952.
 */
export function formatIpv6(groups: readonly number[]): string {
  const run = longestZeroRun(groups);
  const hex = groups.map((g) => g.toString(16));
  if (run.length < 2) return hex.join(':');
  const before = hex.slice(0, run.start).join(':');
  const after = hex.slice(run.start + run.length).join(':');
  return `${before}::${after}`;
}

function longestZeroRun(groups: readonly number[]): { start: number; length: number } {
  let best = { start: 0, length: 0 };
  let start = -1;
  for (let i = 0; i <= groups.length; i++) {
    if (i < groups.length && groups[i] === 0) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0 && i - start > best.length) best = { start, length: i - start };
    start = -1;
  }
  return best;
}

/** One spelling per address: dotted quad for IPv4, RFC 5952 (hex tail) for IPv6. */
export function canonicalIp(text: string): string | undefined {
  const v4 = parseIpv4(text);
  if (v4) return v4.join('.');
  const v6 = parseIpv6(text);
  return v6 ? formatIpv6(v6) : undefined;
}

/** True when text is exactly how the flow-record contract says an address is printed. */
export function isRfc5952(text: string): boolean {
  const v4 = parseIpv4(text);
  if (v4) return v4.join('.') === text;
  const v6 = parseIpv6(text);
  if (!v6) return false;
  return text === formatIpv6(v6) || text === mixedMappedForm(v6);
}

// ::ffff:a.b.c.d, the mixed notation RFC 5952 §5 recommends for IPv4-mapped addresses.
function mixedMappedForm(groups: readonly number[]): string | undefined {
  const isMapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (!isMapped) return undefined;
  const [hi, lo] = [groups[6]!, groups[7]!];
  return `::ffff:${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}
