/**
 * Holds the chat state for the UI. Server frames are queued and applied in batches, at most
 * once per `flushIntervalMs` (~30 times a second by default), so a busy room costs one
 * re-render per batch rather than one per message. User intents apply at once.
 *
 * @example
 * const store = new ChatStore(initialChatState(conn.state));
 * conn.on((e) => e.kind === 'frame' && store.pushFrame(e.frame));
 * const state = useSyncExternalStore(store.subscribe, store.getState);
 */
import type { ServerFrame } from '@teamchat/protocol';
import { reduceChat, type ChatAction } from './chat-reducer.js';
import type { ChatState } from './chat-state.js';

export interface ChatStoreOptions {
  flushIntervalMs?: number;
}

export class ChatStore {
  #state: ChatState;
  readonly #listeners = new Set<() => void>();
  #queue: ServerFrame[] = [];
  #timer: NodeJS.Timeout | null = null;
  #lastFlush = 0;
  readonly #interval: number;

  constructor(initial: ChatState, options: ChatStoreOptions = {}) {
    this.#state = initial;
    this.#interval = options.flushIntervalMs ?? 33;
  }

  getState = (): ChatState => this.#state;

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** Applies an action now (pending frames first, to keep order). */
  dispatch(action: ChatAction): void {
    if (this.#queue.length > 0) this.#applyQueued();
    this.#state = reduceChat(this.#state, action);
    this.#notify();
  }

  /** Queues a server frame; it is applied with the next batch. */
  pushFrame(frame: ServerFrame): void {
    this.#queue.push(frame);
    if (this.#timer) return;
    const wait = Math.max(0, this.#lastFlush + this.#interval - Date.now());
    this.#timer = setTimeout(() => this.flush(), wait);
  }

  /** Applies queued frames now. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#queue.length === 0) return;
    this.#applyQueued();
    this.#notify();
  }

  /** Stops the flush timer (pending frames are dropped). */
  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#queue = [];
  }

  #applyQueued(): void {
    const frames = this.#queue;
    this.#queue = [];
    this.#lastFlush = Date.now();
    this.#state = reduceChat(this.#state, { type: 'frames', frames, now: this.#lastFlush });
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }
}
