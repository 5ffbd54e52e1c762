/**
 * The teamchat protocol client: one typed client for every NDJSON consumer (the terminal client,
 * scripts, tools, tests). See chat-client.ts.
 */
export {
  ChatClient,
  type AnswerTo,
  type ChatClientOptions,
  type ClientEvent,
  type ClientState,
  type ClientStatus,
  type RequestFrame,
  type RequestOptions,
  type SendOptions,
} from './chat-client.js';
export { ClientError, type ClientErrorCode } from './client-error.js';
export { Backoff, type BackoffOptions } from './backoff.js';
export { SeenIds } from './seen-ids.js';
export { newCid } from './new-cid.js';
export { formatAddress, type ServerAddress } from './server-address.js';
export { describeFailure, formatMs } from './connect-failure.js';
export { tcpTransport, type TcpTransportOptions } from './transport/tcp-transport.js';
export { wsTransport, wsUrl, type WsTransportOptions } from './transport/ws-transport.js';
export type { TlsOptions, Transport, TransportEvents, TransportFactory } from './transport/transport.js';
