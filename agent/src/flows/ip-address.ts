/**
 * Text forms of addresses held as 32-bit words (network order), as Wireshark prints them: tshark
 * formats IPv6 with the C library's inet_ntop (glibc on Linux), whose output is RFC 5952's except
 * for the dotted IPv4 tail it gives IPv4-compatible (::a.b.c.d) as well as IPv4-mapped addresses.
 * Keeping to it makes `cumma flows` agree with tshark text for text. (The Wireshark plugin
 * parses either form to bytes, and the VS Code extension formats with this same function.)
 */

export function formatIpv4(word: number): string {
  return `${word >>> 24}.${(word >>> 16) & 0xff}.${(word >>> 8) & 0xff}.${word & 0xff}`;
}

/**
 * RFC 5952: lowercase, no leading zeros, the longest run of two or more zero groups (the first of
 * equal ones) as "::". As glibc's inet_ntop, the last 32 bits are dotted when the compressed run
 * is exactly the first five groups followed by ffff (IPv4-mapped, ::ffff:1.2.3.4) or exactly the
 * first six (IPv4-compatible, ::1.2.3.4; not ::1 or ::ffff, where it is seven).
 */
export function formatIpv6(words: ArrayLike<number>): string {
  const groups = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let word = 0; word < 4; word++) {
    groups[word * 2] = words[word]! >>> 16;
    groups[word * 2 + 1] = words[word]! & 0xffff;
  }
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0) {
    if (groups[5] === 0xffff) return `::ffff:${formatIpv4(words[3]! >>> 0)}`;
    if (groups[5] === 0 && groups[6] !== 0) return `::${formatIpv4(words[3]! >>> 0)}`;
  }
  let bestStart = -1;
  let bestLength = 0;
  for (let index = 0; index < 8; ) {
    if (groups[index] !== 0) {
      index++;
      continue;
    }
    let end = index;
    while (end < 8 && groups[end] === 0) end++;
    if (end - index > bestLength) {
      bestStart = index;
      bestLength = end - index;
    }
    index = end;
  }
  if (bestLength < 2) return hexGroups(groups, 0, 8);
  return `${hexGroups(groups, 0, bestStart)}::${hexGroups(groups, bestStart + bestLength, 8)}`;
}

function hexGroups(groups: readonly number[], from: number, to: number): string {
  let text = '';
  for (let index = from; index < to; index++) text += (index > from ? ':' : '') + groups[index]!.toString(16);
  return text;
}
