/**
 * What `cumma classify` does with each dialog record, whichever thread ran the model: anonymise
 * it when asked, print it in the chosen format, and keep it for the sidecar when one is asked for.
 */
import { IpAnonymizer } from '../anonymize/anonymizer';
import { writeSidecar } from '../live/sidecar-file';
import { DialogRecord } from '../pipeline/dialog-record';
import { SegmentationGaps } from '../segment/dialog';
import { dialogFormatter } from './dialog-format';
import { OutputFormat, RecordFormatter } from './flow-format';
import { OutputSink } from './output-sink';

export interface ClassifyOutputOptions {
  /** The capture file's mode: the sidecar (real addresses) gets no more access for group and others. */
  readonly captureMode?: number;
  readonly format: OutputFormat;
  /** Crypto-PAn key: addresses are printed anonymised (the sidecar keeps them, it stays local). */
  readonly anonymizeKey?: Uint8Array;
  /** Where to write the Wireshark sidecar at the end, if anywhere. */
  readonly sidecarPath?: string;
}

export class ClassifyOutput {
  private readonly formatter: RecordFormatter<DialogRecord>;
  private readonly anonymizer: IpAnonymizer | undefined;
  /** Kept only when a sidecar is asked for; otherwise each record is printed and forgotten. */
  private readonly kept: DialogRecord[] | undefined;
  private printed = 0;

  constructor(
    private readonly options: ClassifyOutputOptions,
    private readonly sink: OutputSink,
  ) {
    this.formatter = dialogFormatter(options.format);
    this.anonymizer = options.anonymizeKey !== undefined ? new IpAnonymizer(options.anonymizeKey) : undefined;
    this.kept = options.sidecarPath !== undefined ? [] : undefined;
    for (const line of this.formatter.header) sink.line(line);
  }

  record(record: DialogRecord): void {
    this.printed++;
    this.kept?.push(record);
    this.sink.line(this.formatter.format(this.anonymizer ? this.anonymizer.anonymizeEndpoints(record) : record));
  }

  /**
   * Prints what is buffered and writes the sidecar, unless `what.sidecar` is false (the capture
   * could not be read at all: an earlier sidecar is worth more than an empty one). A table (for people) ends with what the
   * records came from, gaps included (DESIGN.md: printed with every result); jsonl and csv stay
   * records only, for programs.
   */
  finish(source?: { readonly model: string; readonly gaps: SegmentationGaps }, what: { readonly sidecar: boolean } = { sidecar: true }): void {
    if (source !== undefined && this.options.format === 'table') {
      const { sessionGapUs, dialogGapUs } = source.gaps;
      this.sink.line('');
      this.sink.line(`${this.printed} dialog${this.printed === 1 ? '' : 's'}; model ${source.model}; dialogs cut with gaps of ${sessionGapUs / 1e6} s (session) and ${dialogGapUs / 1e6} s (dialog)`);
    }
    this.sink.flush();
    if (!what.sidecar || this.kept === undefined || this.options.sidecarPath === undefined) return;
    try {
      writeSidecar(this.options.sidecarPath, this.kept, this.options.captureMode === undefined ? { sweepStale: true } : { captureMode: this.options.captureMode, sweepStale: true });
    } catch (error) {
      // writeSidecar's message is "PATH: reason", PATH the sidecar's (never its temporary).
      throw new Error(`cannot write the sidecar ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
