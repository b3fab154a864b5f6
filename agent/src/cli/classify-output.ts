/**
 * What `cumma classify` does with each dialog record, whichever thread ran the model: anonymise
 * it when asked, print it in the chosen format, and keep it for the sidecar when one is asked for.
 */
import { anonymizeAddressesInText } from '../anonymize/address-text';
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
  /**
   * Where jsonl and csv output say what the records came from (model and gaps): not among the
   * records, whose readers expect one kind of line (stderr, in the CLI).
   */
  readonly note?: (text: string) => void;
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
    this.sink.line(this.formatter.format(this.anonymizer ? this.anonymized(record) : record));
  }

  /**
   * Endpoints, and the capture's name too: dumpcap and users name files after hosts
   * (`10.0.0.5.pcapng`), and an original printed beside its image gives the keyed map away
   * for every address sharing its prefix.
   */
  private anonymized(record: DialogRecord): DialogRecord {
    const anonymizer = this.anonymizer!;
    return { ...anonymizer.anonymizeEndpoints(record), capture: anonymizeAddressesInText(anonymizer, record.capture) };
  }

  private summary(source: { readonly model: string; readonly gaps: SegmentationGaps }): string {
    const { sessionGapUs, dialogGapUs } = source.gaps;
    return `${this.printed} dialog${this.printed === 1 ? '' : 's'}; model ${source.model}; dialogs cut with gaps of ${sessionGapUs / 1e6} s (session) and ${dialogGapUs / 1e6} s (dialog)`;
  }

  /**
   * Prints what is buffered and writes the sidecar, unless `what.sidecar` is false (the capture
   * could not be read at all: an earlier sidecar is worth more than an empty one). What the
   * records came from, gaps included (DESIGN.md: printed with every result), ends a table (for
   * people) and goes to `note` for jsonl and csv (for programs, whose lines stay records only).
   */
  finish(source?: { readonly model: string; readonly gaps: SegmentationGaps }, what: { readonly sidecar: boolean } = { sidecar: true }): void {
    const summary = source === undefined ? undefined : this.summary(source);
    if (summary !== undefined && this.options.format === 'table') {
      this.sink.line('');
      this.sink.line(summary);
    }
    this.sink.flush();
    // Not when the output went away (a closed pipe, a failed write): then the count is not what
    // its reader got.
    if (summary !== undefined && this.options.format !== 'table' && this.sink.open) this.options.note?.(summary);
    if (!what.sidecar || this.kept === undefined || this.options.sidecarPath === undefined) return;
    try {
      writeSidecar(this.options.sidecarPath, this.kept, this.options.captureMode === undefined ? { sweepStale: true } : { captureMode: this.options.captureMode, sweepStale: true });
    } catch (error) {
      // writeSidecar's message is "PATH: reason", PATH the sidecar's (never its temporary).
      throw new Error(`cannot write the sidecar ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
