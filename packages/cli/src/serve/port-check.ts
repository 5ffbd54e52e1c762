/**
 * Checks that the server's ports can be bound before it opens the database (which may take
 * seconds on a first start), so a port in use fails at once with a clear message.
 *
 * @example
 * await assertPortsFree('0.0.0.0', [5555, 8080]);
 */
import net from 'node:net';

export class PortInUseError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
    reason: string,
  ) {
    super(`cannot listen on ${host}:${port}: ${reason}`);
  }
}

/** Binds and releases each port (0 is skipped: any free port will do). */
export async function assertPortsFree(host: string, ports: number[]): Promise<void> {
  for (const port of ports) {
    if (port === 0) continue;
    await new Promise<void>((resolve, reject) => {
      const probe = net.createServer();
      probe.once('error', (err: NodeJS.ErrnoException) => {
        const reason =
          err.code === 'EADDRINUSE'
            ? 'the port is in use (another teamchat, or another program?)'
            : err.code === 'EACCES'
              ? 'permission denied (ports below 1024 need privileges)'
              : err.message;
        reject(new PortInUseError(host, port, reason));
      });
      probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
    });
  }
}
