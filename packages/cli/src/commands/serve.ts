/**
 * `teamchat serve`: the headless chat server.
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import { createServer, type StoreConfig } from '@teamchat/server';
import { parseDuration, parsePort, parsePositiveInt } from '../parse.js';

interface ServeFlags {
  port: number;
  httpPort: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  metricsInterval: number;
  metricsWindow: number;
  metricsRetention: number;
  maxSendQueue: number;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the chat server: TCP (NDJSON and plain text) and HTTP (WebSocket /ws, dashboard, metrics)')
    .addOption(new Option('-p, --port <port>', 'TCP port for teamchat clients and nc/telnet (0: any free port)').env('TEAMCHAT_PORT').default(5555).argParser(parsePort))
    .addOption(new Option('--http-port <port>', 'HTTP port: WebSocket at /ws, dashboard at /, metrics at /api (0: any free port)').env('TEAMCHAT_HTTP_PORT').default(8080).argParser(parsePort))
    .addOption(new Option('--host <address>', 'interface to listen on (127.0.0.1 for this machine only)').env('TEAMCHAT_HOST').default('0.0.0.0'))
    .addOption(new Option('--data-dir <dir>', 'folder of the embedded database (PGlite), used when no database URL is given').env('TEAMCHAT_DATA_DIR').default('./.teamchat/data'))
    .addOption(new Option('--database-url <url>', 'use this Postgres server instead of the embedded database').env('DATABASE_URL'))
    .addOption(new Option('--metrics-interval <duration>', 'metrics snapshot interval (e.g. 2s, 500ms)').default(2000, '2s').argParser(parseDuration))
    .addOption(new Option('--metrics-window <n>', 'snapshots in the moving average').default(5).argParser(parsePositiveInt))
    .addOption(new Option('--metrics-retention <duration>', 'how long metric snapshots are kept (e.g. 7d, 12h)').default(7 * 86_400_000, '7d').argParser(parseDuration))
    .addOption(new Option('--max-send-queue <bytes>', 'output queued for one client before it is disconnected as a slow consumer').default(1024 * 1024, '1 MiB').argParser(parsePositiveInt))
    .action(async (flags: ServeFlags) => {
      const store: StoreConfig = flags.databaseUrl
        ? { kind: 'postgres', url: flags.databaseUrl }
        : { kind: 'pglite', dataDir: path.resolve(flags.dataDir) };
      const server = await createServer({
        host: flags.host,
        port: flags.port,
        httpPort: flags.httpPort,
        store,
        maxSendQueueBytes: flags.maxSendQueue,
        metrics: { intervalMs: flags.metricsInterval, window: flags.metricsWindow, retentionMs: flags.metricsRetention },
      });
      let info;
      try {
        info = await server.listen();
      } catch (err) {
        await server.close();
        throw err;
      }
      const shown = info.host === '0.0.0.0' || info.host === '::' ? 'localhost' : info.host;
      console.log(`teamchat: database: ${server.database.description}`);
      console.log(`teamchat: tcp listening on ${info.host}:${info.tcpPort} (try: nc ${shown} ${info.tcpPort})`);
      console.log(`teamchat: http listening on ${info.host}:${info.httpPort} (dashboard: http://${shown}:${info.httpPort}/, websocket: ws://${shown}:${info.httpPort}/ws)`);

      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) {
          console.error(`teamchat: ${signal} again, exiting without waiting`);
          process.exit(1);
        }
        stopping = true;
        console.error(`teamchat: ${signal}: shutting down (storing pending messages)`);
        server.close().then(
          () => {
            console.error('teamchat: stopped');
            process.exit(0);
          },
          (err: Error) => {
            console.error(`teamchat: error during shutdown: ${err.message}`);
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}
