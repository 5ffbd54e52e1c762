/**
 * Protocol version and limits shared by the server and every client.
 * Changing a limit here changes it everywhere: the server enforces it, clients respect it.
 */

/** Wire protocol version, exchanged in `hello` / `welcome`. */
export const PROTOCOL_VERSION = 1;

/** Largest accepted line (NDJSON frame or plain-text line), in bytes, newline excluded. */
export const MAX_LINE_BYTES = 8 * 1024;

/**
 * Bytes a client may send without a newline before the connection is closed.
 * Between MAX_LINE_BYTES and this cap the server discards the line (answering TC_ERR_LINE_TOO_LONG)
 * without buffering it; past the cap it disconnects with TC_ERR_INPUT_OVERFLOW.
 */
export const MAX_UNTERMINATED_BYTES = 64 * 1024;

/** Bytes queued for one client before it is disconnected as a slow consumer. */
export const MAX_SEND_QUEUE_BYTES = 1024 * 1024;

/** Rooms in one `rooms` answer; more are paged with `after`. */
export const ROOMS_PAGE_MAX = 100;
/** Nicks in one `users` answer (and in `joined`); more are paged with `after`. */
export const USERS_PAGE_MAX = 500;
/** Rooms one connection may be in at once (ergo's default channel limit per client is 100); also caps `hello.rooms`. */
export const MAX_ROOMS_PER_CONNECTION = 100;

/** Messages sent to a joiner (and the default page size of `history`). */
export const HISTORY_DEFAULT = 50;
/** Largest page a client may ask for. */
export const HISTORY_MAX = 500;

/** Distinct emoji on one message; a new one past this is refused (TC_ERR_TOO_MANY_REACTIONS). */
export const REACTIONS_PER_MESSAGE_MAX = 20;
/** A reaction: 1-32 characters, no spaces or control characters (an emoji, or a short :name:). */
export const EMOJI_PATTERN = /^[^\s\p{Cc}]{1,32}$/u;
/** Search: query length in characters, and results per page. */
export const SEARCH_QUERY_MAX = 200;
export const SEARCH_PAGE_MAX = 50;
/** Mentions per page of `mentions`. */
export const MENTIONS_PAGE_MAX = 100;
/**
 * Highlight words (`highlights`): per person, at most HIGHLIGHT_WORDS_MAX, each 1-32 letters,
 * digits, `_` or `-` (HIGHLIGHT_WORD_PATTERN). Kept lower-case; they match whole words,
 * case-insensitively, like the nick does.
 */
export const HIGHLIGHT_WORDS_MAX = 16;
export const HIGHLIGHT_WORD_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
/** Private conversations in one `unread` answer (those with the newest unread message first). */
export const UNREAD_PM_CONVERSATIONS_MAX = 50;

export const NICK_MAX_LENGTH = 24;
export const ROOM_MAX_LENGTH = 32;
export const TOPIC_MAX_LENGTH = 300;
export const REF_MAX_LENGTH = 64;
export const REASON_MAX_LENGTH = 200;
/** Passwords of registered nicks: 8 (by default: `--min-password-length`) to 128 characters (the cap bounds the cost of hashing). */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;
/** Mode changes in one `mode` frame (IRC's MODES); entries of one mask list (MAXLIST). */
export const MODE_CHANGES_MAX = 6;
export const MASK_LIST_MAX = 50;
/** A ban mask: `nick!user@host` with `*` and `?`, at most this long. */
export const MASK_MAX_LENGTH = 100;

/** Room keys (mode +k): 1 to 64 characters without spaces (`/join <room> <key>`). */
export const ROOM_KEY_PATTERN = /^\S{1,64}$/;

/** Letters, digits, `_` and `-`, starting with a letter; 1..24 characters. Unique case-insensitively. */
export const NICK_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,23}$/;

/** Letters, digits, `_`, `-` and `.`, starting with a letter or digit; 1..32 characters; stored lower-case. An optional leading `#` is accepted and dropped. */
export const ROOM_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,31}$/;

export function isValidNick(nick: string): boolean {
  return NICK_PATTERN.test(nick);
}

/** Case-folded key used to compare nicks. */
export function nickKey(nick: string): string {
  return nick.toLowerCase();
}

/** Normalizes a room name (`#General` -> `general`), or returns null when it is not a valid name. */
export function normalizeRoom(name: string): string | null {
  const bare = (name.startsWith('#') ? name.slice(1) : name).toLowerCase();
  return ROOM_PATTERN.test(bare) ? bare : null;
}
