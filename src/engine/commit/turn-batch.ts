/**
 * Items added during one turn of the event loop, handed over together at its end (the next
 * `setImmediate`, after the I/O and worker messages already waiting), or sooner by `flush()`.
 * The engine writes each such batch in one commit.
 */
export class TurnBatch<Item> {
  #items: Item[] = [];
  #scheduled = false;

  constructor(private readonly onFlush: (items: Item[]) => void) {}

  add(item: Item): void {
    this.#items.push(item);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.flush();
    });
  }

  /** Hands over what was added so far now; nothing happens when nothing was. */
  flush(): void {
    if (this.#items.length === 0) return;
    const items = this.#items;
    this.#items = [];
    this.onFlush(items);
  }
}
