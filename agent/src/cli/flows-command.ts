/**
 * `cumma flows FILE`: reads a capture and prints one bidirectional flow record per line.
 * Flows are printed as they end (idle timeout, table full, end of the capture); on corrupt
 * input every flow assembled so far is still printed before the error.
 */
import { parseArgs } from 'node:util';
import { CaptureError } from '../capture/errors';
import { captureDisplayName, streamCaptureFile } from '../capture/file-reader';
import { IpAnonymizer } from '../anonymize/anonymizer';
import { Packet } from '../capture/packet';
import { UndecodedLinks } from '../capture/undecoded-links';
import { DEFAULT_IDLE_TIMEOUT_US, DEFAULT_MAX_FLOWS, FlowTable } from '../flows/flow-table';
import { ANONYMIZE_OPTIONS, ANONYMIZE_SYNOPSIS, anonymizeKeyHelp, parseAnonymizeOption } from './anonymize-option';
import { OUTPUT_FORMATS, OutputFormat, flowFormatter } from './flow-format';
import { MessageText, messageText, reportingIn } from './message-text';
import { OutputSink } from './output-sink';
import { UsageError, parseChoice, parsePositiveInteger, parsePositiveNumber } from './usage-error';

export const FLOWS_USAGE = `usage: cumma flows FILE [--format table|jsonl|csv] [--idle-timeout SECONDS] [--max-flows N] ${ANONYMIZE_SYNOPSIS} [--stats]

Prints the bidirectional TCP/UDP flows of a pcap or pcapng capture, one per line. FILE - reads
standard input (… | cumma flows -), as do pipes and FIFOs given by name.
  --format        table (aligned columns), jsonl (the flow records of docs/records.md) or csv;
                  default: table on a terminal, jsonl otherwise
  --idle-timeout  a flow silent this long ends (default ${DEFAULT_IDLE_TIMEOUT_US / 1e6} s)
  --max-flows     flows held at once; when full, the least recently active (to within
                  min(1 s, timeout/256)) is printed early (default ${DEFAULT_MAX_FLOWS})
  --anonymize     replace every IP address by its keyed, prefix-preserving (Crypto-PAn) image,
                  in the records and in what is printed on stderr;
${anonymizeKeyHelp('                  ')}
  --stats         print packet and flow counts, time and peak memory to stderr as JSON`;

export interface CommandIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream;
}

/**
 * Between chunks of a capture being read while its records are printed: a live pipe's records go
 * out now rather than when 64 KiB have piled up (the next read may wait for the capturing
 * program), and reading stops once whoever read the output has gone (`… | head`).
 */
export function continueReading(sink: OutputSink, sequential: boolean): boolean {
  if (sequential) sink.flush();
  return sink.open;
}

export function defaultFormat(stdout: { isTTY?: boolean }): OutputFormat {
  return stdout.isTTY ? 'table' : 'jsonl';
}

/** Runs the command; returns the process exit code. */
export async function runFlows(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      format: { type: 'string' },
      'idle-timeout': { type: 'string' },
      'max-flows': { type: 'string' },
      stats: { type: 'boolean', default: false },
      ...ANONYMIZE_OPTIONS,
    },
  });
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'flows needs a capture FILE' : 'flows takes exactly one FILE');
  const file = positionals[0]!;
  const format = parseChoice('format', values.format, OUTPUT_FORMATS, defaultFormat(io.stdout));
  const idleTimeoutUs = Math.max(1, Math.round(parsePositiveNumber('idle-timeout', values['idle-timeout'], DEFAULT_IDLE_TIMEOUT_US / 1e6) * 1e6)); // whole µs, as timestamps are: 4.1 * 1e6 is 4099999.9999999995
  const maxFlows = parsePositiveInteger('max-flows', values['max-flows'], DEFAULT_MAX_FLOWS);
  const key = parseAnonymizeOption(values);
  const anonymizer = key !== undefined ? new IpAnonymizer(key.bytes) : undefined;
  const words = messageText(anonymizer);
  return reportingIn(words, () => printFlows(file, { format, idleTimeoutUs, maxFlows, stats: values.stats, anonymizer, words }, io));
}

interface FlowsOptions {
  readonly format: OutputFormat;
  readonly idleTimeoutUs: number;
  readonly maxFlows: number;
  readonly stats: boolean;
  /** Set with --anonymize: the records' addresses are anonymised, and `words` anonymises those on stderr. */
  readonly anonymizer: IpAnonymizer | undefined;
  readonly words: MessageText;
}

async function printFlows(file: string, options: FlowsOptions, io: CommandIo): Promise<number> {
  const { format, idleTimeoutUs, maxFlows, anonymizer, words } = options;
  const started = process.hrtime.bigint();
  const sink = new OutputSink(io.stdout);
  const formatter = flowFormatter(format);
  for (const line of formatter.header) sink.line(line);
  const table = new FlowTable((flow) => sink.line(formatter.format(anonymizer ? anonymizer.anonymizeEndpoints(flow) : flow)), { idleTimeoutUs, maxFlows });
  const undecoded = new UndecodedLinks();

  let failure: CaptureError | undefined;
  try {
    const onPacket = (packet: Packet): void => {
      table.add(packet);
      undecoded.note(packet);
    };
    await streamCaptureFile(file, onPacket, { afterChunk: (sequential) => continueReading(sink, sequential) });
  } catch (error) {
    if (!(error instanceof CaptureError)) throw error;
    failure = error;
  }
  // Whatever was read before a failure is still a valid result: print it.
  table.flush();
  sink.flush();

  for (const message of undecoded.messages(captureDisplayName(file))) io.stderr.write(`cumma: ${words(message)}\n`);
  if (options.stats) {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const summary = { file: words(file), ...table.stats, seconds, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
    io.stderr.write(`${JSON.stringify(summary)}\n`);
  }
  if (failure) {
    io.stderr.write(`cumma flows: error: ${words(failure.message)}\n`);
    return 1;
  }
  return 0;
}
