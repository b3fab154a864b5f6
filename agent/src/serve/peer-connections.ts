/**
 * Counts the TCP connections each remote address holds, so that one peer cannot take every
 * connection the server allows (limits.ts, maxConnectionsPerPeer). Loopback peers are not
 * counted: every local client (VS Code, the panel, Wireshark) shares their address.
 */
import type { Socket } from 'node:net';

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

export class PeerConnections {
  private readonly open = new Map<string, number>();

  constructor(private readonly maxPerPeer: number) {}

  /** Whether `socket` may stay; if so it is counted until it closes. */
  admit(socket: Socket): boolean {
    const address = socket.remoteAddress;
    if (address === undefined || isLoopback(address)) return true;
    const count = this.open.get(address) ?? 0;
    if (count >= this.maxPerPeer) return false;
    this.open.set(address, count + 1);
    socket.once('close', () => {
      const left = (this.open.get(address) ?? 1) - 1;
      if (left <= 0) this.open.delete(address);
      else this.open.set(address, left);
    });
    return true;
  }

  /** Connections held now by `address` (for tests and debug stats). */
  held(address: string): number {
    return this.open.get(address) ?? 0;
  }
}
