/**
 * The composition root: wires the store, the batched writer, the core, metrics and the transports.
 * `createServer` builds everything without listening; `listen()` and `close()` are separate steps,
 * so the CLI and the tests drive the same object.
 *
 * @example
 * const server = await createServer({ store: { kind: 'pglite', dataDir: './.teamchat/data' } });
 * const { tcpPort, httpPort } = await server.listen();
 * process.on('SIGTERM', () => server.close());
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type net from 'node:net';
import { codedError, MAX_SEND_QUEUE_BYTES, type StatusFrame } from '@teamchat/protocol';
import { ChatCore, DEFAULT_ROOM_IDLE_MS } from './core/chat-core.js';
import type { CoreEffects } from './core/core-effects.js';
import { parseToken, type NewIdentity } from './core/identity.js';
import { createHttpApp, type HealthReport, type HttpApp } from './http/http-app.js';
import { MetricsService, type MetricsServiceOptions } from './metrics/metrics-service.js';
import { ClusterNode } from './cluster/cluster-node.js';
import { ClusterStore } from './cluster/cluster-store.js';
import { BatchWriter, type StreamEntry } from './delivery/batch-writer.js';
import type { NatsBus } from './delivery/nats-bus.js';
import { OrderedStream } from './delivery/ordered-stream.js';
import { openDatabase, type Database } from './store/database.js';
import { KyselyMessageStore } from './store/kysely-message-store.js';
import { MessageSearch } from './store/message-search.js';
import { SearchIndexer } from './store/search-indexer.js';
import type { StoreConfig } from './store/message-store.js';
import { migrate } from './store/migrator.js';
import { Connection, type ConnectionHost } from './transport/connection.js';
import { EncodedFrame } from './transport/encoded-frame.js';
import { EdgeReport } from './transport/security/edge-report.js';
import { DEFAULT_ROOM_CREATION, RoomCreationLimiter } from './transport/security/room-creation-limiter.js';
import { SecurityRuntime, type SecurityOptions } from './transport/security/security-runtime.js';
import { listenTcp } from './transport/tcp/tcp-listener.js';
import { WsListener } from './transport/ws/ws-listener.js';
import { startIrc, type IrcPorts, type IrcServerOptions } from './transport/irc/irc-listener.js';
import { VERSION } from './version.js';

export interface ServerOptions {
  /** Interface to bind (default 0.0.0.0: reachable by the team). */
  host?: string;
  /** TCP port for NDJSON and plain-text clients (default 5555; 0 picks a free one). */
  port?: number;
  /** HTTP port: WebSocket at /ws, dashboard and metrics (default 8080; 0 picks a free one). */
  httpPort?: number;
  store: StoreConfig;
  metrics?: Pick<
    MetricsServiceOptions,
    'intervalMs' | 'window' | 'retentionMs' | 'activeWindowMs' | 'maxRooms' | 'queryLimits'
  >;
  /** Bound of the write queue (messages accepted but not yet stored). */
  maxPendingWrites?: number;
  /** Output queued for one client before it is disconnected (default 1 MiB). */
  maxSendQueueBytes?: number;
  /** Bounds on rooms (teamchat serve --max-rooms-per-connection, --room-idle, --new-rooms-per-*). */
  rooms?: RoomLimits;
  /** Set by `teamchat demo`: shown as a countdown on the dashboard. */
  demoEndsAt?: number;
  /** Accounts, TLS, origin check, dashboard token, flood control and connection limits. */
  security?: SecurityOptions;
  /** Operational log (joins, leaves, errors); default: stderr. */
  log?: (line: string) => void;
  /** Join a cluster: other nodes share the Postgres store and this NATS server (see README, Cluster). */
  cluster?: ClusterOptions;
  /** The IRC gateway's ports and settings (teamchat serve --irc-port); absent: no IRC port. */
  irc?: IrcServerOptions;
  /** Chat rules (teamchat serve --min-password-length, --guest-room-modes). */
  chat?: ChatRules;
}

export interface ChatRules {
  /** Shortest account password (default 8). */
  minPasswordLength?: number;
  /** Room operators without an account may change room modes (default off). */
  guestRoomModes?: boolean;
}

export interface ClusterOptions {
  /** nats://host:4222 (several, comma-separated, for a NATS cluster). */
  natsUrl: string;
  /** This node's name in logs and metrics (default: the host name). */
  nodeId: string;
}

export interface RoomLimits {
  /** Rooms one connection may be in at once (default 100). */
  maxPerConnection?: number;
  /** An empty room leaves memory after this long (default 60 s). */
  idleMs?: number;
  /** New rooms per minute per connection (default 10); 0: unlimited. */
  creationPerConnection?: number;
  /** New rooms per minute per remote address (default 30); 0: unlimited. */
  creationPerAddress?: number;
}

/** How often rooms with nobody in them are looked at for eviction from memory. */
const SWEEP_INTERVAL_MS = 10_000;

export interface ListenInfo {
  host: string;
  tcpPort: number;
  httpPort: number;
  /** The IRC ports, when `irc` is set. */
  ircPort?: number;
  ircTlsPort?: number;
}

export interface TeamchatServer {
  readonly database: Database;
  readonly core: ChatCore<Connection>;
  readonly writer: BatchWriter;
  listen(): Promise<ListenInfo>;
  /** Stops accepting, stores what is pending, says goodbye to every client, closes the database. */
  close(): Promise<void>;
  health(): HealthReport;
}

const SHUTDOWN_DRAIN_MS = 10_000;
/**
 * The search indexer starts a step only after the writer has been quiet this long: under a steady
 * stream of messages the queue empties between batches, and a step taken there would delay the
 * next batch (on PGlite, which runs one statement at a time).
 */
const SEARCH_INDEX_QUIET_MS = 200;

/** Told to every client while the database is unreachable (and to those who connect meanwhile). */
const CLUSTER_DEGRADED: StatusFrame = {
  type: 'status',
  db: 'ok',
  cluster: 'degraded',
  message: 'this server cannot reach the other cluster nodes directly: their messages arrive a little late',
};
const DEGRADED: StatusFrame = {
  type: 'status',
  db: 'degraded',
  message: 'the database is unreachable: messages are delivered but not yet saved',
};
/** In a cluster nothing is delivered before it is stored (the order is made by the commit). */
const CLUSTER_DB_DEGRADED: StatusFrame = {
  type: 'status',
  db: 'degraded',
  message: 'the database is unreachable: messages wait until it returns',
};

export async function createServer(options: ServerOptions): Promise<TeamchatServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(`teamchat: ${line}\n`));
  const security = new SecurityRuntime(options.security ?? {}, log);
  const startedAt = Date.now();
  const database = await openDatabase(options.store);
  try {
    await migrate(database);
  } catch (err) {
    await database.close();
    throw err;
  }
  const store = new KyselyMessageStore(database);
  const search = new MessageSearch(database);
  // Rooms are read back when someone joins them: no messages are loaded at start.
  const snapshot = await store.loadSnapshot(0);

  // The delivery pipeline (delivery/README.md): writer -> ordered stream -> local sessions, and the bus.
  const clusterOptions = options.cluster;
  const instance = clusterOptions ? `${clusterOptions.nodeId}:${randomBytes(4).toString('hex')}` : 'local';
  const clusterStore = clusterOptions ? new ClusterStore(database, instance, clusterOptions.nodeId) : null;
  // The core is built below; the stream and the bus reach it lazily.
  // eslint-disable-next-line prefer-const -- assigned once below, read by closures made before that
  let core!: ChatCore<Connection>;
  let clusterNode: ClusterNode<Connection> | null = null;
  let bus: NatsBus | null = null;
  // Built below; the bus may bring another node's snapshot before then (dropped: the next one counts).
  let metricsReady: MetricsService | null = null;
  const applyRemote = (entries: StreamEntry[]) => {
    for (const entry of entries) {
      if ('message' in entry) core.deliverRemote(entry.message);
      else core.applyRemote(entry.event);
    }
  };
  const stream = new OrderedStream({
    start: clusterStore ? await clusterStore.streamHead() : 0,
    fill: (from, to) => clusterStore!.batches(from, to),
    applyRemote,
    publish: (number, entries) => bus?.publish(number, entries),
    onFilled: (from, to) => {
      log(`cluster: batches ${from}-${to} were read from the database (not received from the bus)`);
      clusterNode?.wantResync();
    },
    onError: (err) => log(`error: cluster stream: ${err.message}`),
  });
  if (clusterOptions) {
    try {
      // Loaded here: a single node never needs the NATS client (~2 MB of heap, issue 10).
      const { NatsBus } = await import('./delivery/nats-bus.js');
      bus = await NatsBus.connect(clusterOptions.natsUrl, {
        instance,
        onBatch: (number, entries) => stream.remote(number, entries),
        onMetrics: (snapshot) => metricsReady?.otherNode(snapshot),
        onStatus: (up) => {
          log(
            up
              ? 'cluster: the bus (NATS) is reachable again'
              : "error: cluster: the bus (NATS) is unreachable: other nodes' messages are read from the database",
          );
          if (up) clusterNode?.wantResync();
          const status = new EncodedFrame(up ? { type: 'status', db: 'ok', cluster: 'ok' } : CLUSTER_DEGRADED);
          for (const c of connections) c.deliver(status);
        },
        log,
      });
    } catch (err) {
      await database.close();
      throw err;
    }
  }

  const writer = new BatchWriter(store, {
    ordered: clusterOptions !== undefined,
    sink: stream,
    maxPending: options.maxPendingWrites,
    // Metrics exist once the core does (below); messages only flow after that.
    onDelivered: (heldMs) => metricsReady?.messageDelivered(heldMs),
    onError: (err, attempt, willRetry) =>
      log(
        `error: storing a batch failed (attempt ${attempt}${willRetry ? ', retrying' : ', giving up'}): ${err.message}`,
      ),
    onDegraded: () => {
      log(
        clusterOptions
          ? 'error: database unreachable: messages wait in the bounded queue until it returns'
          : 'error: database unreachable: degraded mode, messages are delivered live and held until it returns',
      );
      const status = new EncodedFrame(clusterOptions ? CLUSTER_DB_DEGRADED : DEGRADED);
      for (const c of connections) c.deliver(status);
    },
    onRecovered: () => {
      log('database reachable again: held messages are being saved');
      const status = new EncodedFrame({ type: 'status', db: 'ok' });
      for (const c of connections) c.deliver(status);
    },
  });
  await writer.start();
  // The search index is filled after the commit, while the writer is idle (store/search-indexer.ts).
  const searchIndexer = new SearchIndexer(database, {
    busy: () => writer.idleForMs < SEARCH_INDEX_QUIET_MS,
    log,
    // Alone on its database, new messages are this writer's: no look while it stores nothing.
    ...(clusterOptions ? {} : { stored: () => writer.stats.committed }),
  });
  searchIndexer.start();

  const connections = new Set<Connection>();
  let accepting = true;
  const roomLimits = {
    maxPerConnection: options.rooms?.maxPerConnection,
    idleMs: options.rooms?.idleMs ?? DEFAULT_ROOM_IDLE_MS,
    creationPerConnection: options.rooms?.creationPerConnection ?? DEFAULT_ROOM_CREATION.perConnection,
    creationPerAddress: options.rooms?.creationPerAddress ?? DEFAULT_ROOM_CREATION.perAddress,
  };
  // 0 means unlimited; one of the two may still apply.
  const roomCreation =
    roomLimits.creationPerConnection === 0 && roomLimits.creationPerAddress === 0
      ? null
      : new RoomCreationLimiter({
          perConnection: roomLimits.creationPerConnection,
          perAddress: roomLimits.creationPerAddress,
        });
  const metrics = new MetricsService({
    database,
    stats: {
      roomMembers: () => core.roomMembers(),
      connections: () => core.connections,
      isRestricted: (room) => core.isRestrictedRoom(room),
    },
    ...options.metrics,
    ...(clusterOptions ? { nodeId: clusterOptions.nodeId } : {}),
    log,
  });
  metrics.onOwnSnapshot((snapshot) => bus?.publishMetrics(snapshot));
  metricsReady = metrics;

  const effects: CoreEffects<Connection> = {
    send: (session, frame) => session.send(frame),
    broadcast: (sessions, frame) => {
      const encoded = new EncodedFrame(frame);
      for (const session of sessions) session.deliver(encoded);
    },
    persist: (message, callbacks) => writer.appendMessage(message, callbacks),
    inOrder: (run, event) => writer.appendEvent(run, event),
    persistState: (write, stored) => writer.appendState(write, stored),
    loadRoom: (name, recent) => store.loadRoom(name, recent),
    accountHash: (key) => store.accountHash(key),
    createAccount: (nick, hash) => store.createAccount(nick, hash, Date.now()),
    roomAccess: (room, owner) => store.roomAccess(room, owner),
    membershipsOf: (owner, limit) => store.membershipsOf(owner, limit),
    messageInfo: (id) => store.messageInfo(id),
    unreadCounts: (owner, nick, rooms) => store.unreadCounts(owner, nick, rooms),
    pmUnreadCounts: (owner, limit) => store.pmUnreadCounts(owner, limit),
    highlightWords: (owner) => store.highlightWords(owner),
    mentions: (owner, nick, rooms, before, limit) => store.mentions(owner, nick, rooms, before, limit),
    search: (query) => search.search(query),
    claimNick: async (key, nick, owner) => ({
      ok: clusterStore ? await clusterStore.claimNick(key, nick, owner) : true,
    }),
    instance,
    clustered: clusterStore !== null,
    checkIdentity: async (token) => {
      const parsed = parseToken(token);
      if (!parsed) return null;
      const stored = await store.identitySecret(parsed.id);
      if (stored === null) return null;
      const given = createHash('sha256').update(parsed.secret).digest();
      return timingSafeEqual(given, Buffer.from(stored, 'hex')) ? parsed.id : null;
    },
    newIdentity: (): NewIdentity => {
      const id = randomBytes(8).toString('hex');
      const secret = randomBytes(24).toString('base64url');
      return { id, token: `${id}.${secret}`, secretHash: createHash('sha256').update(secret).digest('hex') };
    },
    allowRoomCreation: (session) =>
      roomCreation === null || roomCreation.allow(session, session.address)
        ? null
        : codedError(
            'TC_ERR_ROOM_CREATION_LIMITED',
            `at most ${roomLimits.creationPerConnection} a minute per connection and ${roomLimits.creationPerAddress} per address`,
          ),
    whenWritable: (session) => session.whenWritable(),
    close: (session, bye) => session.close(bye),
    roomHistory: (room, query) => store.roomHistory(room, query),
    privateHistory: (nick, query) => store.privateHistory(nick, query),
    events: metrics,
    hashSecret: security.hashSecret,
    verifySecret: security.verifySecret,
    now: Date.now,
    log,
  };
  core = new ChatCore(effects, snapshot, {
    serverName: `teamchat/${VERSION}`,
    requireAccounts: security.policy.requireAccounts,
    ...(roomLimits.maxPerConnection !== undefined ? { maxRoomsPerSession: roomLimits.maxPerConnection } : {}),
    roomIdleMs: roomLimits.idleMs,
    ...(options.chat?.minPasswordLength !== undefined ? { minPasswordLength: options.chat.minPasswordLength } : {}),
    ...(options.chat?.guestRoomModes ? { guestRoomModes: true } : {}),
  });
  if (clusterStore) {
    clusterNode = new ClusterNode({ store: clusterStore, core, stream, log });
    await clusterNode.start();
  }
  // Rooms nobody is in leave memory; not while writes are failing (the store may lack their latest state).
  const sweeper = setInterval(
    () => {
      if (!writer.failing) core.sweep(Date.now());
    },
    Math.min(SWEEP_INTERVAL_MS, roomLimits.idleMs),
  );
  sweeper.unref();

  let nextId = 1;
  // Refused connections and flood-delayed commands: counted in metrics, logged once a minute per address or connection.
  const edge = new EdgeReport({ log, events: metrics, flood: security.policy.flood });
  const connectionHost: ConnectionHost = {
    core,
    maxSendQueueBytes: options.maxSendQueueBytes ?? MAX_SEND_QUEUE_BYTES,
    security: security.policy,
    get accepting() {
      return accepting;
    },
    log,
    nextId: () => nextId++,
    adopt: (c) => {
      connections.add(c);
      if (writer.degraded) c.send(clusterOptions ? CLUSTER_DB_DEGRADED : DEGRADED);
      if (bus && !bus.up) c.send(CLUSTER_DEGRADED);
    },
    forget: (c) => connections.delete(c),
    floodDelayed: (c) => edge.floodDelayed(c),
    connectionRefused: (ip, limit) => edge.connectionRefused(ip, limit),
  };

  const health = (): HealthReport => ({
    status: writer.failing ? 'degraded' : 'ok',
    db: writer.degraded ? 'down' : writer.failing ? 'degraded' : 'ok',
    uptimeMs: Date.now() - startedAt,
    connections: core.connections,
    pendingWrites: writer.pending,
  });

  const httpApp: HttpApp = security.guard(
    createHttpApp({
      metrics,
      health,
      info: {
        name: 'teamchat',
        version: VERSION,
        startedAt,
        ...(options.demoEndsAt ? { demoEndsAt: options.demoEndsAt } : {}),
      },
      log,
    }),
  );
  const ws = new WsListener(connectionHost);
  const httpServer = security.createHttpServer((req, res) => httpApp.handle(req, res));
  httpServer.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/ws') return ws.handleUpgrade(req, socket, head);
    if (!httpApp.handleUpgrade(req, socket, head)) socket.destroy();
  });
  httpServer.on('clientError', (_err, socket) => socket.destroy());

  let tcpServer: net.Server | null = null;
  let ircPorts: IrcPorts | null = null;
  let closing: Promise<void> | null = null;

  return {
    database,
    core,
    writer,
    health,

    async listen() {
      const host = options.host ?? '0.0.0.0';
      tcpServer = await listenTcp({ host, port: options.port ?? 5555, connectionHost, tls: security.tls });
      try {
        await new Promise<void>((resolve, reject) => {
          httpServer.once('error', reject);
          httpServer.listen({ host, port: options.httpPort ?? 8080 }, () => {
            httpServer.off('error', reject);
            resolve();
          });
        });
      } catch (err) {
        tcpServer.close();
        throw err;
      }
      if (options.irc) {
        const irc = {
          host,
          connectionHost,
          inOrder: (run: () => void) => writer.appendEvent(run),
          version: VERSION,
          startedAt,
          ...(security.tls ? { tls: security.tls } : {}),
          ...(roomLimits.maxPerConnection !== undefined ? { maxRooms: roomLimits.maxPerConnection } : {}),
        };
        ircPorts = await startIrc(options.irc, irc).catch((err: unknown) => {
          tcpServer?.close();
          httpServer.close();
          throw err;
        });
      }
      await metrics.start();
      return {
        host,
        tcpPort: (tcpServer.address() as net.AddressInfo).port,
        httpPort: (httpServer.address() as net.AddressInfo).port,
        ...(ircPorts
          ? {
              ircPort: ircPorts.ircPort,
              ...(ircPorts.ircTlsPort !== undefined ? { ircTlsPort: ircPorts.ircTlsPort } : {}),
            }
          : {}),
      };
    },

    close() {
      closing ??= (async () => {
        accepting = false;
        clearInterval(sweeper);
        tcpServer?.close();
        ircPorts?.close();
        httpServer.close();
        // Everything accepted is stored and delivered (acks included) before clients are told goodbye.
        const drained = await withTimeout(writer.drain(), SHUTDOWN_DRAIN_MS);
        if (!drained) log(`error: shutdown: ${writer.pending} messages could not be stored in time`);
        for (const c of connections)
          c.close({ type: 'bye', code: 'TC_ERR_SHUTDOWN', reason: 'server is shutting down' });
        await withTimeout(
          waitUntil(() => connections.size === 0),
          2_000,
        );
        ws.close();
        await httpApp.close();
        httpServer.closeAllConnections();
        await metrics.stop();
        await writer.drain();
        await searchIndexer.stop();
        clusterNode?.stop();
        stream.stop();
        await bus?.close();
        await database.close();
      })();
      return closing;
    },
  };
}

function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const settled = () => {
      clearTimeout(timer);
      resolve(true);
    };
    // Settled either way: a drain that failed has still finished.
    promise.then(settled, settled);
  });
}

async function waitUntil(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 20));
}
