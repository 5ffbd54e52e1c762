/**
 * The line-mode output format: one plain line per event, stable for scripts.
 *
 *   [general] alice: hi                 a room message
 *   [general] * alice waves             a /me action
 *   [PM] bob: psst                      a private message to you
 *   [PM -> bob] see you                 your own private message
 *   * bob has joined general            an informational notice (starts with "* ")
 *   ! no such user online: x [TC_ERR_NO_SUCH_USER]   an error (starts with "! ")
 *   [general] bob edited #1042: new text  an edit (also: deleted #1042, reacted 👍 to #1042)
 *   [general] #1042 alice: hi           a room message after /ids
 *   * #1042 [general] bob: text         a search result or a mention (after a "* Search" line)
 *
 * @example
 * formatLine({ type: 'message', id: 1, ts: 0, room: 'general', nick: 'alice', text: 'hi' }, 'bob', false)
 * // ['[general] alice: hi']
 */
import { formatPlain, type RoomMessage, type ServerFrame } from '@teamchat/protocol';

export function roomMessageLine(m: RoomMessage, ids = false): string {
  const id = ids ? `#${m.id} ` : '';
  const text = m.deleted ? '(message deleted)' : `${m.text}${m.edited !== undefined ? ' (edited)' : ''}`;
  const reply = m.replyTo !== undefined ? ` (reply to #${m.replyTo})` : '';
  return m.action ? `[${m.room}] ${id}* ${m.nick} ${text}${reply}` : `[${m.room}] ${id}${m.nick}: ${text}${reply}`;
}

export interface FormatOptions {
  /** Message ids before the nick (`/ids`). */
  ids?: boolean;
  /** A `history` frame that answers `/thread`. */
  thread?: boolean;
}

/** Lines for one server frame; `resumed` marks the `joined` of a reconnect. */
export function formatLine(frame: ServerFrame, self: string, resumed: boolean, options: FormatOptions = {}): string[] {
  const roomMessageLine_ = (m: RoomMessage) => roomMessageLine(m, options.ids);
  switch (frame.type) {
    case 'message':
      return [roomMessageLine_(frame)];
    case 'edited':
      return [`[${frame.room}] ${frame.by} edited #${frame.id}: ${frame.text}`];
    case 'deleted':
      return [`[${frame.room}] ${frame.by} deleted #${frame.id}`];
    case 'reaction':
      return [
        `[${frame.room}] ${frame.nick} ${frame.added ? 'reacted' : 'took back'} ${frame.emoji} ${frame.added ? 'to' : 'on'} #${frame.id} (${frame.count})`,
      ];
    case 'search-results':
      if (frame.results.length === 0) return [`* No messages match "${frame.q}"`];
      return [
        `* Search "${frame.q}": ${frame.results.length}${frame.more ? '+ results (/more for the next page)' : ' results'}`,
        ...frame.results.map(
          (r) => `* #${r.id} [${r.room ?? `PM ${r.nick === self ? (r.to ?? '') : r.nick}`}] ${r.nick}: ${r.text}`,
        ),
      ];
    case 'mentions':
      if (frame.messages.length === 0) return ['* No mentions'];
      return [
        `* Mentions: ${frame.messages.length}${frame.more ? '+' : ''}`,
        ...frame.messages.map((m) => `* #${m.id} [${m.room}] ${m.nick}: ${m.text}`),
      ];
    case 'joined': {
      const head = resumed
        ? [`* Rejoined ${frame.room} (${frame.history.length} new message${frame.history.length === 1 ? '' : 's'})`]
        : [
            `* Now talking in ${frame.room}${frame.topic ? ` - ${frame.topic}` : ''}`,
            `* Users here: ${frame.users.join(', ')}`,
          ];
      return [...head, ...frame.history.map(roomMessageLine_)];
    }
    case 'history':
      if (options.thread) {
        if (frame.messages.length === 0) return [`* No such thread in ${frame.room}`];
        return [
          `* --- thread of #${frame.messages[0].id} in ${frame.room} (${frame.messages.length - 1} replies) ---`,
          ...frame.messages.map((m) => roomMessageLine(m, true)),
          '* --- end of thread ---',
        ];
      }
      if (frame.messages.length === 0) return [`* No older messages in ${frame.room}`];
      return [
        `* --- ${frame.messages.length} older messages in ${frame.room}${frame.more ? '' : ' (start of history)'} ---`,
        ...frame.messages.map(roomMessageLine_),
        '* --- end of history ---',
      ];
    case 'welcome':
      return [`* Connected to ${frame.server} as ${frame.nick}`];
    case 'error':
      return [`! ${frame.message} [${frame.code}]`];
    case 'bye':
      return frame.code ? [`! Disconnected: ${frame.reason} [${frame.code}]`] : [`* Bye (${frame.reason})`];
    case 'ack':
    case 'pong':
      return [];
    default:
      return formatPlain(frame, self);
  }
}
