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

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly label: string,
    private readonly total: number,
  ) {}

  update(done: number): void {
    const percent = Math.floor((done / this.total) * 100);
    if (percent === this.lastPercent) return;
    this.lastPercent = percent;
    this.stream.write(`\r${renderProgress(this.label, done, this.total)}`);
  }

  clear(): void {
    if (this.lastPercent >= 0) this.stream.write(`\r${' '.repeat(renderProgress(this.label, 0, this.total).length)}\r`);
  }
}
