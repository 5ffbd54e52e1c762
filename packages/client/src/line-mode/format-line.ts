/**
 * The line-mode output format: one plain line per event, stable for scripts.
 *
 *   [general] alice: hi                 a room message
 *   [general] * alice waves             a /me action
 *   [PM] bob: psst                      a private message to you
 *   [PM -> bob] see you                 your own private message
 *   * bob has joined general            an informational notice (starts with "* ")
 *   ! no such user online: x [TC_ERR_NO_SUCH_USER]   an error (starts with "! ")
 *
 * @example
 * formatLine({ type: 'message', id: 1, ts: 0, room: 'general', nick: 'alice', text: 'hi' }, 'bob', false)
 * // ['[general] alice: hi']
 */
import { formatPlain, type RoomMessage, type ServerFrame } from '@teamchat/protocol';

export function roomMessageLine(m: RoomMessage): string {
  return m.action ? `[${m.room}] * ${m.nick} ${m.text}` : `[${m.room}] ${m.nick}: ${m.text}`;
}

/** Lines for one server frame; `resumed` marks the `joined` of a reconnect. */
export function formatLine(frame: ServerFrame, self: string, resumed: boolean): string[] {
  switch (frame.type) {
    case 'message':
      return [roomMessageLine(frame)];
    case 'joined': {
      const head = resumed
        ? [`* Rejoined ${frame.room} (${frame.history.length} new message${frame.history.length === 1 ? '' : 's'})`]
        : [`* Now talking in ${frame.room}${frame.topic ? ` - ${frame.topic}` : ''}`, `* Users here: ${frame.users.join(', ')}`];
      return [...head, ...frame.history.map(roomMessageLine)];
    }
    case 'history':
      if (frame.messages.length === 0) return [`* No older messages in ${frame.room}`];
      return [
        `* --- ${frame.messages.length} older messages in ${frame.room}${frame.more ? '' : ' (start of history)'} ---`,
        ...frame.messages.map(roomMessageLine),
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
