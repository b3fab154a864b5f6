/**
 * A one-line progress bar for long reads on a terminal: redrawn in place on stderr at most once
 * per percent, cleared when done. Only for terminals; pipes and files get nothing.
 */
const WIDTH = 30;

/** The bar's text for `done` of `total` bytes. */
export function renderProgress(label: string, done: number, total: number): string {
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.round(fraction * WIDTH);
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${Math.floor(fraction * 100)
    .toString()
    .padStart(3)} % of ${(total / 1e6).toFixed(0)} MB`;
}

export class ProgressBar {
  private lastPercent = -1;
  private lastDone = 0;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly label: string,
    private readonly total: number,
  ) {}

  update(done: number): void {
    const percent = Math.floor((done / this.total) * 100);
    if (percent === this.lastPercent) return;
    this.lastPercent = percent;
    this.lastDone = done;
    this.stream.write(`\r${renderProgress(this.label, done, this.total)}`);
  }

  /** Takes the bar off for good: later output (the table's summary) is not followed by it. */
  clear(): void {
    this.hide();
    this.lastPercent = -1;
  }

  /**
   * Takes the bar off its line, for output on the same terminal (stdout's table rows): written
   * after the bar, they would continue its line ("… % of 441 MB10.0.0.2:52825 …").
   */
  hide(): void {
    if (this.lastPercent >= 0) this.stream.write(`\r${' '.repeat(renderProgress(this.label, 0, this.total).length)}\r`);
  }

  /** Draws the bar again after hide(), as it last was. */
  show(): void {
    if (this.lastPercent >= 0) this.stream.write(renderProgress(this.label, this.lastDone, this.total));
  }
}
