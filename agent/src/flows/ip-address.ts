/** Text forms of addresses held as 32-bit words (network order), as Wireshark prints them. */

export function formatIpv4(word: number): string {
  return `${word >>> 24}.${(word >>> 16) & 0xff}.${(word >>> 8) & 0xff}.${word & 0xff}`;
}

/** RFC 5952: lowercase, no leading zeros, the longest run of two or more zero groups as "::". */
export function formatIpv6(words: ArrayLike<number>): string {
  const groups = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let word = 0; word < 4; word++) {
    groups[word * 2] = words[word]! >>> 16;
    groups[word * 2 + 1] = words[word]! & 0xffff;
  }
  // IPv4-mapped addresses keep their dotted tail, as tools print them.
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `::ffff:${formatIpv4(words[3]! >>> 0)}`;
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
