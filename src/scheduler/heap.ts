/**
 * A binary min-heap of (time, item) pairs: the scheduler's run queue asks it for what is due
 * in O(log n) per envelope instead of scanning every envelope.
 * Privileges: none. Peers: none. Pure.
 */
export class MinHeap<T> {
  private readonly times: number[] = [];
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  push(time: number, item: T): void {
    this.times.push(time);
    this.items.push(item);
    let i = this.items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.times[parent]! <= this.times[i]!) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** the earliest time, or undefined when empty */
  peekTime(): number | undefined {
    return this.times[0];
  }

  peek(): T | undefined {
    return this.items[0];
  }

  pop(): T | undefined {
    if (this.items.length === 0) return undefined;
    const top = this.items[0];
    const lastTime = this.times.pop()!;
    const lastItem = this.items.pop()!;
    if (this.items.length > 0) {
      this.times[0] = lastTime;
      this.items[0] = lastItem;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.times.length && this.times[l]! < this.times[m]!) m = l;
        if (r < this.times.length && this.times[r]! < this.times[m]!) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }

  private swap(a: number, b: number): void {
    [this.times[a], this.times[b]] = [this.times[b]!, this.times[a]!];
    [this.items[a], this.items[b]] = [this.items[b]!, this.items[a]!];
  }
}
