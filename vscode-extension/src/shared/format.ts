/** Text forms shared by the panel and the capture editor. */
import type { FlowRecord } from '../../../agent/src/flows/flow-record';

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

/** Wall-clock time of day, local, with milliseconds: 14:03:27.512 */
export function formatClock(us: number): string {
  const date = new Date(Math.floor(us / 1000));
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** Seconds relative to a reference, as Wireshark's time column shows them: 12.345678 */
export function formatRelative(us: number, originUs: number): string {
  return ((us - originUs) / 1e6).toFixed(6);
}

export function formatDuration(us: number): string {
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(1)} ms`;
  return `${(us / 1e6).toFixed(us < 10_000_000 ? 2 : 1)} s`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

export function formatPercent(value: number): string {
  return `${Math.round(value * 100)} %`;
}

/** IPv6 addresses take brackets before a port. */
export function formatEndpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** What joins the two ends in flowLabel. */
export const FLOW_ARROW = ' → ';

/**
 * flowLabel in two parts, for views that elide them separately: the client end, and the server
 * end with the transport. Where space is short the client is elided first: it is mostly this
 * machine, the same in every row, while the server tells flows apart.
 */
export function flowEnds(flow: Pick<FlowRecord, 'l4' | 'client' | 'server'>): { readonly client: string; readonly server: string } {
  return { client: formatEndpoint(flow.client.ip, flow.client.port), server: `${formatEndpoint(flow.server.ip, flow.server.port)} ${flow.l4}` };
}

export function flowLabel(flow: Pick<FlowRecord, 'l4' | 'client' | 'server'>): string {
  const { client, server } = flowEnds(flow);
  return `${client}${FLOW_ARROW}${server}`;
}

/** One key for both directions of a 5-tuple: the endpoints in a fixed order. */
export function flowKey(l4: string, ipA: string, portA: number, ipB: string, portB: number): string {
  const a = `${ipA}|${portA}`;
  const b = `${ipB}|${portB}`;
  return a < b ? `${l4}|${a}|${b}` : `${l4}|${b}|${a}`;
}
