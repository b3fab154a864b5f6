/**
 * Runs a command the way a user would and measures it: wall time around the whole process, and
 * peak resident memory from GNU time (`/usr/bin/time -f %M`) when it is installed.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { checkInterrupted } from './interruptible';

const GNU_TIME = '/usr/bin/time';

export interface Measurement {
  wallSeconds: number;
  /** Peak resident set size in MB (10^6 bytes); undefined without GNU time. */
  peakRssMB: number | undefined;
}

export class CommandFailed extends Error {
  constructor(
    readonly command: string,
    readonly detail: string,
  ) {
    super(`${command}: ${detail}`);
    this.name = 'CommandFailed';
  }
}

/** Absolute path of an executable on PATH, or undefined (without running it). */
export function which(tool: string): string | undefined {
  if (tool.includes('/')) return existsSync(tool) ? tool : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, tool))) return join(dir, tool);
  }
  return undefined;
}

export function gnuTimeAvailable(): boolean {
  if (!existsSync(GNU_TIME)) return false;
  // BusyBox and BSD time lack -f/-o; probe once.
  const probe = spawnSync(GNU_TIME, ['-f', '%M', '-o', '/dev/null', 'true'], { stdio: 'ignore' });
  return probe.status === 0;
}

/**
 * Runs `command args` with stdout to `stdoutPath` (e.g. /dev/null) and returns its cost.
 * Throws CommandFailed, with the end of stderr, on a non-zero exit.
 */
export function measure(command: string, args: readonly string[], stdoutPath: string, useGnuTime: boolean, env: NodeJS.ProcessEnv = process.env): Measurement {
  const rssFile = join(tmpdir(), `cumma-bench-rss-${process.pid}.txt`);
  const [file, fileArgs] = useGnuTime ? [GNU_TIME, ['-f', '%M', '-o', rssFile, command, ...args]] : [command, [...args]];
  const out = openSync(stdoutPath, 'w');
  try {
    const started = process.hrtime.bigint();
    const result = spawnSync(file, fileArgs, { stdio: ['ignore', out, 'pipe'], maxBuffer: 64 << 20, env });
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const label = [command, ...args].join(' ');
    if (result.error) throw new CommandFailed(label, result.error.message);
    // Ctrl-C reached the command too: the benchmark stops, rather than time the next one.
    checkInterrupted(result);
    if (result.status !== 0) {
      const stderr = result.stderr.toString('utf8').trim().split('\n').slice(-3).join(' | ');
      throw new CommandFailed(label, `exit ${result.status ?? result.signal}${stderr ? `: ${stderr}` : ''}`);
    }
    let peakRssMB: number | undefined;
    if (useGnuTime) {
      // %M is in KiB. GNU time may print "Command exited with non-zero status" first.
      const kib = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
      peakRssMB = Number.isFinite(kib) ? (kib * 1024) / 1e6 : undefined;
    }
    return { wallSeconds, peakRssMB };
  } finally {
    closeSync(out);
    rmSync(rssFile, { force: true });
  }
}

/** Best (lowest) wall time of `runs` runs; the peak RSS is the highest seen, to be conservative. */
export function measureBest(
  command: string,
  args: readonly string[],
  stdoutPath: string,
  useGnuTime: boolean,
  runs: number,
  env: NodeJS.ProcessEnv = process.env,
): Measurement {
  let best: Measurement | undefined;
  let peak: number | undefined;
  for (let i = 0; i < runs; i++) {
    const m = measure(command, args, stdoutPath, useGnuTime, env);
    if (best === undefined || m.wallSeconds < best.wallSeconds) best = m;
    if (m.peakRssMB !== undefined) peak = Math.max(peak ?? 0, m.peakRssMB);
  }
  if (best === undefined) throw new RangeError('runs must be at least 1');
  return { wallSeconds: best.wallSeconds, peakRssMB: peak };
}

/**
 * Variables that cost a Node.js process time before any script runs, and that none of the
 * measured commands needs. NODE_EXTRA_CA_CERTS: node reads that file and parses it with its own
 * root certificates at every start (`node -e 0`: 62 ms with the sandbox's bundle set, 22 ms
 * without, on the project's machine), and no command measured here makes a TLS connection.
 */
const START_UP_ONLY_VARIABLES = ['NODE_EXTRA_CA_CERTS'] as const;

export interface MeasuringEnvironment {
  /** `env` without START_UP_ONLY_VARIABLES. */
  readonly env: NodeJS.ProcessEnv;
  /** Those of them that were set, and so are left out. */
  readonly removed: readonly string[];
}

/** The environment commands are measured in: the given one, less the start-up-only variables. */
export function measuringEnvironment(env: NodeJS.ProcessEnv = process.env): MeasuringEnvironment {
  const kept: NodeJS.ProcessEnv = { ...env };
  const removed: string[] = [];
  for (const name of START_UP_ONLY_VARIABLES) {
    if (kept[name] === undefined) continue;
    delete kept[name];
    removed.push(name);
  }
  return { env: kept, removed };
}

/** Best wall time of `runs` starts of `node -e 0` in `env`: what Node.js itself costs a command. */
export function nodeStartSeconds(env: NodeJS.ProcessEnv, runs: number): number {
  return measureBest(process.execPath, ['-e', '0'], '/dev/null', false, Math.max(1, runs), env).wallSeconds;
}
