/**
 * Room and private messages that the server has not acknowledged yet, oldest first, bounded.
 * Each keeps its `cid` for life: a message resent after a reconnect carries the same `cid`, so
 * the server stores it once however often it is sent.
 *
 * @example
 * const item = outbox.add({ type: 'msg', room: 'general', text: 'hi', cid: newCid() }, settle);
 * if (!item) refuse(); // full
 */
import type { AckFrame, MsgFrame, PmFrame } from '@teamchat/protocol';
import type { ClientError } from './client-error.js';

export type OutgoingMessage = (Omit<MsgFrame, 'ref'> | Omit<PmFrame, 'ref'>) & { cid: string };

export interface OutboxItem {
  readonly frame: OutgoingMessage;
  readonly cid: string;
  /** The ref of its latest write (a new one per connection), or null before the first write. */
  ref: string | null;
  /** How many times it was written. */
  writes: number;
  resolve: (ack: AckFrame) => void;
  reject: (error: ClientError) => void;
}

export class Outbox {
  readonly #items: OutboxItem[] = [];

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.#items.length;
  }

  get full(): boolean {
    return this.#items.length >= this.capacity;
  }

  /** The items, oldest first (a copy: safe to change the outbox while iterating). */
  get items(): OutboxItem[] {
    return [...this.#items];
  }

  /** Adds a message; null when the outbox is full. */
  add(frame: OutgoingMessage, settle: Pick<OutboxItem, 'resolve' | 'reject'>): OutboxItem | null {
    if (this.full) return null;
    const item: OutboxItem = { frame, cid: frame.cid, ref: null, writes: 0, ...settle };
    this.#items.push(item);
    return item;
  }

  byCid(cid: string): OutboxItem | undefined {
    return this.#items.find((i) => i.cid === cid);
  }

  /** Removes an item; false when it was not there (already settled). */
  remove(item: OutboxItem): boolean {
    const i = this.#items.indexOf(item);
    if (i < 0) return false;
    this.#items.splice(i, 1);
    return true;
  }

  /** Empties the outbox, rejecting every item. */
  failAll(error: ClientError): void {
    for (const item of this.#items.splice(0)) item.reject(error);
  }
}
