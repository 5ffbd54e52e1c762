/**
 * What teams expect beyond chat: edit and delete, reactions, read markers synced across a
 * person's connections, unread and mention counts, mentions, and search. Pure decisions like the
 * rest of the core: reads and writes go through CoreEffects; the chat core hands this unit the
 * few things of its own it needs (rooms in memory, a session's rooms, its sessions by owner).
 *
 * Limits: reactions are 1-32 characters (EMOJI_PATTERN), at most REACTIONS_PER_MESSAGE_MAX
 * distinct ones per message; a search query is 1-SEARCH_QUERY_MAX characters, a page at most
 * SEARCH_PAGE_MAX results; there is no edit window (an author may edit or delete any time; the
 * room's creator may delete too). Highlight words: at most HIGHLIGHT_WORDS_MAX per person, each
 * HIGHLIGHT_WORD_PATTERN; unread counts list at most UNREAD_PM_CONVERSATIONS_MAX private
 * conversations. Every command costs flood budget (transport/command-cost.ts).
 */
import {
  EMOJI_PATTERN,
  HIGHLIGHT_WORD_PATTERN,
  HIGHLIGHT_WORDS_MAX,
  isValidNick,
  MENTIONS_PAGE_MAX,
  nickKey,
  normalizeRoom,
  REACTIONS_PER_MESSAGE_MAX,
  SEARCH_PAGE_MAX,
  SEARCH_QUERY_MAX,
  UNREAD_PM_CONVERSATIONS_MAX,
  type CodedError,
  type DeleteFrame,
  type EditFrame,
  type ErrorCode,
  type HighlightsFrame,
  type MarkFrame,
  type MentionsFrame,
  type ReactFrame,
  type RoomMessage,
  type SearchFrame,
  type ServerFrame,
} from '@teamchat/protocol';
import type { CoreEffects } from './core-effects.js';
import type { ClusterEvent, MessageInfo } from './records.js';
import type { Room } from './room.js';
import type { Session } from './session.js';
import { sanitizeText } from './text.js';

/** What the chat core lends this unit. */
export interface TeamContext<S extends Session> {
  readonly fx: CoreEffects<S>;
  /** The room if the session is in it; otherwise answers the session with an error and returns undefined. */
  joinedRoom(session: S, raw: string, ref: string | undefined): Room<S> | undefined;
  /** A room in memory. */
  room(name: string): Room<S> | undefined;
  /** The sessions of one person on this node. */
  sessionsOf(owner: string): Iterable<S>;
  /** Runs `then` once `work` resolves, holding the session's other input meanwhile. */
  await<T>(session: S, work: Promise<T>, ref: string | undefined, then: (value: T) => void): void;
  error(session: S, code: ErrorCode, ref: string | undefined, detail?: string): void;
  sendError(session: S, error: CodedError, ref: string | undefined): void;
}

export class TeamFeatures<S extends Session> {
  readonly #c: TeamContext<S>;

  constructor(context: TeamContext<S>) {
    this.#c = context;
  }

  // ---------- edit, delete, react ----------

  edit(session: S, frame: EditFrame): void {
    const ref = frame.ref;
    const text = sanitizeText(frame.text);
    if (text.trim() === '') return this.#c.error(session, 'TC_ERR_EMPTY_TEXT', ref);
    this.#withMessage(session, frame.id, ref, (info, room) => {
      if (info.owner !== session.owner)
        return this.#c.error(session, 'TC_ERR_NOT_AUTHOR', ref, 'only its author may edit a message');
      const edited = this.#c.fx.now();
      const by = session.nick!;
      this.#c.fx.persistState({ op: 'edit', id: info.id, text, ts: edited }, (ok) => {
        if (!ok) return this.#c.error(session, 'TC_ERR_STORE_FAILED', ref, 'the edit could not be saved');
        this.#applyEdit(room, info.id, text, edited, by, session, ref);
      });
      this.#publish({ kind: 'edit', room: room.name, id: info.id, text, edited, by });
    });
  }

  remove(session: S, frame: DeleteFrame): void {
    const ref = frame.ref;
    this.#withMessage(session, frame.id, ref, (info, room) => {
      if (info.owner !== session.owner && room.creator !== session.owner) {
        return this.#c.error(
          session,
          'TC_ERR_NOT_AUTHOR',
          ref,
          "only its author or the room's creator may delete a message",
        );
      }
      const ts = this.#c.fx.now();
      const by = session.nick!;
      this.#c.fx.persistState({ op: 'delete', id: info.id, ts }, (ok) => {
        if (!ok) return this.#c.error(session, 'TC_ERR_STORE_FAILED', ref, 'the delete could not be saved');
        this.#applyDelete(room, info.id, by, ts, session, ref);
      });
      this.#publish({ kind: 'delete', room: room.name, id: info.id, by, ts });
    });
  }

  react(session: S, frame: ReactFrame): void {
    const ref = frame.ref;
    const emoji = frame.emoji.normalize('NFC');
    if (!EMOJI_PATTERN.test(emoji)) return this.#c.error(session, 'TC_ERR_BAD_EMOJI', ref);
    const add = frame.remove !== true;
    this.#withMessage(session, frame.id, ref, (info, room) => {
      const owner = session.owner!;
      const who = info.reactions[emoji] ?? [];
      const has = who.includes(owner);
      if (add && !has && who.length === 0 && Object.keys(info.reactions).length >= REACTIONS_PER_MESSAGE_MAX) {
        return this.#c.error(
          session,
          'TC_ERR_TOO_MANY_REACTIONS',
          ref,
          `at most ${REACTIONS_PER_MESSAGE_MAX} different reactions on a message`,
        );
      }
      const count = who.length + (add && !has ? 1 : !add && has ? -1 : 0);
      const ts = this.#c.fx.now();
      const nick = session.nick!;
      const event: Extract<ClusterEvent, { kind: 'react' }> = {
        kind: 'react',
        room: room.name,
        id: info.id,
        emoji,
        nick,
        added: add,
        count,
        ts,
      };
      this.#c.fx.persistState({ op: 'react', id: info.id, emoji, owner, nick, add, ts }, (ok) => {
        if (!ok) return this.#c.error(session, 'TC_ERR_STORE_FAILED', ref, 'the reaction could not be saved');
        this.#applyReact(room, event, session, ref);
      });
      this.#publish(event);
    });
  }

  /** A room message the session may act on (it is in the room), read from the store. */
  #withMessage(
    session: S,
    id: number,
    ref: string | undefined,
    then: (info: MessageInfo, room: Room<S>) => void,
  ): void {
    this.#c.await(session, this.#c.fx.messageInfo(id), ref, (info) => {
      if (!info || info.room === null || info.deleted)
        return this.#c.error(session, 'TC_ERR_NO_SUCH_MESSAGE', ref, String(id));
      const room = this.#c.joinedRoom(session, info.room, ref);
      if (room) then(info, room);
    });
  }

  #applyEdit(room: Room<S>, id: number, text: string, edited: number, by: string, session?: S, ref?: string): void {
    room.recent.replace(id, (m) => ({ ...m, text, edited }));
    this.#announce(room, { type: 'edited', id, room: room.name, text, edited, by }, session, ref);
  }

  #applyDelete(room: Room<S>, id: number, by: string, ts: number, session?: S, ref?: string): void {
    room.recent.replace(id, (m) => tombstone(m));
    this.#announce(room, { type: 'deleted', id, room: room.name, by, ts }, session, ref);
  }

  #applyReact(room: Room<S>, e: Extract<ClusterEvent, { kind: 'react' }>, session?: S, ref?: string): void {
    room.recent.replace(e.id, (m) => withReaction(m, e.emoji, e.nick, e.added));
    this.#announce(
      room,
      {
        type: 'reaction',
        id: e.id,
        room: room.name,
        emoji: e.emoji,
        nick: e.nick,
        added: e.added,
        count: e.count,
        ts: e.ts,
      },
      session,
      ref,
    );
  }

  /** To the room's members; the one who asked gets it with its `ref` (even when no longer in the room). */
  #announce(room: Room<S>, frame: ServerFrame, session: S | undefined, ref: string | undefined): void {
    const others = session ? [...room.members].filter((m) => m !== session) : [...room.members];
    this.#c.fx.broadcast(others, frame);
    if (session) this.#c.fx.send(session, { ...frame, ...(ref ? { ref } : {}) });
  }

  // ---------- read markers, unread counts, mentions ----------

  mark(session: S, frame: MarkFrame): void {
    const ref = frame.ref;
    const owner = session.owner!;
    let conversation: string;
    let where: { room: string } | { with: string };
    if (frame.room !== undefined && frame.with === undefined) {
      const room = normalizeRoom(frame.room);
      if (!room) return this.#c.error(session, 'TC_ERR_BAD_ROOM', ref, frame.room);
      conversation = room;
      where = { room };
    } else if (frame.with !== undefined && frame.room === undefined) {
      if (!isValidNick(frame.with)) return this.#c.error(session, 'TC_ERR_BAD_NICK', ref, JSON.stringify(frame.with));
      conversation = `@${nickKey(frame.with)}`;
      where = { with: frame.with };
    } else {
      return this.#c.error(session, 'TC_ERR_BAD_ARGUMENT', ref, 'mark needs either room or with');
    }
    const id = frame.id;
    this.#c.fx.persistState({ op: 'marker', owner, conversation, id, ts: this.#c.fx.now() }, (ok) => {
      if (!ok) return this.#c.error(session, 'TC_ERR_STORE_FAILED', ref, 'the read marker could not be saved');
      this.#applyMarker(owner, where, id, session, ref);
    });
    this.#publish({ kind: 'marker', owner, ...where, id });
  }

  /** Every connection of the person learns the new marker (the one that set it, with its ref). */
  #applyMarker(owner: string, where: { room: string } | { with: string }, id: number, session?: S, ref?: string): void {
    for (const s of this.#c.sessionsOf(owner)) {
      this.#c.fx.send(s, { type: 'marker', ...where, id, ...(s === session && ref ? { ref } : {}) });
    }
  }

  /**
   * Unread and mention counts of the rooms the session is in, and of the person's private
   * conversations with unread messages (at most UNREAD_PM_CONVERSATIONS_MAX, the newest first).
   * Every unread private message counts as a mention: it was written to you, as Slack and
   * Mattermost count direct messages. `login`: sent unasked after `welcome`, so nothing is sent
   * when there is nothing to tell (no rooms, no unread conversation).
   */
  unread(session: S, rooms: string[], ref: string | undefined, login = false): void {
    const owner = session.owner!;
    const fx = this.#c.fx;
    const work = Promise.all([
      rooms.length > 0 ? fx.unreadCounts(owner, session.nick!, rooms) : Promise.resolve({}),
      fx.pmUnreadCounts(owner, UNREAD_PM_CONVERSATIONS_MAX),
    ]);
    this.#c.await(session, work, ref, ([counts, pms]) => {
      if (login && rooms.length === 0 && Object.keys(pms).length === 0) return;
      fx.send(session, { type: 'unread', rooms: counts, pms, ...(ref ? { ref } : {}) });
    });
  }

  // ---------- highlight words ----------

  /**
   * Without `words`: answers the person's highlight words. With `words`: replaces them (checked,
   * lower-cased, without repeats) and tells every connection of the person, on every node, once
   * they are stored. Mentions and mention counts read them from the store.
   */
  highlights(session: S, frame: HighlightsFrame): void {
    const ref = frame.ref;
    const owner = session.owner!;
    if (frame.words === undefined) {
      return this.#c.await(session, this.#c.fx.highlightWords(owner), ref, (words) => {
        this.#c.fx.send(session, { type: 'highlights', words, ...(ref ? { ref } : {}) });
      });
    }
    const words: string[] = [];
    for (const raw of frame.words) {
      if (!HIGHLIGHT_WORD_PATTERN.test(raw))
        return this.#c.error(session, 'TC_ERR_BAD_HIGHLIGHT', ref, JSON.stringify([...raw].slice(0, 40).join('')));
      const word = raw.toLowerCase();
      if (!words.includes(word)) words.push(word);
    }
    if (words.length > HIGHLIGHT_WORDS_MAX)
      return this.#c.error(session, 'TC_ERR_TOO_MANY_HIGHLIGHTS', ref, `${words.length} given`);
    this.#c.fx.persistState({ op: 'highlights', owner, words, ts: this.#c.fx.now() }, (ok) => {
      if (!ok) return this.#c.error(session, 'TC_ERR_STORE_FAILED', ref, 'the highlight words could not be saved');
      this.#applyHighlights(owner, words, session, ref);
    });
    this.#publish({ kind: 'highlights', owner, words });
  }

  /** Every connection of the person learns the new words (the one that set them, with its ref). */
  #applyHighlights(owner: string, words: string[], session?: S, ref?: string): void {
    for (const s of this.#c.sessionsOf(owner)) {
      this.#c.fx.send(s, { type: 'highlights', words, ...(s === session && ref ? { ref } : {}) });
    }
  }

  mentions(session: S, frame: MentionsFrame, rooms: string[]): void {
    const limit = Math.min(frame.limit ?? MENTIONS_PAGE_MAX, MENTIONS_PAGE_MAX);
    const ref = frame.ref;
    this.#c.await(
      session,
      this.#c.fx.mentions(session.owner!, session.nick!, rooms, frame.before, limit + 1),
      ref,
      (found) => {
        const more = found.length > limit;
        this.#c.fx.send(session, {
          type: 'mentions',
          messages: more ? found.slice(found.length - limit) : found,
          more,
          ...(ref ? { ref } : {}),
        });
      },
    );
  }

  // ---------- search ----------

  /** Searches `rooms` (what the session may read) and its own private messages. */
  search(session: S, frame: SearchFrame, rooms: string[]): void {
    const ref = frame.ref;
    const q = frame.q.trim();
    if (q === '' || [...q].length > SEARCH_QUERY_MAX)
      return this.#c.error(session, 'TC_ERR_BAD_QUERY', ref, `a search is 1-${SEARCH_QUERY_MAX} characters`);
    let room: string | undefined;
    if (frame.room !== undefined) {
      const name = normalizeRoom(frame.room);
      if (!name) return this.#c.error(session, 'TC_ERR_BAD_ROOM', ref, frame.room);
      // Never a room the user may not read, even by naming it.
      if (!rooms.includes(name)) return this.#c.error(session, 'TC_ERR_NOT_IN_ROOM', ref, name);
      room = name;
    }
    if (frame.from !== undefined && !isValidNick(frame.from))
      return this.#c.error(session, 'TC_ERR_BAD_NICK', ref, JSON.stringify(frame.from));
    const limit = Math.min(frame.limit ?? 20, SEARCH_PAGE_MAX);
    const query = {
      owner: session.owner!,
      rooms: room ? [room] : rooms,
      q,
      limit,
      ...(room ? { room } : {}),
      ...(frame.from !== undefined ? { from: frame.from } : {}),
      ...(frame.before !== undefined ? { before: frame.before } : {}),
    };
    this.#c.await(session, this.#c.fx.search(query), ref, (page) => {
      this.#c.fx.send(session, {
        type: 'search-results',
        q,
        results: page.results,
        more: page.more,
        ...(page.next !== undefined ? { next: page.next } : {}),
        ...(ref ? { ref } : {}),
      });
    });
  }

  // ---------- the other nodes ----------

  /** Another node's edit, delete, reaction, marker or highlight words, in the cluster order. */
  applyRemote(event: ClusterEvent): boolean {
    switch (event.kind) {
      case 'edit': {
        const room = this.#c.room(event.room);
        if (room) this.#applyEdit(room, event.id, event.text, event.edited, event.by);
        return true;
      }
      case 'delete': {
        const room = this.#c.room(event.room);
        if (room) this.#applyDelete(room, event.id, event.by, event.ts);
        return true;
      }
      case 'react': {
        const room = this.#c.room(event.room);
        if (room) this.#applyReact(room, event);
        return true;
      }
      case 'marker':
        this.#applyMarker(
          event.owner,
          event.room !== undefined ? { room: event.room } : { with: event.with! },
          event.id,
        );
        return true;
      case 'highlights':
        this.#applyHighlights(event.owner, event.words);
        return true;
      default:
        return false;
    }
  }

  #publish(event: ClusterEvent): void {
    if (this.#c.fx.clustered) this.#c.fx.inOrder(() => {}, event);
  }
}

function tombstone(m: RoomMessage): RoomMessage {
  const { reactions: _gone, edited: _edited, ...rest } = m;
  return { ...rest, text: '', deleted: true };
}

function withReaction(m: RoomMessage, emoji: string, nick: string, added: boolean): RoomMessage {
  const reactions = { ...(m.reactions ?? {}) };
  const who = (reactions[emoji] ?? []).filter((n) => n !== nick);
  if (added) who.push(nick);
  if (who.length > 0) reactions[emoji] = who;
  else delete reactions[emoji];
  const { reactions: _old, ...rest } = m;
  return Object.keys(reactions).length > 0 ? { ...rest, reactions } : rest;
}
