/**
 * Requests waiting for their answer, keyed by `ref`. An answer settles its request when its
 * `ref` matches and its type is one the request expects (or `error`): a frame that merely carries
 * a known ref (the server echoes the setter's ref in a broadcast `topic`, say) is not taken for
 * an answer of another type. Each request may have a timeout; callbacks run synchronously, so
 * the caller's state is up to date before the answer is passed on.
 *
 * @example
 * pending.add('r1', { expects: ['history'], reply: (f) => ..., fail: (e) => ... }, 15_000);
 * const entry = pending.take(frame); // the request this frame answers, if any
 */
import type { ServerFrame, ServerFrameType } from '@teamchat/protocol';
import { ClientError } from './client-error.js';

export interface PendingEntry {
  /** Frame types that answer the request (besides `error`). */
  expects: readonly ServerFrameType[];
  reply: (frame: ServerFrame) => void;
  fail: (error: ClientError) => void;
  /** An answer the client consumes itself: not passed on to listeners. */
  silent?: boolean;
}

interface Slot {
  entry: PendingEntry;
  timer: NodeJS.Timeout | null;
}

export class PendingRequests {
  readonly #slots = new Map<string, Slot>();

  /** Requests waiting. */
  get size(): number {
    return this.#slots.size;
  }

  has(ref: string): boolean {
    return this.#slots.has(ref);
  }

  /**
   * Waits for the answer to `ref`. With `timeoutMs`, the request fails with TC_CLIENT_TIMEOUT
   * when no answer came in time, and is forgotten.
   */
  add(ref: string, entry: PendingEntry, timeoutMs?: number): void {
    if (this.#slots.has(ref)) throw new Error(`ref ${ref} is already waiting for an answer`);
    const slot: Slot = { entry, timer: null };
    if (timeoutMs !== undefined && timeoutMs > 0 && Number.isFinite(timeoutMs)) {
      slot.timer = setTimeout(() => {
        if (this.#slots.get(ref) !== slot) return;
        this.#slots.delete(ref);
        entry.fail(new ClientError('TC_CLIENT_TIMEOUT', `no answer from the server within ${timeoutMs} ms`));
      }, timeoutMs);
      slot.timer.unref();
    }
    this.#slots.set(ref, slot);
  }

  /** Removes and returns the request `frame` answers, if any (its timeout is cancelled). */
  take(frame: ServerFrame): PendingEntry | undefined {
    const ref = 'ref' in frame ? frame.ref : undefined;
    if (ref === undefined) return undefined;
    const slot = this.#slots.get(ref);
    if (!slot || (frame.type !== 'error' && !slot.entry.expects.includes(frame.type))) return undefined;
    this.#forget(ref, slot);
    return slot.entry;
  }

  /** Forgets a request without settling it. */
  delete(ref: string): void {
    const slot = this.#slots.get(ref);
    if (slot) this.#forget(ref, slot);
  }

  /** Fails every waiting request (the connection is gone). */
  failAll(error: ClientError): void {
    const slots = [...this.#slots.values()];
    for (const slot of slots) if (slot.timer) clearTimeout(slot.timer);
    this.#slots.clear();
    for (const slot of slots) slot.entry.fail(error);
  }

  #forget(ref: string, slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    this.#slots.delete(ref);
  }
}
