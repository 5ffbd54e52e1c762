/**
 * Remembers which rooms were seen keyed or invite-only, so that a room the core has evicted from
 * memory (and can no longer describe) stays hidden in metrics. Bounded: past `capacity` names the
 * oldest remembered one is forgotten first.
 */

/** Names remembered at most (a few MB at worst). */
export const DEFAULT_RESTRICTED_CAPACITY = 100_000;

/**
 * @example
 * const restricted = new RestrictedRooms();
 * restricted.mark('staff', true);  // seen keyed
 * restricted.has('staff')          // true, even once the core forgot the room
 * restricted.mark('staff', false); // the key was removed while the room was in memory
 */
export class RestrictedRooms {
  readonly #names = new Set<string>();
  readonly #capacity: number;

  constructor(capacity: number = DEFAULT_RESTRICTED_CAPACITY) {
    this.#capacity = capacity;
  }

  /** Records what the core says about a room now. */
  mark(room: string, restricted: boolean): void {
    if (!restricted) {
      this.#names.delete(room);
      return;
    }
    if (this.#names.has(room)) return;
    this.#names.add(room);
    if (this.#names.size > this.#capacity) this.#names.delete(this.#names.values().next().value!);
  }

  has(room: string): boolean {
    return this.#names.has(room);
  }

  get size(): number {
    return this.#names.size;
  }
}
