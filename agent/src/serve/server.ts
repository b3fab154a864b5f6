/**
 * The agent's network service: WebSocket (protocol v1, docs/protocol.md) and plain HTTP on one
 * port. node:http accepts every connection; `upgrade` requests are checked (path, Origin,
 * token, client count) before ws takes them over, the rest go to the HTTP API or the web panel.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { IpAnonymizer } from '../anonymize/anonymizer';
import { LabelFeed } from '../live/label-feed';
import { checkAccess } from './access-check';
import { AddressRedactor, createAddressRedactor, passThrough } from './address-redactor';
import { ClientConnection, CLOSE_GOING_AWAY, ConnectionCounters } from './client-connection';
import { FeedHub, ServerDebugStats } from './feed-hub';
import { handleApiRequest } from './http-api';
import { sendText } from './http-response';
import { resolveLimits, ServerLimits } from './limits';
import { OwnAddress } from './origin-policy';
import { PeerConnections } from './peer-connections';
import { DEFAULT_HOST, DEFAULT_PORT } from './protocol';
import { ServerLog, silentLog } from './server-log';
import { MessageEncoder } from './server-messages';
import { serveStatic } from './static-files';
import { quoteHeader, RefusalLog } from './refusal-log';
import { refuseUpgrade } from './upgrade-refusal';

export interface AgentServerOptions {
  readonly feed: LabelFeed;
  /** The access token clients must present (see token.ts). */
  readonly token: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 7345; 0 picks a free port (tests). */
  readonly port?: number;
  /** 32 Crypto-PAn key bytes (anonymize/key.ts): when given, addresses in everything served are anonymised. */
  readonly anonymizeKey?: Uint8Array;
  /** Folder served at `/` (the web panel, dist/panel/). */
  readonly staticDir?: string;
  /** What `hello` and /health report as the agent, e.g. "cumma 0.1.0". */
  readonly agentVersion?: string;
  readonly limits?: Partial<ServerLimits>;
  readonly log?: ServerLog;
  /**
   * How log lines write what they quote of captures and watched folders (names, paths, errors):
   * `cumma watch --anonymize` anonymises the addresses in it. Default: as it is. The agent's own
   * address and its clients' are not capture data, and log lines give them as they are.
   */
  readonly logCaptureText?: (text: string) => string;
}

export interface AgentServer {
  /** WebSocket URL, without the token: ws://HOST:PORT/ */
  readonly url: string;
  /** Base URL of the HTTP endpoints: http://HOST:PORT/ */
  readonly httpUrl: string;
  readonly host: string;
  readonly port: number;
  readonly limits: ServerLimits;
  /** Queue and client figures, to check that what is held for clients stays bounded. */
  debugStats(): ServerDebugStats;
  /** Closes every client (1001) and the port. */
  close(): Promise<void>;
}

/** The shortest token accepted: a guessable token would make the origin check the only defence. */
const MIN_TOKEN_LENGTH = 16;
const WEBSOCKET_PATH = '/';

export async function startAgentServer(options: AgentServerOptions): Promise<AgentServer> {
  if (options.token.length < MIN_TOKEN_LENGTH) throw new Error(`the agent token must have at least ${MIN_TOKEN_LENGTH} characters`);
  const host = options.host ?? DEFAULT_HOST;
  const limits = resolveLimits(options.limits);
  const log = options.log ?? silentLog;
  const logCaptureText = options.logCaptureText ?? ((text: string) => text);
  // For parts whose lines say nothing of the network, only of captures (feed events, failures).
  const captureLog: ServerLog = (level, message) => log(level, logCaptureText(message));
  const agentVersion = options.agentVersion ?? 'cumma';
  const { feed, token, staticDir } = options;
  const startedAt = performance.now();

  const redactor: AddressRedactor =
    options.anonymizeKey === undefined
      ? passThrough
      : createAddressRedactor(
          new IpAnonymizer(options.anonymizeKey),
          options.anonymizeKey,
          (dialog, reason) => captureLog('warn', `dialog ${dialog.capture}#${dialog.session}.${dialog.dialog} withheld: cannot anonymise it (${reason})`),
          () => feed.captures().map((capture) => capture.name),
        );
  const encoder = new MessageEncoder(feed, redactor, agentVersion);
  const counters: ConnectionCounters = { slowConsumerCloses: 0, rateLimitCloses: 0, peakQueuedMessages: 0, peakQueuedBytes: 0 };
  let own: OwnAddress = { host, port: options.port ?? DEFAULT_PORT };

  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxMessageBytes, perMessageDeflate: false, clientTracking: false });
  const http = createServer((request, response) => {
    handleHttp(request, response).catch((error: unknown) => {
      log('error', `HTTP ${request.method ?? '?'} ${pathOf(request)}: ${logCaptureText((error as Error).stack ?? String(error))}`);
      if (!response.headersSent) sendText(request, response, 500, 'internal error');
      else response.destroy();
    });
  });
  // Slow or stuck handshakes must not hold sockets for Node's default minutes.
  http.headersTimeout = 10_000;
  http.requestTimeout = 30_000;
  http.maxConnections = limits.maxClients * 2;
  http.on('clientError', (_error, socket: Duplex) => refuseUpgrade(socket, 400, 'bad request'));
  const perPeer = new PeerConnections(limits.maxConnectionsPerPeer);
  http.on('connection', (socket: Socket) => {
    if (!perPeer.admit(socket)) socket.destroy();
  });

  const hub = new FeedHub(feed, encoder, limits, captureLog, counters);
  const refusals = new RefusalLog(log);
  const apiContext = { encoder, token, agentVersion, startedAt, own: () => own };

  async function handleHttp(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = requestUrl(request);
    if (handleApiRequest(request, response, url, apiContext)) return;
    await serveStatic(request, response, url.pathname, staticDir);
  }

  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = requestUrl(request);
    const peer = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
    const refuse = (status: number, reason: string): void => {
      // Path only: the query string may hold the token. Bounded in length and rate (refusal-log.ts).
      refusals.refused(`WebSocket from ${peer} refused (${status}, ${reason}); path ${quoteHeader(url.pathname)}, origin ${quoteHeader(request.headers.origin)}`);
      refuseUpgrade(socket, status, reason);
    };
    if (url.pathname !== WEBSOCKET_PATH) return refuse(404, `the WebSocket endpoint is ${WEBSOCKET_PATH}`);
    const access = checkAccess(request, url.searchParams, token, own);
    if (!access.ok) return refuse(access.status, access.reason);
    if (hub.size >= limits.maxClients) return refuse(503, `too many clients (${limits.maxClients})`);
    wss.handleUpgrade(request, socket, head, (ws) => {
      const connection = new ClientConnection(ws, peer, { feed, encoder, limits, log, logCaptureText, counters, onClosed: (closed) => hub.remove(closed) });
      hub.add(connection);
      log('info', `client ${peer} connected (origin ${quoteHeader(request.headers.origin)})`);
    });
  });

  try {
    await listen(http, host, own.port);
  } catch (error) {
    hub.stop(); // no feed subscription or timers left behind by a server that never ran
    throw error;
  }
  const address = http.address();
  const port = typeof address === 'object' && address !== null ? address.port : own.port;
  own = { host, port };
  const urlHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  log('info', `serving on http://${urlHost}:${port}/ (WebSocket ws://${urlHost}:${port}/)${redactor.active ? ', addresses anonymised' : ''}`);

  return {
    url: `ws://${urlHost}:${port}/`,
    httpUrl: `http://${urlHost}:${port}/`,
    host,
    port,
    limits,
    debugStats: () => hub.debugStats(),
    close: () =>
      new Promise<void>((resolveClose) => {
        hub.stop();
        refusals.stop();
        hub.each((connection) => connection.close(CLOSE_GOING_AWAY, 'agent shutting down'));
        http.close(() => resolveClose());
        http.closeAllConnections();
      }),
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolveListen, reject) => {
    // Clear words, with the errno code kept so callers can still branch on it.
    const failed = (error: NodeJS.ErrnoException): void => {
      if (error.code === 'EADDRINUSE') reject(Object.assign(new Error(`port ${port} on ${host} is in use (is another agent running?)`), { code: error.code }));
      else if (error.code === 'EADDRNOTAVAIL') reject(Object.assign(new Error(`${host} is not an address of this machine`), { code: error.code }));
      else reject(error);
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolveListen();
    });
  });
}

function requestUrl(request: IncomingMessage): URL {
  try {
    return new URL(request.url ?? '/', 'http://agent.invalid');
  } catch {
    return new URL('http://agent.invalid/');
  }
}

function pathOf(request: IncomingMessage): string {
  return requestUrl(request).pathname.slice(0, 100);
}
