/**
 * Everything the core asks of the outside world. The core decides; the runtime that implements
 * this port does the I/O (sockets, storage, metrics).
 */
import type { ByeFrame, CodedError, PrivateMessage, RoomMessage, ServerFrame } from '@teamchat/protocol';
import type { ChatEvents } from '../metrics/chat-events.js';
import type { HistoryQuery, NewMessage, StateWrite } from '../store/message-store.js';
import type { Session } from './session.js';

export type PersistResult = { ok: true; id: number } | { ok: false; error: CodedError };

export interface CoreEffects<S extends Session> {
  /** Queues one frame to one session. */
  send(session: S, frame: ServerFrame): void;
  /** Queues one frame to many sessions; the runtime serializes it once per dialect. */
  broadcast(sessions: Iterable<S>, frame: ServerFrame): void;
  /**
   * Queues a message for storage. `done` runs after the batch holding it is committed (with the id
   * the database assigned) or has failed. Returns false, without calling `done`, when the bounded
   * write queue is full.
   */
  persist(message: NewMessage, done: (result: PersistResult) => void): boolean;
  /** Runs `deliver` after everything queued for storage before it; keeps notices in order with messages. */
  inOrder(deliver: () => void): void;
  /** Queues a durable state change (room, membership, topic), written with the next batch. */
  persistState(write: StateWrite): void;
  /** Sends `bye`, flushes what is queued and closes the connection. */
  close(session: S, bye: ByeFrame): void;
  roomHistory(room: string, query: HistoryQuery): Promise<RoomMessage[]>;
  privateHistory(nick: string, query: HistoryQuery & { peer?: string }): Promise<PrivateMessage[]>;
  readonly events: ChatEvents;
  now(): number;
  log(line: string): void;
}
