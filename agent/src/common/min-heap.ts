/**
 * A binary min-heap of (key, value) pairs in typed arrays: numeric keys (e.g. µs deadlines),
 * integer values (e.g. flow ids). No object per entry, so millions of pushes stay cheap.
 */
export class MinHeap {
  private keys: Float64Array;
  private values: Int32Array;
  private count = 0;

  constructor(initialCapacity = 64) {
    this.keys = new Float64Array(Math.max(1, initialCapacity));
    this.values = new Int32Array(Math.max(1, initialCapacity));
  }

  get size(): number {
    return this.count;
  }

  /** Smallest key; Infinity when empty. */
  peekKey(): number {
    return this.count > 0 ? this.keys[0]! : Infinity;
  }

  push(key: number, value: number): void {
    if (this.count === this.keys.length) this.grow();
    let index = this.count++;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.keys[parent]! <= key) break;
      this.keys[index] = this.keys[parent]!;
      this.values[index] = this.values[parent]!;
      index = parent;
    }
    this.keys[index] = key;
    this.values[index] = value;
  }

  /** Removes the entry with the smallest key and returns its value (undefined when empty). */
  pop(): number | undefined {
    if (this.count === 0) return undefined;
    const top = this.values[0]!;
    const last = --this.count;
    const key = this.keys[last]!;
    const value = this.values[last]!;
    let index = 0;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= last) break;
      if (child + 1 < last && this.keys[child + 1]! < this.keys[child]!) child++;
      if (this.keys[child]! >= key) break;
      this.keys[index] = this.keys[child]!;
      this.values[index] = this.values[child]!;
      index = child;
    }
    this.keys[index] = key;
    this.values[index] = value;
    return top;
  }

  clear(): void {
    this.count = 0;
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    const values = new Int32Array(this.values.length * 2);
    values.set(this.values);
    this.keys = keys;
    this.values = values;
  }
}
