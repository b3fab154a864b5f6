/**
 * A traffic script: what an app does at the application layer — which connections it opens and
 * which messages of which sizes cross them, when, and for which usage. One script drives two
 * renderers: the simulator turns it into packets (TCP/TLS and UDP mechanics, network
 * conditions) and the recorder replays it over real sockets on loopback for dumpcap.
 */
import { UsageClass } from '../labels';

export interface ScriptEndpoint {
  readonly ip: string;
  readonly port: number;
}

/** TLS 1.3 over TCP, or datagrams over UDP (calls, STUN, DNS, NTP, QUIC-like). */
export type ConnectionKind = 'tls' | 'udp';

/** Why the app opened the connection: helps renderers and documents the script. */
export type ConnectionPurpose = 'chat' | 'media' | 'call' | 'stun' | 'tiles' | 'stream' | 'dns' | 'ntp' | 'push' | 'background';

/** Ground truth carried by every packet of a message (and by its ACKs and handshakes). */
export interface TruthTag {
  readonly usage: UsageClass;
  /** App session: a run of use of the app (a scenario is one session). */
  readonly session: number;
  /** One usage activity inside the session: a text exchange, a photo sent, a call, … */
  readonly dialog: number;
}

export interface ScriptConnection {
  readonly id: number;
  readonly kind: ConnectionKind;
  readonly purpose: ConnectionPurpose;
  /** Simulated addresses; the recorder uses loopback addresses instead. */
  readonly client: ScriptEndpoint;
  readonly server: ScriptEndpoint;
  /** When the client opens it (TCP handshake, or first datagram). µs from the script start. */
  readonly openUs: number;
  /** When the client closes it (TCP FIN); undefined: open until the end of the capture. */
  readonly closeUs?: number;
  /** Truth for packets that belong to no message (handshake, close, bare ACKs before data). */
  readonly setupTruth: TruthTag;
}

export interface ScriptMessage {
  /** When the sender starts sending, µs from the script start. */
  readonly atUs: number;
  readonly connection: number;
  /** up = client → server. */
  readonly direction: 'up' | 'down';
  /** Application bytes: TLS plaintext for `tls`, the UDP payload for `udp`. */
  readonly bytes: number;
  readonly truth: TruthTag;
}

export interface TrafficScript {
  readonly connections: readonly ScriptConnection[];
  /** Sorted by atUs. */
  readonly messages: readonly ScriptMessage[];
  readonly durationUs: number;
}
