/**
 * Which browser origins may talk to the agent. A web page anywhere can make the browser open a
 * WebSocket to 127.0.0.1 (WebSockets are not bound by the same-origin policy), so the Origin
 * header is the agent's defence against pages the user merely visits. Allowed:
 * - no Origin header: not a browser (the CLI, the Lua dissector, Node clients, VS Code's
 *   extension host);
 * - `vscode-webview://…`: a VS Code webview;
 * - the agent's own origin, http://HOST:PORT as bound, with the loopback spellings 127.0.0.1,
 *   localhost and [::1] when bound to loopback or to every interface; bound to every interface,
 *   also the machine's own addresses and host name, under which other machines reach the page.
 * Host names are compared literally, never resolved: a DNS-rebinding page has its own host name
 * in its Origin and is refused.
 */

import { hostname, networkInterfaces } from 'node:os';

export interface OwnAddress {
  /** The host the server was asked to bind, e.g. "127.0.0.1", "0.0.0.0", "::1", "localhost". */
  readonly host: string;
  readonly port: number;
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]', '']);

export function isOriginAllowed(origin: string | undefined, own: OwnAddress): boolean {
  if (origin === undefined) return true;
  if (origin.startsWith('vscode-webview://')) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // "null" (sandboxed frames, file: pages) and garbage
  }
  if (url.protocol !== 'http:' || url.username !== '' || url.password !== '') return false;
  const port = url.port === '' ? 80 : Number(url.port);
  if (port !== own.port) return false;
  return ownHostNames(own.host).has(url.hostname.toLowerCase());
}

/** The host names (as URL.hostname spells them) under which the agent's own page is reached. */
function ownHostNames(host: string): Set<string> {
  const names = new Set<string>();
  if (!WILDCARD_HOSTS.has(host)) {
    const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    names.add(canonicalHostName(bracketed));
  }
  if (isLoopback(host) || WILDCARD_HOSTS.has(host)) for (const name of LOOPBACK_NAMES) names.add(name);
  if (WILDCARD_HOSTS.has(host)) for (const name of machineHostNames()) names.add(name);
  return names;
}

/**
 * The names other machines can load the agent's page under when it listens everywhere: every
 * interface address, read at each check since addresses come and go (Wi-Fi, VPN), and the host
 * name. Still literal names, so a DNS-rebinding page (its own name in its Origin) is refused.
 */
function machineHostNames(): string[] {
  const names = [hostname().toLowerCase()];
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      // Link-local IPv6 needs a zone, which URLs cannot carry to a browser's Origin.
      if (address.family === 'IPv6' && address.scopeid !== undefined && address.scopeid !== 0) continue;
      names.push(canonicalHostName(address.family === 'IPv6' ? `[${address.address}]` : address.address));
    }
  }
  return names;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The host as URL.hostname writes it (lower case, IPv6 compressed), so spellings compare equal. */
function canonicalHostName(host: string): string {
  try {
    return new URL(`http://${host}/`).hostname;
  } catch {
    return host.toLowerCase();
  }
}
