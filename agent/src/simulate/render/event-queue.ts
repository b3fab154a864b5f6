/**
 * The discrete-event clock of the renderer: actions keyed by time (µs from the script start),
 * run in time order. Ties run in scheduling order, so the output never depends on heap
 * internals and the same inputs give the same file.
 */
interface ScheduledAction {
  readonly timeUs: number;
  readonly order: number;
  readonly run: () => void;
}

export class EventQueue {
  private readonly heap: ScheduledAction[] = [];
  private scheduled = 0;
  private nowUs = 0;

  /** Time of the action being run (or of the last one run). */
  get now(): number {
    return this.nowUs;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Schedules `run` at `timeUs`; scheduling into the past is a bug in the caller. */
  at(timeUs: number, run: () => void): void {
    if (!(timeUs >= this.nowUs) || !Number.isSafeInteger(timeUs)) {
      throw new RangeError(`event at ${timeUs} µs scheduled while the clock is at ${this.nowUs} µs`);
    }
    const item: ScheduledAction = { timeUs, order: this.scheduled++, run };
    const heap = this.heap;
    let i = heap.length;
    heap.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = item;
  }

  /** Runs the earliest action; false when none is left. */
  runNext(): boolean {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return false;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      const n = heap.length;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && before(heap[right]!, heap[left]!) ? right : left;
        if (!before(heap[child]!, last)) break;
        heap[i] = heap[child]!;
        i = child;
      }
      heap[i] = last;
    }
    this.nowUs = top.timeUs;
    top.run();
    return true;
  }
}

function before(a: ScheduledAction, b: ScheduledAction): boolean {
  return a.timeUs < b.timeUs || (a.timeUs === b.timeUs && a.order < b.order);
}
