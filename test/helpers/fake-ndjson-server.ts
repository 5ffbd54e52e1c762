/**
 * A scripted NDJSON server in the test's own process, for client tests: `onFrame` answers each
 * client frame (with the index of its connection, counting from 0), and `sendFrame` writes typed
 * server frames through the protocol's encoder. What the client sends is framed and decoded by the
 * protocol package, as the real server does: a frame the real server would refuse fails the test
 * (thrown from the socket's data handler, so the test run reports it) instead of being answered.
 *
 * @example
 * const fake = fakeServer(() => {}, (socket, frame) => frame.type === 'hello' && sendFrame(socket, welcome));
 * const port = await fake.listen();
 */
import net from 'node:net';
import { decodeClientFrame, encodeFrame, LineFramer, type ClientFrame, type ServerFrame } from '@teamchat/protocol';

/** Writes one server frame (nothing once the socket is closing); false when the socket's buffer is full. */
export function sendFrame(socket: net.Socket, frame: ServerFrame): boolean {
  return socket.writable && socket.write(encodeFrame(frame));
}

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
    // The protocol's own limits: a client line the real server would cut is a failure here too.
    const framer = new LineFramer();
    const fail = (why: string) => {
      socket.destroy();
      throw new Error(`fake server: connection ${index} sent ${why}`);
    };
    socket.on('data', (chunk: Buffer) =>
      framer.push(
        chunk,
        (line) => {
          if (line.length === 0) return;
          const decoded = decodeClientFrame(line);
          if (!decoded.ok)
            fail(
              `a frame the server would refuse (${decoded.error.code}: ${decoded.error.message}): ${line.toString('utf8', 0, 200)}`,
            );
          else onFrame(socket, decoded.frame, index);
        },
        (code) => fail(`an oversized line (${code})`),
      ),
    );
    onConnect(socket, index);
  });
  return {
    server,
    sockets,
    listen: () =>
      new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as net.AddressInfo).port))),
    close: () => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))),
  };
}
