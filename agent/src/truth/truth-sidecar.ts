/**
 * The truth sidecar `OUT.pcapng.truth.jsonl` that the simulator and the recorder write beside a
 * capture: one line per (flow, session, dialog) with the flow's endpoints, the usage, first and
 * last packet times and per-direction packet and byte counts (original frame lengths, as
 * `cumma flows` counts them, so the sidecar's sums equal the flows' totals). Flows are oriented
 * as `cumma flows` orients them (DESIGN.md): the client is the TCP SYN sender; for UDP the
 * sender of the first captured datagram, which may be the server.
 */
import { Endpoint } from '../flows/flow-record';
import { UsageClass } from '../labels';
import { TruthTag } from '../simulate/traffic-script';
import { formatTruthComment } from './truth-comment';

export interface UpDown {
  up: number;
  down: number;
}

/** One line of the sidecar. Field order is the file's order. */
export interface TruthRecord {
  /** File name of the capture (no directory). */
  readonly capture: string;
  readonly l4: 'tcp' | 'udp';
  readonly client: Endpoint;
  readonly server: Endpoint;
  readonly session: number;
  readonly dialog: number;
  readonly usage: UsageClass;
  /** First and last packet of this dialog on this flow, µs since the Unix epoch. */
  readonly startUs: number;
  readonly endUs: number;
  readonly packets: UpDown;
  readonly bytes: UpDown;
}

/** A flow as a traffic script defines it (client = the phone's side); one object per connection. */
export interface TruthFlow {
  readonly l4: 'tcp' | 'udp';
  readonly client: Endpoint;
  readonly server: Endpoint;
}

export function truthSidecarPath(capturePath: string): string {
  return `${capturePath}.truth.jsonl`;
}

export function truthJsonl(records: readonly TruthRecord[]): string {
  return records.map((record) => `${JSON.stringify(record)}\n`).join('');
}

interface Group {
  readonly flow: TruthFlow;
  readonly tag: TruthTag;
  startUs: number;
  endUs: number;
  /** As the script orients them: phone → server (up) and back. */
  readonly packets: UpDown;
  readonly bytes: UpDown;
}

interface FlowGroups {
  /** Fast path: scripts reuse one tag object for all packets of a dialog. */
  readonly byTag: Map<TruthTag, Group>;
  /** Equal tags in different objects still meet here. */
  readonly byValue: Map<string, Group>;
  /** Whether the flow's first packet came from the server side of the script. */
  readonly serverFirst: boolean;
}

/** Accumulates per-packet truth in capture order: a few objects per dialog, none per packet. */
export class TruthTable {
  private readonly groups: Group[] = [];
  private readonly flows = new Map<TruthFlow, FlowGroups>();
  private readonly comments = new Map<TruthTag, string>();

  constructor(private readonly capture: string) {}

  /** The packet comment for `tag`, built once per tag object. */
  comment(tag: TruthTag): string {
    let text = this.comments.get(tag);
    if (text === undefined) {
      text = formatTruthComment(tag);
      this.comments.set(tag, text);
    }
    return text;
  }

  /** Adds one packet; call in capture order. */
  add(flow: TruthFlow, tag: TruthTag, direction: 'up' | 'down', timeUs: number, frameBytes: number): void {
    let groups = this.flows.get(flow);
    if (groups === undefined) {
      groups = { byTag: new Map(), byValue: new Map(), serverFirst: direction === 'down' };
      this.flows.set(flow, groups);
    }
    let group = groups.byTag.get(tag);
    if (group === undefined) {
      const key = `${tag.session} ${tag.dialog} ${tag.usage}`;
      group = groups.byValue.get(key);
      if (group === undefined) {
        group = { flow, tag, startUs: timeUs, endUs: timeUs, packets: { up: 0, down: 0 }, bytes: { up: 0, down: 0 } };
        groups.byValue.set(key, group);
        this.groups.push(group);
      }
      groups.byTag.set(tag, group);
    }
    if (timeUs < group.startUs) group.startUs = timeUs;
    if (timeUs > group.endUs) group.endUs = timeUs;
    group.packets[direction]++;
    group.bytes[direction] += frameBytes;
  }

  /** Records in the order their first packet was captured. */
  records(): TruthRecord[] {
    return this.groups.map((group) => {
      const { flow } = group;
      const flip = flow.l4 === 'udp' && this.flows.get(flow)!.serverFirst;
      const swap = (counts: UpDown): UpDown => (flip ? { up: counts.down, down: counts.up } : { ...counts });
      const client = flip ? flow.server : flow.client;
      const server = flip ? flow.client : flow.server;
      return {
        capture: this.capture,
        l4: flow.l4,
        client: { ip: client.ip, port: client.port },
        server: { ip: server.ip, port: server.port },
        session: group.tag.session,
        dialog: group.tag.dialog,
        usage: group.tag.usage,
        startUs: group.startUs,
        endUs: group.endUs,
        packets: swap(group.packets),
        bytes: swap(group.bytes),
      };
    });
  }
}
