/**
 * Min-heap of open flows keyed by the time of each flow's next packet; ties go to the lower
 * flow index so the merge order (and so the file) never depends on heap internals.
 */
export interface HeapItem {
  readonly index: number;
  /** Absolute µs of the item's next packet. */
  nextUs: number;
}

export class FlowHeap<T extends HeapItem> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top !== undefined && last !== undefined && items.length > 0) {
      items[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  /** Call after the top item's key grew (its next packet is later): cheaper than pop + push. */
  updateTop(): void {
    if (this.items.length > 0) this.siftDown(0);
  }

  private siftDown(start: number): void {
    const items = this.items;
    const item = items[start]!;
    const n = items.length;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && before(items[right]!, items[left]!) ? right : left;
      if (!before(items[child]!, item)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = item;
  }
}

function before(a: HeapItem, b: HeapItem): boolean {
  return a.nextUs < b.nextUs || (a.nextUs === b.nextUs && a.index < b.index);
}
