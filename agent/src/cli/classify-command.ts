/**
 * `cumma classify FILE`: the dialogs of a capture with their predicted usage, as DESIGN.md's
 * dialog records.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { IpAnonymizer } from '../anonymize/anonymizer';
import { STANDARD_INPUT, captureDisplayName, readCaptureFile } from '../capture/file-reader';
import { UndecodedLinks } from '../capture/undecoded-links';
import { SIDECAR_SUFFIX, sidecarPathOf } from '../live/sidecar-file';
import { DialogRecordMaker, TemporalMode } from '../pipeline/dialog-labeler';
import { DialogStream, describeTimestampJumps } from '../pipeline/dialog-stream';
import { readModelGapsAhead } from '../pipeline/model-gaps-ahead';
import { UsageModel } from '../pipeline/usage-model';
import { ANONYMIZE_OPTIONS, ANONYMIZE_SYNOPSIS, anonymizeKeyHelp, parseAnonymizeOption } from './anonymize-option';
import { ClassifyOutput, ClassifyOutputOptions } from './classify-output';
import { LabelingThread, VerdictSink } from './labeling-thread';
import { MessageText, messageText, reportingIn } from './message-text';
import { OUTPUT_FORMATS, OutputFormat } from './flow-format';
import { CommandIo, continueReading, defaultFormat } from './flows-command';
import { OutputSink } from './output-sink';
import { ProgressBar } from './progress-bar';
import { checkSidecarTarget } from './sidecar-target';
import { TEMPORAL_HELP, TEMPORAL_OPTIONS, parseTemporal } from './temporal-option';

/** Smaller captures are read before a person would notice a bar. */
const PROGRESS_MIN_BYTES = 50 * 1024 * 1024;
/**
 * Smaller captures are labelled on the reading thread: starting a second one and loading the
 * model there costs ≈ 60 ms, and labelling beside the reader saves ≈ 1.5 ms a MB (bench file).
 */
const LABEL_THREAD_MIN_BYTES = 32 * 1024 * 1024;
import { UsageError, parseChoice } from './usage-error';

/** The shipped model, relative to the bundle in dist/commands/. */
export const DEFAULT_MODEL = join(__dirname, '..', '..', 'models', 'default.json');

export const CLASSIFY_USAGE = `usage: cumma classify FILE [--model MODEL.json] [--format table|jsonl|csv] ${ANONYMIZE_SYNOPSIS} [--temporal forward|viterbi|off | --no-temporal] [--sidecar]

Cuts a pcap/pcapng capture into sessions and dialogs and labels each dialog with the service
usage it carries (text, photo, voice_note, video_clip, file, location, voice_call, video_call,
streaming, other; unknown for a dialog like none of them). Dialogs are printed as they complete
(with --temporal viterbi, session by session as their sessions complete). FILE - reads
standard input (… | cumma classify -; its records name the capture "stdin").
  --model        model file (default: the shipped models/default.json)
  --format       table (aligned columns), jsonl (the dialog records of docs/records.md) or csv;
                 default: table on a terminal, jsonl otherwise
  --anonymize    replace every IP address by its keyed, prefix-preserving (Crypto-PAn) image,
                 in the records and in what is printed on stderr;
${anonymizeKeyHelp('                 ')}
${TEMPORAL_HELP}
  --sidecar      also write FILE${SIDECAR_SUFFIX}, the labels file Wireshark's Cumma plugin reads;
                 it keeps the real addresses even with --anonymize: Wireshark matches them
                 against the capture's own packets, and it stays beside the capture;
                 FILE must be a regular file in a folder that can be written`;

export async function runClassify(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      format: { type: 'string' },
      ...ANONYMIZE_OPTIONS,
      ...TEMPORAL_OPTIONS,
      sidecar: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'classify needs a capture FILE' : 'classify takes exactly one FILE');
  const format = parseChoice('format', values.format, OUTPUT_FORMATS, defaultFormat(io.stdout));
  const anonymizeKey = parseAnonymizeOption(values)?.bytes;
  const modelPath = values.model ?? DEFAULT_MODEL;
  const file = positionals[0]!;
  const temporal = parseTemporal(values);
  const words = messageText(anonymizeKey === undefined ? undefined : new IpAnonymizer(anonymizeKey));
  return reportingIn(words, () => classifyCapture(file, { format, anonymizeKey, modelPath, temporal, sidecar: values.sidecar, words }, io));
}

interface ClassifyOptions {
  readonly format: OutputFormat;
  /** Set with --anonymize: the records' addresses are anonymised, and `words` anonymises those on stderr. */
  readonly anonymizeKey: Uint8Array | undefined;
  readonly words: MessageText;
  readonly modelPath: string;
  readonly temporal: TemporalMode;
  readonly sidecar: boolean;
}

async function classifyCapture(file: string, options: ClassifyOptions, io: CommandIo): Promise<number> {
  const { format, anonymizeKey, words, modelPath, temporal } = options;
  // Large captures run the model on a second thread (when its bundle is there, not when running
  // from sources), which loads it; this thread then needs only its header.
  // CUMMA_LABEL_THREAD=0 or 1 decides regardless of size, for comparisons: the output is the same.
  const stats = file !== STANDARD_INPUT && existsSync(file) ? statSync(file) : undefined;
  if (options.sidecar) checkSidecarTarget(file, sidecarPathOf(file), stats);
  const size = stats?.size ?? 0;
  const threadWanted = process.env.CUMMA_LABEL_THREAD === undefined || process.env.CUMMA_LABEL_THREAD === '' ? size >= LABEL_THREAD_MIN_BYTES : process.env.CUMMA_LABEL_THREAD !== '0';
  const script = threadWanted ? LabelingThread.scriptIn(__dirname) : undefined;
  if (script === undefined && process.env.CUMMA_LABEL_THREAD === '1') {
    throw new Error(`CUMMA_LABEL_THREAD=1, but the labelling thread's bundle is not in ${__dirname} (run npm run build)`);
  }
  let deliver: VerdictSink = () => {
    throw new Error('labelling: verdicts before any dialog was posted');
  };
  const thread = script === undefined ? undefined : LabelingThread.start(script, { modelPath, temporal }, (verdicts, dialogOf, header) => deliver(verdicts, dialogOf, header));
  try {
    const model = thread === undefined ? UsageModel.load(modelPath) : undefined;
    // Segmenting needs only the gaps. The labeller takes ≈ 0.15 s to start and parse the model;
    // read ahead from the file's start, the gaps let this thread work on the capture meanwhile.
    const gapsAhead = thread === undefined ? undefined : readModelGapsAhead(modelPath);
    if (gapsAhead !== undefined) thread!.expectGaps(gapsAhead);
    const gaps = model?.gaps ?? gapsAhead ?? thread!.modelHeader().gaps;
    const outputOptions: ClassifyOutputOptions = {
      format,
      anonymizeKey,
      sidecarPath: options.sidecar ? sidecarPathOf(file) : undefined,
      captureMode: options.sidecar ? stats?.mode : undefined,
      note: (text) => io.stderr.write(`cumma: ${words(`${captureDisplayName(file)}: ${text}`)}\n`),
    };
    const sink = new OutputSink(io.stdout);
    const output = new ClassifyOutput(outputOptions, sink);
    let recordMaker: DialogRecordMaker | undefined;
    deliver = (verdicts, dialogOf, header) => {
      recordMaker ??= new DialogRecordMaker(header);
      for (const record of recordMaker.recordsOf(verdicts, dialogOf, 'final')) output.record(record);
    };
    // Large files on a terminal get a progress bar on stderr; pipes and small files do not.
    const bar = (io.stderr as { isTTY?: boolean }).isTTY && size > PROGRESS_MIN_BYTES ? new ProgressBar(io.stderr, 'classifying', size) : undefined;
    if (bar !== undefined) sink.share(bar);
    const stream = new DialogStream({
      capture: file === STANDARD_INPUT ? 'stdin' : basename(file),
      model: model ?? { gaps },
      temporal,
      onFinal: (record) => output.record(record),
      handOff: thread === undefined ? undefined : (dialogs, endedSessions) => thread.post(dialogs, endedSessions),
    });
    const undecoded = new UndecodedLinks();
    // A capture that cannot be read at all leaves an earlier sidecar alone; one that fails
    // part-way gets the dialogs read before the fault, as stdout does.
    let packets = 0;
    let readToEnd = false;
    try {
      readCaptureFile(
        file,
        (packet) => {
          packets++;
          bar?.update(packet.blockOffset);
          undecoded.note(packet);
          stream.push(packet);
        },
        {
          afterChunk: (sequential) => {
            // The labelling thread loads the model while this one reads (the gaps were read
            // ahead): a model it cannot load ends the reading here, before any result.
            thread?.poll();
            // A live pipe's next read may wait for the capturing program: label the dialogs
            // complete so far now rather than when a batch of them has piled up.
            if (sequential) stream.drain();
            // With --sidecar the whole capture is read even when stdout has closed: the
            // sidecar is a result too.
            return continueReading(sink, sequential) || outputOptions.sidecarPath !== undefined;
          },
        },
      );
      readToEnd = true;
    } finally {
      // On corrupt input too: the dialogs read before the fault are printed, then the error.
      bar?.clear();
      try {
        stream.flush();
        thread?.finish();
      } finally {
        // A file that gave no packet before failing (not a capture, compressed, unreadable) has
        // no result to sum up: "0 dialogs" before its error would read as one. Nor has a capture
        // read with a model that could not be loaded: its error comes alone, as it does when the
        // model is loaded before reading.
        const modelFailed = thread?.failedOnModel === true;
        const result = !modelFailed && (readToEnd || packets > 0);
        output.finish(result ? { model: modelPath, gaps } : undefined, { sidecar: result });
        if (!modelFailed) {
          for (const message of undecoded.messages(captureDisplayName(file))) io.stderr.write(`cumma: ${words(message)}\n`);
          if (stream.timestampJumps.count > 0) io.stderr.write(`cumma: ${words(`${captureDisplayName(file)}: ${describeTimestampJumps(stream.timestampJumps, gaps.sessionGapUs)}`)}\n`);
        }
      }
    }
  } finally {
    await thread?.close();
  }
  return 0;
}
