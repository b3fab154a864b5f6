/** Clients for the server tests: a ws client that records messages, HTTP requests, a raw socket. */
import { randomBytes } from 'node:crypto';
import { request as httpRequest, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { connect as netConnect, Socket } from 'node:net';
import WebSocket from 'ws';
import { ServerMessage } from '../../../agent/src/serve/protocol';

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

export class TestClient {
  readonly messages: ServerMessage[] = [];
  readonly closed: Promise<Closed>;
  private waiters: Array<() => void> = [];

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as ServerMessage);
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake();
      }),
    );
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  of<T extends ServerMessage['type']>(type: T): Array<Extract<ServerMessage, { type: T }>> {
    return this.messages.filter((message): message is Extract<ServerMessage, { type: T }> => message.type === type);
  }

  /** Resolves once `check` holds over the messages received so far; fails after `timeoutMs`. */
  async until(what: string, check: (messages: readonly ServerMessage[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this.messages)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.messages.length} messages: ${summary(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The first message of `type` received after the `after`-th message. */
  async next<T extends ServerMessage['type']>(type: T, after = 0, timeoutMs?: number): Promise<Extract<ServerMessage, { type: T }>> {
    const find = (): Extract<ServerMessage, { type: T }> | undefined =>
      this.messages.slice(after).find((message): message is Extract<ServerMessage, { type: T }> => message.type === type);
    await this.until(`a ${type} message`, () => find() !== undefined, timeoutMs);
    return find()!;
  }

  /** Round trip: everything the server queued before this ping has arrived once the pong does. */
  async sync(): Promise<void> {
    const id = randomBytes(6).toString('hex');
    this.send({ v: 1, type: 'ping', id });
    await this.until(`pong ${id}`, (messages) => messages.some((message) => message.type === 'pong' && message.id === id));
  }

  close(): void {
    this.socket.close();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}

function summary(messages: readonly ServerMessage[]): string {
  return messages
    .slice(-5)
    .map((message) => JSON.stringify(message).slice(0, 160))
    .join(' | ');
}

export interface ConnectOptions {
  readonly token?: string;
  readonly origin?: string;
  readonly headers?: Record<string, string>;
  readonly path?: string;
}

function socketUrl(base: string, options: ConnectOptions): string {
  const url = new URL(options.path ?? '/', base);
  if (options.token !== undefined) url.searchParams.set('token', options.token);
  return url.toString();
}

/** Connects and waits for `hello`. */
export async function connectClient(base: string, options: ConnectOptions): Promise<TestClient> {
  const socket = new WebSocket(socketUrl(base, options), { headers: options.headers, ...(options.origin === undefined ? {} : { origin: options.origin }) });
  const client = new TestClient(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) => reject(new Error(`handshake refused: ${response.statusCode}`)));
  });
  await client.next('hello');
  return client;
}

/** The HTTP status with which the server refuses the handshake (fails if it accepts). */
export function refusedStatus(base: string, options: ConnectOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(socketUrl(base, options), { headers: options.headers, ...(options.origin === undefined ? {} : { origin: options.origin }) });
    socket.once('open', () => {
      socket.terminate();
      reject(new Error('handshake was accepted'));
    });
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    socket.once('error', () => undefined);
  });
}

export interface HttpResult {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A request with the path sent exactly as given (no client-side normalisation of `..`). */
export function httpGet(base: string, path: string, headers: OutgoingHttpHeaders = {}, method = 'GET'): Promise<HttpResult> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: url.hostname, port: url.port, path, method, headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

export interface RawReadResult {
  readonly texts: string[];
  readonly close?: { readonly code: number; readonly reason: string };
}

/**
 * A WebSocket client done by hand on a raw TCP socket, so the test controls reading: after the
 * handshake the socket is paused and reads nothing until resume().
 */
export class RawSocketClient {
  private constructor(readonly socket: Socket) {}

  static async open(base: string, token: string): Promise<RawSocketClient> {
    const url = new URL(base);
    const socket = netConnect({ host: url.hostname, port: Number(url.port) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.write(
      `GET /?token=${token} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    // Read only the handshake response; frames after it stay unread in the socket.
    const head = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const onData = (chunk: Buffer): void => {
        chunks.push(chunk);
        const all = Buffer.concat(chunks);
        const end = all.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        socket.pause();
        if (end + 4 < all.length) socket.unshift(all.subarray(end + 4));
        resolve(all.subarray(0, end));
      };
      socket.on('data', onData);
      socket.once('error', reject);
    });
    if (!head.toString('latin1').startsWith('HTTP/1.1 101')) throw new Error(`raw handshake refused: ${head.toString('latin1').split('\r\n')[0]}`);
    socket.on('error', () => undefined);
    return new RawSocketClient(socket);
  }

  /**
   * Starts reading; collects the text of every server frame until one for which `last` holds (that
   * one included), a close frame (its code and reason are returned) or the socket's close. `last`
   * sees each text once, as it arrives: megabytes of backlog come in thousands of frames, and a
   * check of everything received so far on every frame took seconds of CPU by itself.
   */
  readAll(last: (text: string) => boolean, timeoutMs = 15_000): Promise<RawReadResult> {
    const texts: string[] = [];
    let pending = Buffer.alloc(0);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`raw client: timed out after ${texts.length} frames`)), timeoutMs);
      const finish = (close?: { code: number; reason: string }): void => {
        clearTimeout(timer);
        this.socket.off('data', onData);
        resolve({ texts, ...(close === undefined ? {} : { close }) });
      };
      const onData = (chunk: Buffer): void => {
        pending = Buffer.concat([pending, chunk]);
        for (;;) {
          const frame = parseServerFrame(pending);
          if (frame === undefined) break;
          pending = pending.subarray(frame.size);
          if (frame.opcode === 0x8) return finish({ code: frame.payload.readUInt16BE(0), reason: frame.payload.subarray(2).toString('utf8') });
          if (frame.opcode !== 0x1) continue;
          const text = frame.payload.toString('utf8');
          texts.push(text);
          if (last(text)) return finish();
        }
      };
      this.socket.on('data', onData);
      this.socket.once('close', () => finish());
      this.socket.resume();
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** One unmasked, unfragmented server frame at the start of `data`, or undefined if incomplete. */
function parseServerFrame(data: Buffer): { opcode: number; payload: Buffer; size: number } | undefined {
  if (data.length < 2) return undefined;
  const opcode = data[0]! & 0x0f;
  let length = data[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (data.length < 4) return undefined;
    length = data.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (data.length < 10) return undefined;
    length = Number(data.readBigUInt64BE(2));
    offset = 10;
  }
  if (data.length < offset + length) return undefined;
  return { opcode, payload: data.subarray(offset, offset + length), size: offset + length };
}
