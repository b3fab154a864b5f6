/** What every connection simulator of one capture shares: the clock, the path, the output. */
import { LinkAddresses, ParsedAddress } from './addresses';
import { CaptureSink, NetworkCounters } from './capture-sink';
import { EventQueue } from './event-queue';
import { SharedLinks } from './links';
import { NetworkConditions } from './network-conditions';

export interface SimulationContext {
  readonly queue: EventQueue;
  readonly links: SharedLinks;
  readonly sink: CaptureSink;
  readonly counters: NetworkCounters;
  readonly conditions: NetworkConditions;
  /** Whether servers' TCP data segments can be lost (see RenderOptions.tcpLoss). */
  readonly tcpLoss: boolean;
  readonly macs: LinkAddresses;
}

/** A script connection's endpoints, parsed once. */
export interface ConnectionAddresses {
  readonly client: ParsedAddress;
  readonly server: ParsedAddress;
  readonly ipv6: boolean;
}
