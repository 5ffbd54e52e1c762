/**
 * Feeds a connection's events to a chat store: server frames in batches, connection states,
 * notices and a refused nick at once. The full-screen app's only link from the connection to
 * what it shows.
 *
 * @example
 * const unbind = bindConnection(connection, store);
 * connection.start();
 */
import type { ChatConnection } from '../connection/chat-connection.js';
import type { ChatStore } from './chat-store.js';

export function bindConnection(connection: ChatConnection, store: ChatStore, now: () => number = Date.now): () => void {
  return connection.on((event) => {
    switch (event.kind) {
      case 'frame':
        store.pushFrame(event.frame);
        return;
      case 'state':
        store.dispatch({ type: 'connection', state: event.state, now: now() });
        return;
      case 'notice':
        store.dispatch({ type: 'notice', level: event.level, text: event.text, now: now() });
        return;
      case 'nick-rejected':
        store.dispatch({ type: 'nick-rejected', text: `${event.error.message} [${event.error.code}]` });
        return;
      case 'ready':
      case 'closed':
        return;
    }
  });
}
