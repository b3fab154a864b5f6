/**
 * Reads the flow counts out of the peers' human-readable reports (tshark's conversation
 * tables, ndpiReader's summary), for the benchmark's sanity check and the generator's tests.
 */

export interface ConversationCounts {
  tcp: number;
  udp: number;
}

/** Counts the rows of `tshark -q -z conv,tcp -z conv,udp` per table. */
export function countTsharkConversations(report: string): ConversationCounts {
  const counts: ConversationCounts = { tcp: 0, udp: 0 };
  let table: keyof ConversationCounts | undefined;
  for (const line of report.split('\n')) {
    const title = /^(TCP|UDP) Conversations/.exec(line);
    if (title) table = title[1] === 'TCP' ? 'tcp' : 'udp';
    else if (line.startsWith('====')) table = undefined;
    else if (table && line.includes('<->')) counts[table]++;
  }
  return counts;
}

/** The "Unique flows:" figure of ndpiReader's traffic statistics, if present. */
export function ndpiUniqueFlows(report: string): number | undefined {
  const match = /Unique flows:\s+(\d+)/.exec(report);
  return match ? Number(match[1]) : undefined;
}
