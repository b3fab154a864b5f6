/**
 * `cumma record --usage U [--app A] [--duration S] [--speed X] [--seed N] -o OUT.pcapng`:
 * builds the usage's traffic script and records it as real encrypted loopback traffic with
 * dumpcap (see record.ts). The script builder is passed in by the CLI, so this module depends
 * on the simulator's usage models only through one function.
 */
import { parseArgs } from 'node:util';
import { captureOutputProblem } from '../capture/capture-output';
import { CaptureError } from '../capture/errors';
import { USAGE_CLASSES, UsageClass } from '../labels';
import { captureDialogs } from '../pipeline/capture-dialogs';
import { DEFAULT_GAPS } from '../segment/dialog';
import { TrafficScript } from '../simulate/traffic-script';
import { RecordError } from './errors';
import { RecordOptions, RecordSummary, recordUsage } from './record';
import { UsageError, parseChoice, parsePositiveNumber } from '../cli/usage-error';

export const DEFAULT_RECORD_DURATION_S = 60;
export const DEFAULT_RECORD_SEED = 1;
/**
 * Longest --duration, as `cumma simulate`'s: the script is built whole before the replay, and a
 * day of it would exhaust memory before anything was recorded.
 */
export const MAX_RECORD_DURATION_S = 3600;
/** Faster than this, timer granularity (≈1 ms) distorts the script's timing beyond use. */
export const MAX_RECORD_SPEED = 100;
/** Exit code for a recording stopped by a signal: 128 + SIGINT, as shells report it. */
export const EXIT_INTERRUPTED = 130;

export const RECORD_USAGE = `usage: cumma record --usage USAGE -o OUT.pcapng [--app APP] [--duration SECONDS] [--speed X] [--seed N] [--dumpcap PATH] [--stats]

Replays a service usage as real TLS 1.3 and AES-GCM/UDP traffic on the loopback interface,
captures it with dumpcap and writes OUT.pcapng with a truth comment on every packet
(cumma:usage=U session=N dialog=N) plus OUT.pcapng.truth.jsonl.
Needs dumpcap with capture rights on lo (root, or CAP_NET_RAW) and openssl.
  --usage     ${USAGE_CLASSES.join(', ')}
  -o          the capture to write; an existing file is replaced only when it is a pcapng
              capture or empty (anything else, a device or a folder is refused, and kept)
  --app       the app whose profile shapes the traffic
  --duration  seconds of activity to plan (default ${DEFAULT_RECORD_DURATION_S}, at most ${MAX_RECORD_DURATION_S}), as for cumma simulate: no
              new usage starts after it, but one that has started ends as it would, so the
              script (and, at --speed 1, the recording) can run longer than asked
  --speed     replay this many times faster than real time (default 1, at most ${MAX_RECORD_SPEED}); pauses
              shrink too, and one below the 5-s dialog gap merges two dialogs (a warning
              says so): record training data at speed 1
  --seed      seed of the traffic script (default ${DEFAULT_RECORD_SEED})
  --dumpcap   path of dumpcap (default: dumpcap on PATH)
  --stats     print the recording summary to stderr as JSON`;

export interface RecordScriptRequest {
  readonly usage: UsageClass;
  readonly app: string;
  readonly durationS: number;
  readonly seed: number;
}

export interface RecordCommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export interface RecordCommandDeps {
  /** The simulator's usage model: the script to replay. */
  readonly buildScript: (request: RecordScriptRequest) => TrafficScript;
  /** Valid --app values; the first is the default. */
  readonly apps: readonly string[];
  /** The recorder (replaced in tests that check the command line only). */
  readonly record?: (options: RecordOptions) => Promise<RecordSummary>;
}

/** Runs the command; resolves to the exit code. Rejects with UsageError on a bad command line. */
export async function runRecord(args: readonly string[], io: RecordCommandIo, deps: RecordCommandDeps): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      usage: { type: 'string' },
      app: { type: 'string' },
      duration: { type: 'string' },
      speed: { type: 'string' },
      seed: { type: 'string' },
      output: { type: 'string', short: 'o' },
      dumpcap: { type: 'string' },
      stats: { type: 'boolean', default: false },
    },
  });
  if (positionals.length > 0) throw new UsageError(`record takes no positional arguments, got '${positionals[0]}'`);
  if (values.usage === undefined) throw new UsageError(`record needs --usage, one of ${USAGE_CLASSES.join(', ')}`);
  const usage = parseChoice('usage', values.usage, USAGE_CLASSES, 'text');
  if (deps.apps.length === 0) throw new Error('record: no app profiles were wired in');
  const app = parseChoice('app', values.app, deps.apps, deps.apps[0]!);
  const durationS = parsePositiveNumber('duration', values.duration, DEFAULT_RECORD_DURATION_S);
  if (durationS > MAX_RECORD_DURATION_S) throw new UsageError(`--duration must be at most ${MAX_RECORD_DURATION_S} seconds, got '${values.duration}'`);
  const speed = parsePositiveNumber('speed', values.speed, 1);
  if (speed > MAX_RECORD_SPEED) throw new UsageError(`--speed must be at most ${MAX_RECORD_SPEED}, got '${values.speed}'`);
  const seed = parseSeed(values.seed);
  const output = values.output;
  if (output === undefined || output === '') throw new UsageError('record needs -o OUT.pcapng');
  // Before dumpcap starts: the recording would otherwise be renamed over whatever -o names.
  const outputProblem = captureOutputProblem(output, 'record');
  if (outputProblem !== undefined) throw new UsageError(outputProblem);

  const script = deps.buildScript({ usage, app, durationS, seed });
  const record = deps.record ?? recordUsage;
  let summary: RecordSummary;
  try {
    summary = await record({
      script,
      output,
      speed,
      ...(values.dumpcap !== undefined ? { dumpcapPath: values.dumpcap } : {}),
      onProgress: (line) => io.stderr.write(`cumma record: ${line}\n`),
    });
  } catch (error) {
    if (error instanceof RecordError) {
      io.stderr.write(`cumma record: error: ${error.message}\n`);
      return error.code === 'RECORD_INTERRUPTED' ? EXIT_INTERRUPTED : 1;
    }
    if (error instanceof CaptureError) {
      io.stderr.write(`cumma record: error: reading dumpcap's capture: ${error.message}\n`);
      return 1;
    }
    throw error;
  }

  io.stdout.write(`${describeSummary(summary, usage, app)}\n`);
  for (const warning of [...summaryWarnings(summary), ...mergedDialogWarnings(summary.output, speed)]) io.stderr.write(`cumma record: warning: ${warning}\n`);
  if (values.stats) io.stderr.write(`${JSON.stringify(summary)}\n`);
  return 0;
}

function parseSeed(text: string | undefined): number {
  if (text === undefined) return DEFAULT_RECORD_SEED;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new UsageError(`--seed expects a non-negative integer, got '${text}'`);
  return value;
}

export function describeSummary(summary: RecordSummary, usage: UsageClass, app: string): string {
  const seconds = (summary.replayMs / 1000).toFixed(1);
  return (
    `recorded ${usage} (${app}) into ${summary.output}: ${summary.packets} packets, ${summary.bytes} bytes, ` +
    `${summary.connections} connections in ${seconds} s at speed ${summary.speed}; ` +
    `truth: ${summary.truthOutput} (${summary.truthRecords} records)`
  );
}

/**
 * Dialogs of the recording whose packets carry two labels, each as train and evaluate will report
 * it (TRUTH_LABEL_CONFLICT: they warn and count such a dialog under the label most of its packets
 * carry). Faster than real time, the script's pauses shrink too, and one shorter than the dialog
 * gap no longer separates two activities: the capture then makes poor training data.
 */
export function mergedDialogWarnings(path: string, speed: number): string[] {
  const conflicts: string[] = [];
  try {
    captureDialogs(path, { gaps: DEFAULT_GAPS, truth: true, onWarning: (message) => {
      if (message.includes('TRUTH_LABEL_CONFLICT')) conflicts.push(message);
    } });
  } catch {
    // The recording itself was checked as it was written; a read failure here is no merge.
    return [];
  }
  if (conflicts.length === 0) return [];
  const why =
    speed > 1
      ? `at --speed ${speed} the script's pauses are ${speed} times shorter, and those under ${(speed * DEFAULT_GAPS.dialogGapUs) / 1e6} s fall below the ${DEFAULT_GAPS.dialogGapUs / 1e6}-s dialog gap, merging two activities into one dialog; train and evaluate count each under its majority label (record training data at --speed 1)`
      : 'its activities were not separated by a dialog gap; train and evaluate count each such dialog under its majority label';
  return [...conflicts, why];
}

/** Things that make a recording less faithful than it should be, for the user to know. */
export function summaryWarnings(summary: RecordSummary): string[] {
  const warnings: string[] = [];
  if (summary.dumpcap && summary.dumpcap.dropped > 0) {
    warnings.push(`dumpcap dropped ${summary.dumpcap.dropped} packets (kernel buffer full): lower --speed`);
  }
  if (summary.dumpcap === undefined) warnings.push('dumpcap gave no statistics: drops unknown');
  const lost = summary.udpDatagrams.sent - summary.udpDatagrams.received;
  if (lost > 0) warnings.push(`${lost} of ${summary.udpDatagrams.sent} UDP datagrams were lost on loopback (socket buffers full): lower --speed`);
  if (summary.foreignPackets > 0) warnings.push(`${summary.foreignPackets} captured packets belonged to no replayed connection and were left out`);
  if (summary.maxLateUs > 50_000) warnings.push(`a message was sent ${(summary.maxLateUs / 1000).toFixed(0)} ms late (busy machine?)`);
  return warnings;
}
