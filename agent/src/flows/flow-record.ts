/** Flow records as DESIGN.md defines them: what `cumma flows` prints and later stages consume. */

export type TransportName = 'tcp' | 'udp';

export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

/** `ip:port`, `[ipv6]:port`: as the tables and messages write an endpoint. */
export function endpointText(endpoint: Endpoint): string {
  return endpoint.ip.includes(':') ? `[${endpoint.ip}]:${endpoint.port}` : `${endpoint.ip}:${endpoint.port}`;
}

/** A flow's key whichever way round its endpoints are given (a sidecar may not know the client). */
export function unorderedFlowKey(l4: string, a: Endpoint, b: Endpoint): string {
  const [first, second] = [`${a.ip} ${a.port}`, `${b.ip} ${b.port}`].sort();
  return `${l4} ${first} ${second}`;
}

export interface DirectionCounts {
  /** client → server */
  readonly up: number;
  /** server → client */
  readonly down: number;
}

export interface FlowRecord {
  readonly l4: TransportName;
  /**
   * The endpoint that sent the flow's first packet in file order, whatever the timestamps say
   * (the SYN sender for TCP when the SYN was seen).
   */
  readonly client: Endpoint;
  readonly server: Endpoint;
  /** Microseconds since the Unix epoch. */
  readonly firstUs: number;
  readonly lastUs: number;
  readonly packets: DirectionCounts;
  /** Original frame lengths, as Wireshark's conversation table counts them. */
  readonly bytes: DirectionCounts;
}
