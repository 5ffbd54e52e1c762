/**
 * The latest committed messages of one room, kept in memory so joins, resumes and short history
 * pages never touch the database. A fixed-size ring: O(1) append, no reallocation.
 */
import type { RoomMessage } from '@teamchat/protocol';

export class RecentMessages {
  readonly #ring: (RoomMessage | undefined)[];
  #start = 0;
  #size = 0;
  /** True while the ring holds every message the room ever had. */
  #complete: boolean;

  constructor(
    readonly capacity: number,
    initial: RoomMessage[] = [],
    complete = initial.length < capacity,
  ) {
    this.#ring = new Array<RoomMessage | undefined>(capacity);
    this.#complete = complete;
    for (const m of initial.slice(-capacity)) this.push(m);
  }

  get size(): number {
    return this.#size;
  }

  push(message: RoomMessage): void {
    if (this.#size < this.capacity) {
      this.#ring[(this.#start + this.#size) % this.capacity] = message;
      this.#size++;
    } else {
      this.#ring[this.#start] = message;
      this.#start = (this.#start + 1) % this.capacity;
      this.#complete = false;
    }
  }

  #at(i: number): RoomMessage {
    return this.#ring[(this.#start + i) % this.capacity]!;
  }

  /** Oldest first. */
  toArray(): RoomMessage[] {
    const out = new Array<RoomMessage>(this.#size);
    for (let i = 0; i < this.#size; i++) out[i] = this.#at(i);
    return out;
  }

  /** Index of the first message with id > `id` (size when none). */
  #firstAbove(id: number): number {
    let lo = 0;
    let hi = this.#size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#at(mid).id <= id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Replaces the message with this id (an edit, a delete, a reaction); false when the ring does not hold it. */
  replace(id: number, change: (message: RoomMessage) => RoomMessage): boolean {
    const i = this.#firstAbove(id - 1);
    if (i >= this.#size || this.#at(i).id !== id) return false;
    this.#ring[(this.#start + i) % this.capacity] = change(this.#at(i));
    return true;
  }

  /**
   * Answers a history query from memory when it can be answered exactly, else returns null.
   * `more` says whether messages exist beyond the page (older ones, or for `after`+`before`, ones
   * between the page and `before`).
   */
  query(q: { before?: number; after?: number; limit: number }): { messages: RoomMessage[]; more: boolean } | null {
    const end = q.before === undefined ? this.#size : this.#firstAbove(q.before - 1);
    if (q.after !== undefined) {
      // Every message above `after` is here when the ring reaches back to it.
      const covered = this.#complete || (this.#size > 0 && q.after >= this.#at(0).id - 1);
      if (!covered) return null;
      const from = this.#firstAbove(q.after);
      const to = Math.min(end, from + q.limit);
      const messages: RoomMessage[] = [];
      for (let i = from; i < to; i++) messages.push(this.#at(i));
      return { messages, more: to < end };
    }
    if (end >= q.limit || this.#complete) {
      const from = Math.max(0, end - q.limit);
      const messages: RoomMessage[] = [];
      for (let i = from; i < end; i++) messages.push(this.#at(i));
      return { messages, more: from > 0 || !this.#complete };
    }
    return null;
  }
}
