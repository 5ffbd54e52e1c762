/**
 * A scripted NDJSON server in the test's own process, for client tests: `onFrame` answers each
 * decoded client frame (with the index of its connection, counting from 0).
 *
 * @example
 * const fake = fakeServer(() => {}, (socket, frame) => frame.type === 'hello' && send(socket, welcome));
 * const port = await fake.listen();
 */
import net from 'node:net';
import type { ClientFrame } from '@teamchat/protocol';

export function fakeServer(
  onConnect: (socket: net.Socket, index: number) => void,
  onFrame: (socket: net.Socket, frame: ClientFrame, index: number) => void,
) {
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const index = count++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = '';
    socket.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line) onFrame(socket, JSON.parse(line) as ClientFrame, index);
      }
    });
    onConnect(socket, index);
  });
  return {
    server,
    sockets,
    listen: () => new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as net.AddressInfo).port))),
    close: () => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))),
  };
}
