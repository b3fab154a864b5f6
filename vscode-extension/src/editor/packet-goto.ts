/**
 * "Go to packet…": the packet a typed number names, or briefly what is wrong with it, naming the
 * valid range. No DOM: the webview (main.ts) shows the answer, the tests call it.
 */
export type GotoTarget = { readonly index: number } | { readonly problem: string };

export function gotoTarget(text: string, packets: number): GotoTarget {
  if (packets === 0) return { problem: 'no packets to go to' };
  const range = packets === 1 ? 'only packet 1' : `1–${packets.toLocaleString('en')}`;
  const typed = text.trim();
  // Digits, with the thousands separators the header shows ("1,000") or spaces.
  const digits = typed.replace(/[,\s_]/g, '');
  if (!/^\d+$/.test(digits)) return { problem: typed === '' ? `type a packet number (${range})` : `not a packet number: "${typed.slice(0, 24)}" (${range})` };
  const number = Number(digits);
  if (number < 1 || number > packets) return { problem: `no packet ${number.toLocaleString('en')} (${range})` };
  return { index: number - 1 };
}

/** "Go to packet…" of a packet the usage filter hides: said next to the input, the list left as it is. */
export function hiddenPacketHint(index: number, usage: string | undefined): string {
  return `packet ${(index + 1).toLocaleString('en')} is hidden by the filter (${usage ?? 'unlabelled'})`;
}
