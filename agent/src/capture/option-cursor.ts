/**
 * Walks pcapng options (code, length, value padded to 32 bits) inside a block without
 * allocating: one cursor is reused for every block.
 */
import { CaptureError } from './errors';

export const OPT_ENDOFOPT = 0;
export const OPT_COMMENT = 1;

export class OptionCursor {
  code = 0;
  valueStart = 0;
  valueLength = 0;
  private at = 0;
  private end = 0;
  private view: DataView = new DataView(new ArrayBuffer(0));
  private littleEndian = true;
  private absoluteBase = 0;

  /**
   * @param absoluteBase added to buffer indices to report file offsets in errors
   */
  reset(view: DataView, from: number, to: number, littleEndian: boolean, absoluteBase: number): void {
    this.view = view;
    this.at = from;
    this.end = to;
    this.littleEndian = littleEndian;
    this.absoluteBase = absoluteBase;
  }

  /** Advances to the next option; false at opt_endofopt or the end of the option area. */
  next(): boolean {
    if (this.at + 4 > this.end) return false;
    this.code = this.view.getUint16(this.at, this.littleEndian);
    this.valueLength = this.view.getUint16(this.at + 2, this.littleEndian);
    if (this.code === OPT_ENDOFOPT) return false;
    this.valueStart = this.at + 4;
    const padded = (this.valueLength + 3) & ~3;
    if (this.valueStart + this.valueLength > this.end) {
      throw new CaptureError(
        'CAPTURE_BAD_OPTION',
        this.absoluteBase + this.at,
        `option ${this.code} claims ${this.valueLength} bytes but only ${this.end - this.valueStart} remain in the block`,
      );
    }
    this.at = this.valueStart + padded;
    return true;
  }
}
