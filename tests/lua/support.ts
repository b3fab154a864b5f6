// Helpers for the Wireshark plugin tests: running tshark with lua-dissector/cumma.lua, reading its
// per-packet fields, and working out independently which dialog each packet belongs to.

import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';

export const ROOT = join(__dirname, '..', '..');
export const PLUGIN = join(ROOT, 'lua-dissector', 'cumma.lua');
export const CLI = join(ROOT, 'dist', 'cumma.js');

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** tshark with the plugin loaded (`-X lua_script:`), synchronously. */
export function tshark(args: readonly string[], env: NodeJS.ProcessEnv = process.env, cwd?: string): Run {
  const result = spawnSync('tshark', ['-X', `lua_script:${PLUGIN}`, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env,
    cwd,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The same, without blocking the event loop (for servers running inside the test process). */
export function tsharkAsync(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('tshark', ['-X', `lua_script:${PLUGIN}`, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

export interface BoundedRun extends Run {
  /** Killed (SIGKILL) at the time limit: it hung. */
  timedOut: boolean;
  ms: number;
}

/**
 * tshark with the plugin, killed with SIGKILL after `timeoutMs` (a tshark blocked in open(2) on a
 * FIFO ends with nothing else) and under an address-space limit (`ulimit -v`), so that a runaway
 * read fails on its own instead of taking the machine's memory. Does not block the event loop.
 */
export function tsharkBounded(
  args: readonly string[],
  { timeoutMs, memoryMiB = 2048, env = process.env }: { timeoutMs: number; memoryMiB?: number; env?: NodeJS.ProcessEnv },
): Promise<BoundedRun> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const script = 'ulimit -v "$1" || exit 97; shift; exec tshark "$@"';
    const child = spawn('sh', ['-c', script, 'tshark-bounded', String(memoryMiB * 1024), '-X', `lua_script:${PLUGIN}`, ...args], { env });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, timedOut, ms: Date.now() - started });
    });
  });
}

export function cumma(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Run {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** No Lua error anywhere: not on stderr, not in the dissection (tshark shows them as expert infos). */
export function expectNoLuaError(run: Run): void {
  expect(run.stderr).not.toMatch(/Lua: Error|Lua Error|attempt to |stack traceback/i);
  expect(run.stdout).not.toMatch(/Lua Error|Lua: Error/i);
}

/** The record fields the tests match packets against (DESIGN.md's dialog record). */
export interface DialogLike {
  l4: 'tcp' | 'udp';
  client: { ip: string; port: number };
  server: { ip: string; port: number };
  startUs: number;
  endUs: number;
  usage: string;
}

export interface PacketRow {
  frame: number;
  /** Frame time in µs since the epoch, floored (as the agent counts it). */
  us: number;
  l4?: 'tcp' | 'udp';
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  /** The plugin's cumma.usage ('' when the packet has none). */
  usage: string;
}

const FIELDS = ['frame.number', 'frame.time_epoch', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'tcp.srcport', 'tcp.dstport', 'udp.srcport', 'udp.dstport', 'cumma.usage'];

/** `frame.time_epoch` text ("1705312800.558003123") as whole µs, floored, exactly. */
export function epochMicros(text: string): number {
  const [seconds = '', fraction = ''] = text.split('.');
  const us = BigInt(seconds) * 1_000_000n + BigInt((fraction + '000000').slice(0, 6));
  return Number(us);
}

/** Every packet of a capture with its addresses, ports, time (from tshark) and the plugin's label. */
export function readPackets(capture: string, extraArgs: readonly string[] = [], env?: NodeJS.ProcessEnv): { rows: PacketRow[]; run: Run } {
  const args = ['-r', capture, ...extraArgs, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=f', ...FIELDS.flatMap((f) => ['-e', f])];
  const run = tshark(args, env);
  expect(run.status, run.stderr).toBe(0);
  const rows = run.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line): PacketRow => {
      const [frame, time, ip4s, ip4d, ip6s, ip6d, tcps, tcpd, udps, udpd, usage] = line.split('\t');
      const tcp = tcps !== '' && tcps !== undefined;
      const udp = udps !== '' && udps !== undefined;
      const row: PacketRow = { frame: Number(frame), us: epochMicros(time!), usage: usage ?? '' };
      if (tcp || udp) {
        row.l4 = tcp ? 'tcp' : 'udp';
        row.src = ip4s || ip6s;
        row.dst = ip4d || ip6d;
        row.sport = Number(tcp ? tcps : udps);
        row.dport = Number(tcp ? tcpd : udpd);
      }
      return row;
    });
  return { rows, run };
}

/**
 * The usage each packet should get: its dialog is the record with the packet's 5-tuple (either
 * direction) whose [startUs, endUs] holds the packet's time. '' when there is none; a packet in
 * two dialogs at once is a test failure (dialogs partition a flow's packets).
 */
export function expectedUsages(rows: readonly PacketRow[], records: readonly DialogLike[]): Map<number, string> {
  const byKey = new Map<string, DialogLike[]>();
  for (const r of records) {
    for (const key of [`${r.l4} ${r.client.ip} ${r.client.port} ${r.server.ip} ${r.server.port}`, `${r.l4} ${r.server.ip} ${r.server.port} ${r.client.ip} ${r.client.port}`]) {
      const list = byKey.get(key) ?? [];
      list.push(r);
      byKey.set(key, list);
    }
  }
  const expected = new Map<number, string>();
  for (const row of rows) {
    if (row.l4 === undefined) {
      expected.set(row.frame, '');
      continue;
    }
    const candidates = (byKey.get(`${row.l4} ${row.src} ${row.sport} ${row.dst} ${row.dport}`) ?? []).filter((r) => r.startUs <= row.us && row.us <= r.endUs);
    if (candidates.length > 1) throw new Error(`frame ${row.frame} lies in ${candidates.length} dialogs`);
    expected.set(row.frame, candidates[0]?.usage ?? '');
  }
  return expected;
}

/** Compares labels frame by frame and reports the first differences readably. */
export function expectLabels(rows: readonly PacketRow[], expected: Map<number, string>): void {
  const wrong = rows.filter((row) => row.usage !== expected.get(row.frame));
  const sample = wrong.slice(0, 5).map((row) => `frame ${row.frame}: got '${row.usage}', expected '${expected.get(row.frame)}'`);
  expect(sample, `${wrong.length} of ${rows.length} packets labelled differently`).toEqual([]);
}

export function parseJsonl<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}
