// A first-in first-out queue with O(1) removal at the head (Array#splice(0, n) moves every
// element left: quadratic for a long queue drained a few at a time).
export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  /** The i-th item from the head. */
  at(i: number): T | undefined {
    return this.items[this.head + i];
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** Removes the first n items. */
  drop(n: number): void {
    this.head = Math.min(this.head + n, this.items.length);
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
