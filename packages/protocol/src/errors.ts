/**
 * The error-code catalogue: every error a client can see has a stable code from here.
 * Messages read as sentences (clients show them as `! <message> [<code>]`); a detail is appended
 * after a colon by `codedError`. `fatal` errors are followed by the server closing the connection:
 * their messages are the `bye` reason, read after "Disconnected: ", so they start in lower case.
 */
export const ERRORS = {
  TC_ERR_BAD_JSON: { message: 'That line is not valid JSON', fatal: false },
  TC_ERR_BAD_FRAME: { message: 'A frame must be a JSON object with a known "type"', fatal: false },
  TC_ERR_BAD_FIELD: { message: 'A field is missing or has the wrong type', fatal: false },
  TC_ERR_BAD_UTF8: { message: 'That line is not valid UTF-8 text, so it was ignored', fatal: false },
  TC_ERR_LINE_TOO_LONG: { message: 'That line is longer than 8192 bytes, so it was discarded', fatal: false },
  TC_ERR_INPUT_OVERFLOW: { message: 'too much input without a newline', fatal: true },
  TC_ERR_VERSION: { message: 'unsupported protocol version', fatal: true },
  TC_ERR_NOT_REGISTERED: { message: 'Choose a nick first (send hello)', fatal: false },
  TC_ERR_ALREADY_REGISTERED: { message: 'You already have a nick on this connection', fatal: false },
  TC_ERR_BAD_NICK: {
    message: 'That is not a valid nick (1-24 letters, digits, _ or -, starting with a letter)',
    fatal: false,
  },
  TC_ERR_NICK_IN_USE: { message: 'That nick is already in use', fatal: false },
  TC_ERR_BAD_ROOM: { message: 'That is not a valid room name (1-32 letters, digits, _ . or -)', fatal: false },
  TC_ERR_NO_SUCH_ROOM: { message: 'There is no such room', fatal: false },
  TC_ERR_NOT_IN_ROOM: { message: 'You are not in that room', fatal: false },
  TC_ERR_NO_SUCH_USER: { message: 'Nobody with that nick is online', fatal: false },
  TC_ERR_EMPTY_TEXT: { message: 'The message is empty, so it was not sent', fatal: false },
  TC_ERR_TOPIC_TOO_LONG: { message: 'That topic is too long (300 characters at most)', fatal: false },
  TC_ERR_UNKNOWN_COMMAND: { message: 'There is no such command (/help lists them)', fatal: false },
  TC_ERR_BAD_ARGUMENT: { message: 'That command is missing an argument or has a wrong one', fatal: false },
  TC_ERR_STORE_BUSY: {
    message: 'The server is saving too many messages: this one was not sent, try again',
    fatal: false,
  },
  TC_ERR_STORE_FAILED: { message: 'The server could not save the message, so it was not sent', fatal: false },
  TC_ERR_SLOW_CONSUMER: { message: 'too much unread output was queued for this client', fatal: true },
  TC_ERR_SHUTDOWN: { message: 'server is shutting down', fatal: true },
  TC_ERR_INTERNAL: { message: 'Something went wrong on the server while handling your input', fatal: false },
  TC_ERR_AUTH_REQUIRED: {
    message: 'This nick is registered: send its password (hello "password", or PASS <password>)',
    fatal: false,
  },
  TC_ERR_BAD_PASSWORD: { message: 'Wrong password', fatal: false },
  TC_ERR_TOO_MANY_FAILURES: { message: 'too many wrong passwords', fatal: true },
  TC_ERR_WEAK_PASSWORD: { message: 'That password is too short or too long', fatal: false },
  TC_ERR_NOT_REGISTERED_NICK: { message: 'Register your nick first (/register <password>)', fatal: false },
  TC_ERR_NOT_ROOM_CREATOR: {
    message: 'Only the creator of a room or its operators may change its modes',
    fatal: false,
  },
  TC_ERR_NOT_OPERATOR: { message: 'Only an operator of the room may do that', fatal: false },
  TC_ERR_USER_NOT_IN_ROOM: { message: 'That user is not in the room', fatal: false },
  TC_ERR_BANNED: { message: 'You are banned from this room', fatal: false },
  TC_ERR_ROOM_FULL: { message: 'This room is full (mode +l)', fatal: false },
  TC_ERR_MODERATED: {
    message: 'This room is moderated: only its operators and voiced members may speak',
    fatal: false,
  },
  TC_ERR_BAD_MODE: { message: 'That mode change is not valid', fatal: false },
  TC_ERR_BAD_KEY: { message: 'This room needs a key: /join <room> <key>', fatal: false },
  TC_ERR_INVITE_ONLY: { message: 'This room is invite-only: ask its creator for an /invite', fatal: false },
  TC_ERR_RATE_LIMITED: { message: 'You are sending too fast: this was not sent', fatal: false },
  TC_ERR_TOO_MANY_CONNECTIONS: { message: 'too many connections from your address', fatal: true },
  TC_ERR_REGISTRATION_TIMEOUT: { message: 'no nick was chosen in time', fatal: true },
  TC_ERR_PING_TIMEOUT: { message: 'no answer to ping', fatal: true },
  TC_ERR_LOCKED_OUT: { message: 'Too many wrong attempts: locked for a while, try again later', fatal: false },
  TC_ERR_TOO_MANY_ROOMS: { message: 'You are in too many rooms: /part one first', fatal: false },
  TC_ERR_ROOM_CREATION_LIMITED: {
    message: 'Too many new rooms were created: wait a minute before creating another',
    fatal: false,
  },
  TC_ERR_BAD_TEXT: { message: 'The text contains an unpaired UTF-16 surrogate', fatal: false },
  TC_ERR_OUTPUT_OVERFLOW: { message: 'too much output was queued for this client (hard limit)', fatal: true },
  TC_ERR_NO_SUCH_MESSAGE: { message: 'There is no such message (or it was deleted)', fatal: false },
  TC_ERR_NOT_AUTHOR: { message: 'That message is not yours', fatal: false },
  TC_ERR_BAD_EMOJI: {
    message: 'A reaction is 1 to 32 characters without spaces (an emoji, or a short :name:)',
    fatal: false,
  },
  TC_ERR_TOO_MANY_REACTIONS: { message: 'That message has as many different reactions as it may have', fatal: false },
  TC_ERR_BAD_QUERY: { message: 'A search is 1 to 200 characters', fatal: false },
  TC_ERR_BAD_HIGHLIGHT: {
    message: 'A highlight word is 1 to 32 letters, digits, _ or - (no spaces or other characters)',
    fatal: false,
  },
  TC_ERR_TOO_MANY_HIGHLIGHTS: { message: 'You may have at most 16 highlight words', fatal: false },
} as const satisfies Record<string, { message: string; fatal: boolean }>;

export type ErrorCode = keyof typeof ERRORS;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERRORS, code);
}

/** A coded error as produced by the decoder and the server core. */
export interface CodedError {
  code: ErrorCode;
  message: string;
}

export function codedError(code: ErrorCode, detail?: string): CodedError {
  const base = ERRORS[code].message;
  return { code, message: detail ? `${base}: ${detail}` : base };
}
