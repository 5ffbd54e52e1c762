/**
 * `teamchat export-metrics out.csv`: writes stored metrics snapshots as CSV (the same writers as the
 * server's /api/metrics.csv). With a running server it asks it over HTTP (only one process may open
 * a PGlite folder); with none it reads the database directly. The file is written to a temporary
 * name and renamed, so no half-written file is ever left.
 *
 * Two layouts (`--format`): `long` (the default) has one row per snapshot and room plus a `(total)`
 * row per snapshot, in fixed columns, which spreadsheets and pandas read as is whatever the number
 * of rooms; `wide` (the only layout before) has one row per snapshot and five columns per room, as
 * the dashboard's Export button writes.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Database, StoreConfig, TimeRange } from '@teamchat/server';
// Light: parsing --from/--to must not load the whole server (the database opens lazily below).
import { parseTime, TimeRangeError } from '@teamchat/server/time-range';
import { defaultDataDir } from '../serve/data-dir.js';

type CsvFormat = 'long' | 'wide';
const FORMATS: readonly CsvFormat[] = ['long', 'wide'];
/**
 * How each layout's header starts: a server answers the wide layout to a `format` it does not know
 * (one older than `--format`), so the header says which one came.
 */
const HEADER_START: Record<CsvFormat, string> = { long: 'ts,room,', wide: 'timestamp,' };

interface ExportFlags {
  format: CsvFormat;
  from?: number;
  to?: number;
  server?: string;
  dataDir?: string;
  databaseUrl?: string;
}

/** A runtime failure: printed as `teamchat export-metrics: <message>`, exit 1. */
export class ExportError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ExportError';
  }
}

/**
 * The long layout's columns, for --help (the writer is the server's long-csv-rows.ts, not loaded
 * here to keep the CLI's start light; the e2e test checks that the two agree).
 */
const LONG_COLUMNS =
  'ts,room,mps,moving_avg,joins,leaves,joins_total,leaves_total,members,messages,messages_total,rooms,private_messages,private_messages_total,connections,rooms_omitted';

function timeArg(name: string) {
  return (value: string): number => {
    try {
      return parseTime(value, name);
    } catch (err) {
      if (err instanceof TimeRangeError) throw new InvalidArgumentError(err.message);
      throw err;
    }
  };
}

function serverArg(value: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new InvalidArgumentError(`${JSON.stringify(value)} is not a URL like http://host:8080`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidArgumentError('must be an http:// or https:// URL');
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/**
 * @example
 * teamchat export-metrics out.csv --from 2026-11-24T09:00:00Z --server http://localhost:8080
 * teamchat export-metrics - --data-dir ./.teamchat/data | head
 * teamchat export-metrics wide.csv --format wide
 */
export function exportMetricsCommand(): Command {
  return (
    new Command('export-metrics')
      // Usage errors reach the CLI's handler, which exits 2.
      .exitOverride()
      .description(
        'write stored metrics snapshots as CSV (asks a running server over HTTP, or reads the database when none runs)',
      )
      .argument('<out>', 'CSV file to write ("-" for stdout)')
      .addOption(
        new Option(
          '--format <layout>',
          'long: a row per snapshot and room, plus a (total) row; wide: a row per snapshot, columns per room',
        )
          .choices(FORMATS)
          .default('long'),
      )
      .addOption(
        new Option('--from <time>', 'first snapshot time, ISO 8601 (e.g. 2026-11-24T09:00:00Z) or epoch ms').argParser(
          timeArg('--from'),
        ),
      )
      .addOption(
        new Option('--to <time>', 'last snapshot time, ISO 8601 or epoch ms (default: now)').argParser(timeArg('--to')),
      )
      .addOption(
        new Option('--server <url>', 'ask this running server, e.g. http://localhost:8080').argParser(serverArg),
      )
      .addOption(new Option('--data-dir <dir>', 'read this PGlite folder directly (no server may have it open)'))
      .addOption(new Option('--database-url <url>', 'read this Postgres database directly'))
      .addHelpText(
        'after',
        `
Columns of --format long (rooms in name order, then (other), (private) and (total)):
  ${LONG_COLUMNS}
  (total) rows carry private_messages, private_messages_total, connections and rooms_omitted (1: a
  snapshot of an older server, totals only); room rows carry joins_total, leaves_total and members.

With none of --server, --data-dir, --database-url: asks http://127.0.0.1:8080 (TEAMCHAT_HTTP_PORT), and when
no server answers there reads $DATABASE_URL or the server's default data folder (TEAMCHAT_DATA_DIR, else $XDG_DATA_HOME/teamchat or ~/.local/share/teamchat).`,
      )
      .action(async function (this: Command, out: string, flags: ExportFlags) {
        const sources = [flags.server, flags.dataDir, flags.databaseUrl].filter((s) => s !== undefined);
        if (sources.length > 1)
          this.error('error: give only one of --server, --data-dir, --database-url', { exitCode: 2 });
        if (flags.from !== undefined && flags.to !== undefined && flags.from > flags.to) {
          this.error(
            `error: --from (${new Date(flags.from).toISOString()}) is after --to (${new Date(flags.to).toISOString()})`,
            { exitCode: 2 },
          );
        }
        const range: TimeRange = { from: flags.from ?? 0, to: flags.to ?? Date.now() };
        try {
          const summary = await exportMetrics(out, range, flags);
          if (out !== '-') {
            const what =
              flags.format === 'long'
                ? `${summary.snapshots} snapshots as ${summary.rows} rows`
                : `${summary.snapshots} snapshots`;
            process.stderr.write(`teamchat: wrote ${what} to ${out} (from ${summary.source})\n`);
          }
        } catch (err) {
          const message = (err as Error).message;
          process.stderr.write(`teamchat export-metrics: ${message}\n`);
          process.exitCode = 1;
        }
      })
  );
}

interface ExportSummary {
  /** Data rows written (header excluded). */
  rows: number;
  snapshots: number;
  source: string;
}

async function exportMetrics(out: string, range: TimeRange, flags: ExportFlags): Promise<ExportSummary> {
  const sink = await openSink(out, flags.format);
  try {
    let source: string;
    if (flags.server !== undefined) {
      source = await fromServer(flags.server, range, flags.format, sink, { explicit: true });
    } else if (flags.dataDir !== undefined || flags.databaseUrl !== undefined) {
      source = await fromDatabase(storeConfig(flags), range, flags.format, sink);
    } else {
      // Nothing said: a server on this machine if one runs, else the database it would use.
      const port = process.env.TEAMCHAT_HTTP_PORT ?? '8080';
      const tried = await fromServer(`http://127.0.0.1:${port}`, range, flags.format, sink, { explicit: false });
      source =
        tried ??
        (await fromDatabase(
          process.env.DATABASE_URL
            ? { kind: 'postgres', url: process.env.DATABASE_URL }
            : { kind: 'pglite', dataDir: process.env.TEAMCHAT_DATA_DIR ?? defaultDataDir().dir },
          range,
          flags.format,
          sink,
        ));
    }
    await sink.commit();
    return { rows: sink.rows, snapshots: sink.snapshots, source };
  } catch (err) {
    sink.abort();
    throw err;
  }
}

function storeConfig(flags: ExportFlags): StoreConfig {
  return flags.databaseUrl !== undefined
    ? { kind: 'postgres', url: flags.databaseUrl }
    : { kind: 'pglite', dataDir: flags.dataDir! };
}

// ---------- sources ----------

async function fromServer(
  base: string,
  range: TimeRange,
  format: CsvFormat,
  sink: Sink,
  opts: { explicit: true },
): Promise<string>;
async function fromServer(
  base: string,
  range: TimeRange,
  format: CsvFormat,
  sink: Sink,
  opts: { explicit: false },
): Promise<string | undefined>;
async function fromServer(
  base: string,
  range: TimeRange,
  format: CsvFormat,
  sink: Sink,
  opts: { explicit: boolean },
): Promise<string | undefined> {
  const url = `${base}/api/metrics.csv?from=${range.from}&to=${range.to}&format=${format}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(opts.explicit ? 30_000 : 3_000) });
  } catch (err) {
    if (!opts.explicit) return undefined;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new ExportError(
      'TC_EXPORT_UNREACHABLE',
      `cannot reach the teamchat server at ${base} (${why}); is it running? Without a server, read the database with --data-dir or --database-url`,
    );
  }
  if (res.status !== 200) {
    if (!opts.explicit && res.status === 404) return undefined; // something else on that port
    const text = await res.text().catch(() => '');
    let detail = text.trim().slice(0, 300);
    try {
      const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
      if (body.error?.message) detail = `${body.error.code}: ${body.error.message}`;
    } catch {
      // not JSON: keep the text
    }
    throw new ExportError(
      'TC_EXPORT_SERVER_ERROR',
      `the server at ${base} answered ${res.status}${detail ? `: ${detail}` : ''}`,
    );
  }
  if (!(res.headers.get('content-type') ?? '').startsWith('text/csv') || !res.body) {
    if (!opts.explicit) return undefined;
    throw new ExportError(
      'TC_EXPORT_SERVER_ERROR',
      `${base} did not answer with CSV; is it a teamchat server's HTTP port?`,
    );
  }
  // Nothing is written before the header line shows the layout asked for.
  let head: Buffer | undefined = Buffer.alloc(0);
  try {
    for await (const chunk of Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>)) {
      if (head === undefined) {
        await sink.write(chunk as Buffer);
        continue;
      }
      head = Buffer.concat([head, chunk as Buffer]);
      if (!head.includes(10) && head.length < 64 * 1024) continue;
      checkHeader(head, format, base);
      await sink.write(head);
      head = undefined;
    }
  } catch (err) {
    if (err instanceof ExportError) throw err;
    throw new ExportError(
      'TC_EXPORT_SERVER_ERROR',
      `the connection to ${base} broke during the export: ${(err as Error).message}`,
    );
  }
  if (head !== undefined) {
    checkHeader(head, format, base);
    await sink.write(head);
  }
  return `server ${base}`;
}

/** The server answered the wide layout to `format=long`: it is older than the long layout. */
function checkHeader(head: Buffer, format: CsvFormat, base: string): void {
  if (head.toString('utf8', 0, 64).startsWith(HEADER_START[format])) return;
  const other = FORMATS.find((f) => f !== format)!;
  throw new ExportError(
    'TC_EXPORT_SERVER_ERROR',
    head.toString('utf8', 0, 64).startsWith(HEADER_START[other])
      ? `the server at ${base} answered the ${other} layout, not ${format}: it is older than --format ${format}; upgrade it, or export with --format ${other}`
      : `the server at ${base} did not answer a metrics CSV header`,
  );
}

async function fromDatabase(config: StoreConfig, range: TimeRange, format: CsvFormat, sink: Sink): Promise<string> {
  if (config.kind === 'pglite') await checkPGliteFolder(config.dataDir);
  const { csvChunks, MetricsStore, openDatabase, StoreError } = await import('@teamchat/server');
  let database: Database;
  try {
    database = await openDatabase(config);
  } catch (err) {
    if (err instanceof StoreError && err.code === 'TC_STORE_LOCKED') {
      throw new ExportError(
        'TC_EXPORT_LOCKED',
        `${err.message.replace(/^TC_STORE_LOCKED: /, '')}. A teamchat server is running on it: ask that server instead, with --server http://<host>:<http-port>`,
      );
    }
    throw err;
  }
  try {
    const found = await database.kysely
      .selectNoFrom((eb) => eb.fn<string | null>('to_regclass', [eb.val('metric_snapshots')]).as('t'))
      .executeTakeFirst();
    if (!found?.t) {
      throw new ExportError(
        'TC_EXPORT_NO_METRICS',
        `${database.description} has no metrics table; has \`teamchat serve\` run with this database?`,
      );
    }
    const store = new MetricsStore(database);
    for await (const chunk of csvChunks(store, range, { format })) await sink.write(chunk);
    return database.description;
  } catch (err) {
    if (err instanceof ExportError) throw err;
    throw new ExportError('TC_EXPORT_DATABASE', `reading ${database.description} failed: ${(err as Error).message}`);
  } finally {
    await database.close();
  }
}

/** Refuses a folder that is not a PGlite database, so a typo does not create an empty one. */
async function checkPGliteFolder(dataDir: string): Promise<void> {
  const dir = path.resolve(dataDir);
  if (!existsSync(dir)) throw new ExportError('TC_EXPORT_NO_DATA', `no data folder at ${dir}`);
  if (!statSync(dir).isDirectory()) throw new ExportError('TC_EXPORT_NO_DATA', `${dir} is not a folder`);
  const version = await readFile(path.join(dir, 'PG_VERSION'), 'utf8').catch(() => undefined);
  if (version === undefined)
    throw new ExportError('TC_EXPORT_NO_DATA', `${dir} is not a teamchat data folder (no database in it)`);
}

// ---------- output ----------

interface Sink {
  /** Data rows written so far (header excluded). */
  rows: number;
  /** Snapshots written so far: a row each in the wide layout, a `(total)` row each in the long one. */
  snapshots: number;
  write(chunk: string | Buffer): Promise<void>;
  commit(): Promise<void>;
  abort(): void;
}

/** stdout, or a temp file beside `out` renamed over it on commit (removed on abort). */
async function openSink(out: string, format: CsvFormat): Promise<Sink> {
  const counter = new RowCounter(format);
  const count = (chunk: string | Buffer) => counter.add(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  const rows = () => counter.rows;
  const snapshots = () => counter.snapshots;
  if (out === '-') {
    return {
      get rows() {
        return rows();
      },
      get snapshots() {
        return snapshots();
      },
      write: (chunk) => {
        count(chunk);
        return writeTo(process.stdout, chunk);
      },
      commit: async () => {},
      abort: () => {},
    };
  }
  const target = path.resolve(out);
  if (existsSync(target) && statSync(target).isDirectory())
    throw new ExportError('TC_EXPORT_UNWRITABLE', `cannot write ${out}: it is a folder`);
  const temp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  const stream = createWriteStream(temp, { flags: 'wx' });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err) =>
      reject(new ExportError('TC_EXPORT_UNWRITABLE', `cannot write ${out}: ${fsReason(err, path.dirname(target))}`)),
    );
  });
  let failed: Error | undefined;
  stream.on('error', (err) => (failed = err));
  return {
    get rows() {
      return rows();
    },
    get snapshots() {
      return snapshots();
    },
    async write(chunk) {
      if (failed) throw new ExportError('TC_EXPORT_UNWRITABLE', `writing ${out} failed: ${failed.message}`);
      count(chunk);
      await writeTo(stream, chunk);
    },
    async commit() {
      await new Promise<void>((resolve, reject) => {
        stream.end(() => (failed ? reject(failed) : resolve()));
        stream.once('error', reject);
      }).catch((err: Error) => {
        throw new ExportError('TC_EXPORT_UNWRITABLE', `writing ${out} failed: ${err.message}`);
      });
      try {
        renameSync(temp, target);
      } catch (err) {
        rmSync(temp, { force: true });
        throw new ExportError('TC_EXPORT_UNWRITABLE', `cannot write ${out}: ${(err as Error).message}`);
      }
    },
    abort() {
      stream.destroy();
      rmSync(temp, { force: true });
    },
  };
}

const TOTAL_ROW_MARK = Buffer.from(',(total),');

/** Counts the data rows of a CSV stream, and the snapshots they hold, chunk by chunk. */
class RowCounter {
  rows = 0;
  #totalRows = 0;
  #lines = 0;
  /** The start of the line a chunk ended in (at most as long as `ts,(total),`). */
  #partial = Buffer.alloc(0);

  constructor(readonly format: CsvFormat) {}

  get snapshots(): number {
    return this.format === 'long' ? this.#totalRows : this.rows;
  }

  add(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.#endLine(Buffer.concat([this.#partial, chunk.subarray(start, Math.min(nl, start + 64))]));
      this.#partial = Buffer.alloc(0);
      start = nl + 1;
    }
    if (this.#partial.length < 64) this.#partial = Buffer.concat([this.#partial, chunk.subarray(start, start + 64)]);
  }

  #endLine(head: Buffer): void {
    if (this.#lines++ === 0) return; // the header
    this.rows++;
    // `<ISO time>,(total),`: the room is the second cell, and a room name holds no comma.
    const comma = head.indexOf(44);
    if (comma !== -1 && head.subarray(comma, comma + TOTAL_ROW_MARK.length).equals(TOTAL_ROW_MARK)) this.#totalRows++;
  }
}

function fsReason(err: NodeJS.ErrnoException, dir: string): string {
  switch (err.code) {
    case 'ENOENT':
      return `the folder ${dir} does not exist`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied in ${dir}`;
    case 'EROFS':
      return `${dir} is on a read-only file system`;
    case 'ENOTDIR':
      return `${dir} is not a folder`;
    default:
      return err.message;
  }
}

function writeTo(stream: Writable, chunk: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = stream.write(chunk, (err) => (err ? reject(err) : undefined));
    if (ok) resolve();
    else stream.once('drain', () => resolve());
  });
}
