/**
 * Why a request or a send failed. `code` is either the server's (a `TC_ERR_*` code of the
 * protocol's catalogue, from an `error` frame, kept in `frame`) or one of the client's own:
 *
 * - `TC_CLIENT_TIMEOUT`: no answer within the request's timeout (a late answer is still passed
 *   on as a `frame` event).
 * - `TC_CLIENT_OFFLINE`: there is no session right now, so the request was not sent.
 * - `TC_CLIENT_DISCONNECTED`: the connection was lost before the answer came.
 * - `TC_CLIENT_OUTBOX_FULL`: too many messages are waiting for their ack; this one was refused.
 * - `TC_CLIENT_CLOSED`: the client was closed (quit, destroyed, gave up, or refused for good).
 * - `TC_CLIENT_NOT_JOINED`: a room asked for while offline was not joined at the next session.
 * - `TC_CLIENT_IN_SESSION`: `hello` was asked for while a session is open.
 *
 * @example
 * try { await client.join('ops'); } catch (err) { if (err instanceof ClientError && err.code === 'TC_ERR_BAD_KEY') ... }
 */
import type { ErrorFrame } from '@teamchat/protocol';

export type ClientErrorCode =
  | 'TC_CLIENT_TIMEOUT'
  | 'TC_CLIENT_OFFLINE'
  | 'TC_CLIENT_DISCONNECTED'
  | 'TC_CLIENT_OUTBOX_FULL'
  | 'TC_CLIENT_CLOSED'
  | 'TC_CLIENT_NOT_JOINED'
  | 'TC_CLIENT_IN_SESSION';

export class ClientError extends Error {
  constructor(
    /** A `TC_CLIENT_*` code, or the server's `TC_ERR_*` code. */
    readonly code: ClientErrorCode | (string & {}),
    message: string,
    /** The server's `error` frame, when the server refused. */
    readonly frame?: ErrorFrame,
  ) {
    super(message);
    this.name = 'ClientError';
  }

  /** The server's refusal, as an error. */
  static fromFrame(frame: ErrorFrame): ClientError {
    return new ClientError(frame.code, frame.message, frame);
  }
}
