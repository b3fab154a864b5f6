/**
 * Accumulates a traffic script: opens connections with fresh client ports, schedules messages,
 * and keeps, per connection, the time by which its planned traffic should be done, so that
 * activities of different usages on one connection stay separated by a real idle gap.
 */
import { Prng } from '../common/prng';
import { AppProfile } from './app-profiles';
import {
  ConnectionKind,
  ConnectionPurpose,
  ScriptConnection,
  ScriptEndpoint,
  ScriptMessage,
  TrafficScript,
  TruthTag,
} from './traffic-script';

/**
 * Conservative rates for planning only (the renderer applies the real drawn conditions): a
 * transfer planned at these rates is finished in time on any network the simulator draws.
 */
const PLANNING_UP_BITS_PER_S = 0.8e6;
const PLANNING_DOWN_BITS_PER_S = 1.5e6;
const PLANNING_RTT_US = 250_000;

interface MutableConnection extends ScriptConnection {
  closeUs?: number;
}

export class ScriptBuilder {
  private readonly connections: MutableConnection[] = [];
  private readonly messages: ScriptMessage[] = [];
  private readonly busyUntil: number[] = [];
  private nextPort: number;

  constructor(
    readonly prng: Prng,
    readonly profile: AppProfile,
  ) {
    this.nextPort = profile.client.firstPort;
  }

  /** Opens a connection from the phone; returns its id. */
  open(kind: ConnectionKind, purpose: ConnectionPurpose, server: ScriptEndpoint, openUs: number, setupTruth: TruthTag): number {
    const id = this.connections.length;
    // Consecutive ephemeral ports with small skips, as Android hands them out.
    this.nextPort += this.prng.int(1, 7);
    if (this.nextPort > 60999) this.nextPort = 32768 + (this.nextPort % 1000);
    this.connections.push({
      id,
      kind,
      purpose,
      client: { ip: this.profile.client.ip, port: this.nextPort },
      server,
      openUs: Math.round(openUs),
      setupTruth,
    });
    // The handshake takes a few round trips before data can flow.
    this.busyUntil.push(Math.round(openUs) + (kind === 'tls' ? 3 * PLANNING_RTT_US : PLANNING_RTT_US));
    return id;
  }

  close(connection: number, atUs: number): void {
    this.connections[connection]!.closeUs = Math.round(Math.max(atUs, this.busyUntil[connection]!));
  }

  /** Schedules a message; returns the planned time its last byte arrives. */
  send(connection: number, atUs: number, direction: 'up' | 'down', bytes: number, truth: TruthTag): number {
    const at = Math.round(atUs);
    const size = Math.max(1, Math.round(bytes));
    this.messages.push({ atUs: at, connection, direction, bytes: size, truth });
    const done = at + this.transferUs(size, direction);
    this.busyUntil[connection] = Math.max(this.busyUntil[connection]!, done);
    return done;
  }

  /** Planned time for `bytes` to cross in one direction: serialisation plus a round trip. */
  transferUs(bytes: number, direction: 'up' | 'down'): number {
    const rate = direction === 'up' ? PLANNING_UP_BITS_PER_S : PLANNING_DOWN_BITS_PER_S;
    return Math.round((bytes * 8 * 1e6) / rate) + PLANNING_RTT_US;
  }

  /** When the traffic already planned on a connection is done. */
  busyUntilUs(connection: number): number {
    return this.busyUntil[connection]!;
  }

  /** Start times of the messages planned on a connection, in time order. */
  messageTimes(connection: number): number[] {
    return this.messages.filter((message) => message.connection === connection).map((message) => message.atUs).sort((a, b) => a - b);
  }

  /** Latest planned end over all connections. */
  get plannedEndUs(): number {
    return this.busyUntil.reduce((latest, time) => Math.max(latest, time), 0);
  }

  build(durationUs: number): TrafficScript {
    const messages = [...this.messages].sort((left, right) => left.atUs - right.atUs || left.connection - right.connection);
    return { connections: this.connections.map((connection) => ({ ...connection })), messages, durationUs: Math.round(durationUs) };
  }
}
