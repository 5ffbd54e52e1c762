/**
 * A bounded set of message ids already delivered, so a resumed or repeated frame is shown once.
 * Eviction is first-in first-out; every operation is O(1).
 *
 * @example
 * const seen = new SeenIds(10_000);
 * if (seen.add(frame.id)) show(frame); // false: a duplicate
 */
export class SeenIds {
  readonly #ids = new Set<number>();
  readonly #order: number[] = [];
  #head = 0;
  #max = 0;

  constructor(readonly capacity = 10_000) {}

  /** Highest id ever added (0 when none). */
  get max(): number {
    return this.#max;
  }

  has(id: number): boolean {
    return this.#ids.has(id);
  }

  /** Adds an id; returns false when it was already there. */
  add(id: number): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    this.#order.push(id);
    if (id > this.#max) this.#max = id;
    if (this.#order.length - this.#head > this.capacity) {
      this.#ids.delete(this.#order[this.#head]);
      this.#head++;
      if (this.#head > 4096) {
        this.#order.splice(0, this.#head);
        this.#head = 0;
      }
    }
    return true;
  }
}
