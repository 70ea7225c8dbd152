/**
 * A binary min-heap: a scheduler that picks the least of what is ready, again and again,
 * pays O(log n) a pick instead of a scan of everything ready.
 */
export class MinHeap<T> {
  private readonly items: T[] = [];

  /** `less(a, b)`: whether `a` comes out before `b`. */
  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const { items, less } = this;
    items.push(item);
    for (let at = items.length - 1; at > 0; ) {
      const parent = (at - 1) >> 1;
      if (!less(items[at]!, items[parent]!)) break;
      [items[at], items[parent]] = [items[parent]!, items[at]!];
      at = parent;
    }
  }

  /** Takes out the least item; undefined when empty. */
  pop(): T | undefined {
    const { items, less } = this;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    for (let at = 0; ; ) {
      const [left, right] = [2 * at + 1, 2 * at + 2];
      let least = at;
      if (left < items.length && less(items[left]!, items[least]!)) least = left;
      if (right < items.length && less(items[right]!, items[least]!)) least = right;
      if (least === at) break;
      [items[at], items[least]] = [items[least]!, items[at]!];
      at = least;
    }
    return top;
  }
}
