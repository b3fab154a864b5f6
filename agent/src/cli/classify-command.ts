/**
 * `cumma classify FILE`: the dialogs of a capture with their predicted usage, as DESIGN.md's
 * dialog records.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { IpAnonymizer } from '../anonymize/anonymizer';
import { parseAnonymizeKey } from '../anonymize/key';
import { readCaptureFile } from '../capture/file-reader';
import { SIDECAR_SUFFIX, sidecarPathOf, writeSidecar } from '../live/sidecar-file';
import { DialogRecord } from '../pipeline/dialog-record';
import { DialogStream } from '../pipeline/dialog-stream';
import { UsageModel } from '../pipeline/usage-model';
import { dialogFormatter } from './dialog-format';
import { OUTPUT_FORMATS } from './flow-format';
import { CommandIo, defaultFormat } from './flows-command';
import { OutputSink } from './output-sink';
import { ProgressBar } from './progress-bar';

/** Smaller captures are read before a person would notice a bar. */
const PROGRESS_MIN_BYTES = 50 * 1024 * 1024;
import { UsageError, parseChoice } from './usage-error';

/** The shipped model, relative to the bundle in dist/commands/. */
export const DEFAULT_MODEL = join(__dirname, '..', '..', 'models', 'default.json');

export const CLASSIFY_USAGE = `usage: cumma classify FILE [--model MODEL.json] [--format table|jsonl|csv] [--anonymize KEY] [--no-temporal] [--sidecar]

Cuts a pcap/pcapng capture into sessions and dialogs and labels each dialog with the service
usage it carries (text, photo, voice_note, video_clip, file, location, voice_call, video_call,
streaming, other; unknown for a dialog like none of them). Dialogs are printed as they complete.
  --model        model file (default: the shipped models/default.json)
  --format       table on a terminal, jsonl otherwise
  --anonymize    replace every IP address by its keyed, prefix-preserving (Crypto-PAn) image;
                 KEY is 64 hex digits or a passphrase of at least 8 characters
  --no-temporal  classify each dialog alone, without filtering along its session
  --sidecar      also write FILE${SIDECAR_SUFFIX}, the labels file Wireshark's Cumma plugin reads`;

export async function runClassify(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      format: { type: 'string' },
      anonymize: { type: 'string' },
      'no-temporal': { type: 'boolean', default: false },
      sidecar: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'classify needs a capture FILE' : 'classify takes exactly one FILE');
  const format = parseChoice('format', values.format, OUTPUT_FORMATS, defaultFormat(io.stdout));
  const anonymizer = values.anonymize !== undefined ? new IpAnonymizer(parseAnonymizeKey(values.anonymize).bytes) : undefined;
  const model = UsageModel.load(values.model ?? DEFAULT_MODEL);
  const file = positionals[0]!;
  const sink = new OutputSink(io.stdout);
  const formatter = dialogFormatter(format);
  for (const line of formatter.header) sink.line(line);
  // Kept only when a sidecar is asked for; otherwise each record is printed and forgotten.
  const kept: DialogRecord[] | undefined = values.sidecar ? [] : undefined;
  // Large files on a terminal get a progress bar on stderr; pipes and small files do not.
  const size = existsSync(file) ? statSync(file).size : 0;
  const bar = (io.stderr as { isTTY?: boolean }).isTTY && size > PROGRESS_MIN_BYTES ? new ProgressBar(io.stderr, 'classifying', size) : undefined;
  const stream = new DialogStream({
    capture: basename(file),
    model,
    temporal: !values['no-temporal'],
    onFinal: (record) => {
      kept?.push(record);
      sink.line(formatter.format(anonymizer ? anonymizer.anonymizeEndpoints(record) : record));
    },
  });
  try {
    readCaptureFile(file, (packet) => {
      bar?.update(packet.blockOffset);
      stream.push(packet);
    });
  } finally {
    // On corrupt input too: the dialogs read before the fault are printed, then the error.
    bar?.clear();
    stream.flush();
    sink.flush();
    if (kept !== undefined) writeSidecar(sidecarPathOf(file), kept);
  }
  return 0;
}
