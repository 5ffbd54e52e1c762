/**
 * The error-code catalogue: every error a client can see has a stable code from here.
 * `fatal` errors are followed by the server closing the connection.
 */
export const ERRORS = {
  TC_ERR_BAD_JSON: { message: 'line is not valid JSON', fatal: false },
  TC_ERR_BAD_FRAME: { message: 'frame must be a JSON object with a known "type"', fatal: false },
  TC_ERR_BAD_FIELD: { message: 'a field is missing or has the wrong type', fatal: false },
  TC_ERR_BAD_UTF8: { message: 'input is not valid UTF-8', fatal: false },
  TC_ERR_LINE_TOO_LONG: { message: 'line exceeds the maximum length (8192 bytes); it was discarded', fatal: false },
  TC_ERR_INPUT_OVERFLOW: { message: 'too much input without a newline', fatal: true },
  TC_ERR_VERSION: { message: 'unsupported protocol version', fatal: true },
  TC_ERR_NOT_REGISTERED: { message: 'choose a nick first (send hello)', fatal: false },
  TC_ERR_ALREADY_REGISTERED: { message: 'already registered on this connection', fatal: false },
  TC_ERR_BAD_NICK: { message: 'invalid nick: 1-24 letters, digits, _ or -, starting with a letter', fatal: false },
  TC_ERR_NICK_IN_USE: { message: 'nick is already in use', fatal: false },
  TC_ERR_BAD_ROOM: { message: 'invalid room name: 1-32 letters, digits, _ . or -', fatal: false },
  TC_ERR_NO_SUCH_ROOM: { message: 'no such room', fatal: false },
  TC_ERR_NOT_IN_ROOM: { message: 'you are not in that room', fatal: false },
  TC_ERR_NO_SUCH_USER: { message: 'no such user online', fatal: false },
  TC_ERR_EMPTY_TEXT: { message: 'message text is empty', fatal: false },
  TC_ERR_TOPIC_TOO_LONG: { message: 'topic is too long (300 characters at most)', fatal: false },
  TC_ERR_UNKNOWN_COMMAND: { message: 'unknown command (try /help)', fatal: false },
  TC_ERR_BAD_ARGUMENT: { message: 'bad command argument', fatal: false },
  TC_ERR_STORE_BUSY: { message: 'the server is saving too many messages; this one was not sent, try again', fatal: false },
  TC_ERR_STORE_FAILED: { message: 'the message could not be saved and was not sent', fatal: false },
  TC_ERR_SLOW_CONSUMER: { message: 'disconnected: too much unread output queued for this client', fatal: true },
  TC_ERR_SHUTDOWN: { message: 'server is shutting down', fatal: true },
  TC_ERR_INTERNAL: { message: 'internal error while handling your input', fatal: false },
  TC_ERR_AUTH_REQUIRED: { message: 'this nick is registered: send its password (hello "password", or PASS <password>)', fatal: false },
  TC_ERR_BAD_PASSWORD: { message: 'wrong password', fatal: false },
  TC_ERR_TOO_MANY_FAILURES: { message: 'disconnected: too many wrong passwords', fatal: true },
  TC_ERR_WEAK_PASSWORD: { message: 'password must be 8 to 128 characters', fatal: false },
  TC_ERR_NOT_REGISTERED_NICK: { message: 'register your nick first (/register <password>)', fatal: false },
  TC_ERR_NOT_ROOM_CREATOR: { message: 'only the creator of the room may change its modes', fatal: false },
  TC_ERR_BAD_KEY: { message: 'this room needs a key: /join <room> <key>', fatal: false },
  TC_ERR_INVITE_ONLY: { message: 'this room is invite-only: ask its creator for an /invite', fatal: false },
  TC_ERR_RATE_LIMITED: { message: 'you are sending too fast; this was not sent', fatal: false },
  TC_ERR_TOO_MANY_CONNECTIONS: { message: 'too many connections from your address', fatal: true },
  TC_ERR_REGISTRATION_TIMEOUT: { message: 'disconnected: no nick chosen in time', fatal: true },
  TC_ERR_PING_TIMEOUT: { message: 'disconnected: no answer to ping', fatal: true },
  TC_ERR_LOCKED_OUT: { message: 'too many wrong attempts: locked for a while, try again later', fatal: false },
  TC_ERR_TOO_MANY_ROOMS: { message: 'you are in too many rooms: /part one first', fatal: false },
  TC_ERR_ROOM_CREATION_LIMITED: { message: 'too many new rooms created: wait before creating another', fatal: false },
  TC_ERR_BAD_TEXT: { message: 'text contains an unpaired UTF-16 surrogate', fatal: false },
  TC_ERR_OUTPUT_OVERFLOW: { message: 'disconnected: output queue hard limit exceeded', fatal: true },
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
