/**
 * Replays a traffic script over real sockets on 127.0.0.1, in real time scaled by a speed
 * factor: one TLS 1.3 server and one UDP server, and for every script connection its own client
 * socket (so every script connection is its own 5-tuple). Each message is written at its time
 * by the side its direction names; the other side reads and discards it.
 *
 * What it returns is the log the labeller needs: each connection's real ports and the
 * realtime-clock instant at which it was opened, closed and each of its messages was handed to
 * the kernel.
 */
import { createSocket, Socket as UdpSocket } from 'node:dgram';
import { setMaxListeners } from 'node:events';
import { randomBytes } from 'node:crypto';
import { AddressInfo, Socket as TcpSocket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { connect as tlsConnect, createServer as createTlsServer, Server as TlsServer, TLSSocket } from 'node:tls';
import { ScriptConnection, ScriptEndpoint, ScriptMessage, TrafficScript, TruthTag } from '../simulate/traffic-script';
import { SERVER_NAME, TlsIdentity } from './certificate';
import { DatagramSealer, sealedBytesFor } from './datagram-sealer';
import { RecordError } from './errors';
import { RealtimeClock } from './realtime-clock';
import { checkScript } from './script-check';

export const LOOPBACK = '127.0.0.1';

export interface ReplayedMessage {
  /** Realtime µs just before the message was handed to the socket. */
  readonly stampUs: number;
  readonly direction: 'up' | 'down';
  readonly truth: TruthTag;
}

/** One script connection as it was really played. */
export interface ReplayedConnection {
  readonly id: number;
  readonly l4: 'tcp' | 'udp';
  readonly client: ScriptEndpoint;
  readonly server: ScriptEndpoint;
  readonly setupTruth: TruthTag;
  /** Realtime µs just before connect() (TLS) or the socket bind (UDP). */
  readonly openedUs: number;
  /** Realtime µs just before end() (TLS, when the script closes it). */
  readonly closedUs: number | undefined;
  /** In the order they were sent, so stamps never decrease. */
  readonly messages: readonly ReplayedMessage[];
}

/**
 * Rate at which one TLS message is written, in bits per second of script time: a mobile link's
 * order of magnitude. Unpaced, a megabyte written at once on loopback outruns the receiving
 * socket (served by this same process) and the capture shows zero windows.
 */
export const DEFAULT_TLS_RATE_BITS_PER_S = 20e6;
const PACING_PIECE_BYTES = 16 * 1024;

export interface ReplayOptions {
  readonly speed: number;
  /** Pacing of TLS messages (default DEFAULT_TLS_RATE_BITS_PER_S), scaled by `speed`. */
  readonly tlsRateBitsPerSecond?: number;
  readonly clock: RealtimeClock;
  readonly signal?: AbortSignal;
  /** How long to wait, after the script's end, for every byte to arrive and every close to finish. */
  readonly deliveryTimeoutMs?: number;
}

export interface ReplayResult {
  readonly connections: readonly ReplayedConnection[];
  readonly startedUs: number;
  readonly endedUs: number;
  /** Worst delay between a message's scheduled instant and its real send (timer, handshake). */
  readonly maxLateUs: number;
  readonly tlsBytes: { readonly sent: number; readonly received: number };
  readonly udpDatagrams: { readonly sent: number; readonly received: number };
  /** Script datagrams smaller than the GCM overhead + 1 byte, sent at that minimum size. */
  readonly udpEnlarged: number;
}

const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000;
/** Lost datagrams are never coming: after TCP is complete, wait only this much longer for UDP. */
const UDP_GRACE_MS = 250;
const POLL_MS = 5;
/** The block TLS plaintext is sliced from: random, as application data would look encrypted. */
const PLAINTEXT_BLOCK_BYTES = 1 << 20;

/** A script connection while it is being played. */
class Player {
  readonly messages: ScriptMessage[] = [];
  readonly sent: ReplayedMessage[] = [];
  clientPort = 0;
  openedUs = 0;
  closedUs: number | undefined;
  /** TLS: client and server socket, paired once both ends see the handshake done. */
  tlsClient: TLSSocket | undefined;
  tlsServer: TLSSocket | undefined;
  udpClient: UdpSocket | undefined;
  /** Bytes (TLS) or datagrams (UDP) expected and received, per direction. */
  expectedUp = 0;
  expectedDown = 0;
  receivedUp = 0;
  receivedDown = 0;
  /** Sockets that reported 'close' (TLS connections the script closes: both must). */
  socketsClosed = 0;
  private markReady: (() => void) | undefined;
  readonly ready: Promise<void>;
  private clientSecure = false;

  constructor(readonly script: ScriptConnection) {
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
  }

  get isTls(): boolean {
    return this.script.kind === 'tls';
  }

  clientSecured(): void {
    this.clientSecure = true;
    this.checkReady();
  }

  serverAttached(socket: TLSSocket): void {
    this.tlsServer = socket;
    this.checkReady();
  }

  udpBound(port: number): void {
    this.clientPort = port;
    this.markReady?.();
  }

  private checkReady(): void {
    if (this.clientSecure && this.tlsServer !== undefined) this.markReady?.();
  }

  get delivered(): boolean {
    return this.receivedUp >= this.expectedUp && this.receivedDown >= this.expectedDown;
  }

  get closeFinished(): boolean {
    return !this.isTls || this.script.closeUs === undefined || this.socketsClosed >= 2;
  }

  result(tcpPort: number, udpPort: number): ReplayedConnection {
    return {
      id: this.script.id,
      l4: this.isTls ? 'tcp' : 'udp',
      client: { ip: LOOPBACK, port: this.clientPort },
      server: { ip: LOOPBACK, port: this.isTls ? tcpPort : udpPort },
      setupTruth: this.script.setupTruth,
      openedUs: this.openedUs,
      closedUs: this.closedUs,
      messages: this.sent,
    };
  }
}

function replayError(detail: string): RecordError {
  return new RecordError('RECORD_REPLAY_FAILED', detail);
}

export class LoopbackReplay {
  private readonly players = new Set<Player>();
  /** TLS client port → its player, until the server side of that connection shows up. */
  private readonly awaitingServer = new Map<number, Player>();
  /** Server sockets whose client port was not known yet when their handshake finished. */
  private readonly unclaimedServers = new Map<number, TLSSocket>();
  /** UDP client port → player (UDP client sockets stay bound to the end: ports are never reused). */
  private readonly udpByPort = new Map<number, Player>();
  /** Every TCP connection the server accepted, even mid-handshake: close() must end them all. */
  private readonly accepted = new Set<TcpSocket>();
  private readonly plaintext = randomBytes(PLAINTEXT_BLOCK_BYTES);
  private readonly abort = new AbortController();
  private closing = false;

  private constructor(
    private readonly identity: TlsIdentity,
    private readonly sealer: DatagramSealer,
    private readonly tlsServer: TlsServer,
    private readonly udpServer: UdpSocket,
  ) {
    // One abort listener per connection waiting on a timer: more than Node's default of 10.
    setMaxListeners(0, this.abort.signal);
    tlsServer.on('connection', (socket: TcpSocket) => {
      this.accepted.add(socket);
      socket.once('close', () => this.accepted.delete(socket));
    });
    tlsServer.on('secureConnection', (socket: TLSSocket) => this.onServerSocket(socket));
    tlsServer.on('tlsClientError', (error: Error) => this.fail(replayError(`TLS handshake failed on the server side: ${error.message}`)));
    tlsServer.on('error', (error: Error) => this.fail(replayError(`TLS server: ${error.message}`)));
    udpServer.on('message', (datagram: Buffer, from: AddressInfo) => this.onServerDatagram(datagram, from));
    udpServer.on('error', (error: Error) => this.fail(replayError(`UDP server: ${error.message}`)));
  }

  /** Binds the servers on ephemeral loopback ports; no packet is sent until run(). */
  static async listen(identity: TlsIdentity, sealer: DatagramSealer = new DatagramSealer()): Promise<LoopbackReplay> {
    const tlsServer = createTlsServer({ key: identity.key, cert: identity.cert, minVersion: 'TLSv1.3' });
    await new Promise<void>((resolve, reject) => {
      tlsServer.once('error', reject);
      tlsServer.listen(0, LOOPBACK, () => {
        tlsServer.removeListener('error', reject);
        resolve();
      });
    });
    const udpServer = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    try {
      await bindUdp(udpServer);
    } catch (error) {
      tlsServer.close();
      throw error;
    }
    return new LoopbackReplay(identity, sealer, tlsServer, udpServer);
  }

  get tcpPort(): number {
    return (this.tlsServer.address() as AddressInfo).port;
  }

  get udpPort(): number {
    return this.udpServer.address().port;
  }

  /** Plays the script; resolves when its time is over and everything sent has arrived. */
  async run(script: TrafficScript, options: ReplayOptions): Promise<ReplayResult> {
    const byId = checkScript(script);
    const { clock, speed } = options;
    if (!(Number.isFinite(speed) && speed > 0)) throw new RecordError('RECORD_BAD_OPTION', `speed must be a positive number, got ${speed}`);
    const external = options.signal;
    const onExternalAbort = (): void => this.fail(asRecordError(external?.reason));
    if (external?.aborted) onExternalAbort();
    external?.addEventListener('abort', onExternalAbort, { once: true });

    const players = new Map<number, Player>();
    for (const connection of byId.values()) {
      const player = new Player(connection);
      players.set(connection.id, player);
      this.players.add(player);
    }
    for (const message of script.messages) {
      const player = players.get(message.connection)!;
      player.messages.push(message);
      const amount = player.isTls ? message.bytes : 1;
      if (message.direction === 'up') player.expectedUp += amount;
      else player.expectedDown += amount;
    }
    // Scheduled order per connection; a stable sort keeps the script's order for equal times.
    for (const player of players.values()) player.messages.sort((a, b) => a.atUs - b.atUs);

    const startedUs = clock.nowUs();
    const schedule: Schedule = { startedUs, speed, clock, maxLateUs: 0, tlsRateBitsPerSecond: options.tlsRateBitsPerSecond ?? DEFAULT_TLS_RATE_BITS_PER_S };
    try {
      await Promise.all([...players.values()].map((player) => this.play(player, schedule)));
      await this.sleepUntil(schedule, script.durationUs);
      await this.awaitDelivery([...players.values()], options.deliveryTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS);
    } catch (error) {
      throw this.abort.signal.aborted ? asRecordError(this.abort.signal.reason) : error;
    } finally {
      external?.removeEventListener('abort', onExternalAbort);
    }
    if (this.abort.signal.aborted) throw asRecordError(this.abort.signal.reason);

    const all = [...players.values()];
    let udpEnlarged = 0;
    for (const message of script.messages) {
      if (byId.get(message.connection)!.kind === 'udp' && sealedBytesFor(message.bytes) !== message.bytes) udpEnlarged++;
    }
    return {
      connections: all.map((player) => player.result(this.tcpPort, this.udpPort)),
      startedUs,
      endedUs: clock.nowUs(),
      maxLateUs: Math.round(schedule.maxLateUs),
      tlsBytes: sumCounts(all.filter((p) => p.isTls)),
      udpDatagrams: sumCounts(all.filter((p) => !p.isTls)),
      udpEnlarged,
    };
  }

  /** Stops everything: sockets destroyed, servers closed. Safe to call more than once. */
  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      if (!this.abort.signal.aborted) this.abort.abort(new RecordError('RECORD_INTERRUPTED', 'replay closed'));
    }
    for (const player of this.players) {
      player.tlsClient?.destroy();
      player.tlsServer?.destroy();
      player.udpClient?.close();
      player.udpClient = undefined;
    }
    for (const socket of this.unclaimedServers.values()) socket.destroy();
    this.unclaimedServers.clear();
    for (const socket of this.accepted) socket.destroy();
    this.accepted.clear();
    this.players.clear();
    await Promise.all([
      new Promise<void>((resolve) => (this.tlsServer.listening ? this.tlsServer.close(() => resolve()) : resolve())),
      new Promise<void>((resolve) => {
        try {
          this.udpServer.close(() => resolve());
        } catch {
          resolve(); // already closed
        }
      }),
    ]);
  }

  // -------------------------------------------------------------------------------------------

  private fail(error: RecordError): void {
    if (this.closing || this.abort.signal.aborted) return;
    this.abort.abort(error);
  }

  private async play(player: Player, schedule: Schedule): Promise<void> {
    const script = player.script;
    await this.sleepUntil(schedule, script.openUs);
    player.openedUs = schedule.clock.nowUs();
    if (player.isTls) this.openTls(player);
    else this.openUdp(player);
    for (const message of player.messages) {
      await this.sleepUntil(schedule, message.atUs);
      await this.whenReady(player);
      const stampUs = schedule.clock.nowUs();
      schedule.maxLateUs = Math.max(schedule.maxLateUs, stampUs - dueUs(schedule, message.atUs));
      player.sent.push({ stampUs, direction: message.direction, truth: message.truth });
      // Messages of one connection go out one after the other, so each packet is labelled
      // with the message it carries.
      await this.send(player, message, schedule);
    }
    if (player.isTls && script.closeUs !== undefined) {
      await this.sleepUntil(schedule, script.closeUs);
      await this.whenReady(player);
      player.closedUs = schedule.clock.nowUs();
      // end(): FIN after the data already queued; the server side ends in turn (no half-open).
      player.tlsClient!.end();
    }
  }

  private openTls(player: Player): void {
    const socket = tlsConnect({
      host: LOOPBACK,
      port: this.tcpPort,
      // The run's own certificate is the only one trusted: the handshake is verified for real.
      ca: [this.identity.cert],
      servername: SERVER_NAME,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
    });
    player.tlsClient = socket;
    socket.on('connect', () => {
      player.clientPort = socket.localPort ?? 0;
      const server = this.unclaimedServers.get(player.clientPort);
      if (server) {
        this.unclaimedServers.delete(player.clientPort);
        this.attachServer(player, server);
      } else {
        this.awaitingServer.set(player.clientPort, player);
      }
    });
    socket.on('secureConnect', () => player.clientSecured());
    socket.on('data', (chunk: Buffer) => {
      player.receivedDown += chunk.length;
    });
    socket.on('close', () => player.socketsClosed++);
    socket.on('error', (error: Error) => this.fail(replayError(`TLS client of connection ${player.script.id}: ${error.message}`)));
  }

  private onServerSocket(socket: TLSSocket): void {
    const port = socket.remotePort ?? 0;
    const player = this.awaitingServer.get(port);
    if (player) {
      this.awaitingServer.delete(port);
      this.attachServer(player, socket);
    } else {
      this.unclaimedServers.set(port, socket);
      socket.on('error', (error: Error) => this.fail(replayError(`TLS server socket from port ${port}: ${error.message}`)));
    }
  }

  private attachServer(player: Player, socket: TLSSocket): void {
    socket.removeAllListeners('error');
    socket.on('data', (chunk: Buffer) => {
      player.receivedUp += chunk.length;
    });
    socket.on('close', () => player.socketsClosed++);
    socket.on('error', (error: Error) => this.fail(replayError(`TLS server side of connection ${player.script.id}: ${error.message}`)));
    player.serverAttached(socket);
  }

  private openUdp(player: Player): void {
    const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    player.udpClient = socket;
    socket.on('message', (datagram: Buffer) => {
      if (this.sealer.open(datagram) === undefined) {
        this.fail(replayError(`UDP client of connection ${player.script.id} received a datagram that fails AES-GCM authentication`));
        return;
      }
      player.receivedDown++;
    });
    socket.on('error', (error: Error) => this.fail(replayError(`UDP client of connection ${player.script.id}: ${error.message}`)));
    bindUdp(socket).then(
      () => {
        this.udpByPort.set(socket.address().port, player);
        player.udpBound(socket.address().port);
      },
      (error: Error) => this.fail(replayError(`UDP client of connection ${player.script.id} cannot bind: ${error.message}`)),
    );
  }

  private onServerDatagram(datagram: Buffer, from: AddressInfo): void {
    const player = this.udpByPort.get(from.port);
    if (player === undefined) return; // not one of ours (the filter lets anything to this port through)
    if (this.sealer.open(datagram) === undefined) {
      this.fail(replayError(`UDP server received a datagram of connection ${player.script.id} that fails AES-GCM authentication`));
      return;
    }
    player.receivedUp++;
  }

  private async send(player: Player, message: ScriptMessage, schedule: Schedule): Promise<void> {
    if (player.isTls) {
      const socket = message.direction === 'up' ? player.tlsClient! : player.tlsServer!;
      const bytesPerUs = (schedule.tlsRateBitsPerSecond * schedule.speed) / 8 / 1e6;
      const startUs = schedule.clock.nowUs();
      // Slices of one random block: TLS encrypts them anyway, and no per-message allocation.
      for (let sent = 0; sent < message.bytes; ) {
        const piece = Math.min(message.bytes - sent, PACING_PIECE_BYTES, PLAINTEXT_BLOCK_BYTES);
        socket.write(this.plaintext.subarray(0, piece));
        sent += piece;
        const aheadUs = startUs + sent / bytesPerUs - schedule.clock.nowUs();
        // Timers resolve to about a millisecond: sleep only when that far ahead of the pace.
        if (sent < message.bytes && aheadUs >= 1000) await delay(aheadUs / 1000, undefined, { signal: this.abort.signal });
      }
      return;
    }
    const datagram = this.sealer.seal(message.bytes);
    const onSent = (error: Error | null): void => {
      if (error) this.fail(replayError(`UDP send on connection ${player.script.id}: ${error.message}`));
    };
    if (message.direction === 'up') player.udpClient!.send(datagram, this.udpPort, LOOPBACK, onSent);
    else this.udpServer.send(datagram, player.clientPort, LOOPBACK, onSent);
  }

  private whenReady(player: Player): Promise<void> {
    const signal = this.abort.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      void player.ready.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  private async sleepUntil(schedule: Schedule, atUs: number): Promise<void> {
    const waitMs = (dueUs(schedule, atUs) - schedule.clock.nowUs()) / 1000;
    if (this.abort.signal.aborted) throw this.abort.signal.reason;
    if (waitMs > 0) await delay(waitMs, undefined, { signal: this.abort.signal });
  }

  private async awaitDelivery(players: readonly Player[], timeoutMs: number): Promise<void> {
    const tcp = players.filter((p) => p.isTls);
    const udp = players.filter((p) => !p.isTls);
    const deadline = Date.now() + timeoutMs;
    while (!tcp.every((p) => p.delivered && p.closeFinished)) {
      if (Date.now() > deadline) {
        const late = tcp.filter((p) => !(p.delivered && p.closeFinished)).map(describeProgress);
        throw replayError(`TLS traffic incomplete ${timeoutMs} ms after the script ended: ${late.join('; ')}`);
      }
      await delay(POLL_MS, undefined, { signal: this.abort.signal });
    }
    const udpDeadline = Date.now() + UDP_GRACE_MS;
    while (!udp.every((p) => p.delivered) && Date.now() < udpDeadline) {
      await delay(POLL_MS, undefined, { signal: this.abort.signal });
    }
  }
}

interface Schedule {
  readonly startedUs: number;
  readonly speed: number;
  readonly tlsRateBitsPerSecond: number;
  readonly clock: RealtimeClock;
  maxLateUs: number;
}

function dueUs(schedule: Schedule, scriptUs: number): number {
  return schedule.startedUs + scriptUs / schedule.speed;
}

function describeProgress(player: Player): string {
  const closing = player.closeFinished ? '' : ', close not finished';
  return `connection ${player.script.id} up ${player.receivedUp}/${player.expectedUp} B, down ${player.receivedDown}/${player.expectedDown} B${closing}`;
}

function sumCounts(players: readonly Player[]): { sent: number; received: number } {
  let sent = 0;
  let received = 0;
  for (const player of players) {
    sent += player.expectedUp + player.expectedDown;
    received += player.receivedUp + player.receivedDown;
  }
  return { sent, received };
}

function bindUdp(socket: UdpSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, LOOPBACK, () => {
      socket.removeListener('error', reject);
      resolve();
    });
  });
}

function asRecordError(reason: unknown): RecordError {
  if (reason instanceof RecordError) return reason;
  const text = reason instanceof Error ? reason.message : String(reason ?? 'aborted');
  return new RecordError('RECORD_INTERRUPTED', `recording interrupted: ${text}`);
}
