/**
 * `teamchat account register <nick> <password> [--server host:port]`: creates an account through a
 * running server's TCP port (NDJSON `hello` with `register`), never by opening the data folder:
 * only one process may open a PGlite folder, and a cluster's accounts live in its Postgres.
 *
 * Exit codes: 0 registered; 1 refused or unreachable (the server's coded error is printed);
 * 2 usage (a bad nick, a bad address).
 */
import net from 'node:net';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  decodeServerFrame,
  encodeFrame,
  isValidNick,
  LineFramer,
  PROTOCOL_VERSION,
  type ServerFrame,
} from '@teamchat/protocol';

/** How long to wait for the server's answer. */
const ANSWER_TIMEOUT_MS = 15_000;

/** A runtime failure: printed as `teamchat account: <message>`, exit 1. */
class AccountError extends Error {}

export function accountCommand(): Command {
  const account = new Command('account').description('manage accounts on a running server').exitOverride();
  account
    .command('register')
    .exitOverride()
    .description('register <nick> with <password> on a running server (through its TCP port)')
    .argument('<nick>', 'the nick to register (1-24 letters, digits, _ or -, starting with a letter)', parseNick)
    .argument('<password>', 'its password (the server sets the shortest allowed: --min-password-length)')
    .addOption(
      new Option('--server <host:port>', 'the server to ask').default('127.0.0.1:5555').argParser(parseAddress),
    )
    .action(async (nick: string, password: string, flags: { server: { host: string; port: number } }) => {
      try {
        await register(flags.server, nick, password);
        process.stdout.write(`teamchat: account ${nick} is registered on ${flags.server.host}:${flags.server.port}\n`);
      } catch (err) {
        if (!(err instanceof AccountError)) throw err;
        process.stderr.write(`teamchat account: ${err.message}\n`);
        process.exitCode = 1;
      }
    });
  return account;
}

/**
 * Says `hello` with `register`: the server creates the account (or, when the nick is an account
 * already, checks the password: then it was registered before, with this very password) and
 * welcomes the session with `account: true`; then the session quits.
 */
function register(server: { host: string; port: number }, nick: string, password: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, server.host);
    const framer = new LineFramer();
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.end(encodeFrame({ type: 'quit' }));
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(
      () => done(new AccountError(`no answer from ${server.host}:${server.port} within ${ANSWER_TIMEOUT_MS / 1000}s`)),
      ANSWER_TIMEOUT_MS,
    );
    socket.on('connect', () =>
      socket.write(
        encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, nick, password, register: true, client: 'teamchat-account' }),
      ),
    );
    socket.on('error', (err) => done(new AccountError(`cannot reach ${server.host}:${server.port}: ${err.message}`)));
    socket.on('close', () => done(new AccountError('the server closed the connection')));
    const onLine = (line: Buffer) => {
      const decoded = decodeServerFrame(line);
      if (!decoded.ok) return;
      const frame: ServerFrame = decoded.frame;
      if (frame.type === 'welcome')
        return done(frame.account ? undefined : new AccountError(`${nick} was not registered`));
      if (frame.type === 'error' || frame.type === 'bye') {
        const code = frame.code ? ` [${frame.code}]` : '';
        done(new AccountError(`${frame.type === 'error' ? frame.message : frame.reason}${code}`));
      }
    };
    socket.on('data', (chunk: Buffer) =>
      framer.push(chunk, onLine, (code) => done(new AccountError(`the server's answer is not NDJSON [${code}]`))),
    );
  });
}

function parseNick(value: string): string {
  if (!isValidNick(value))
    throw new InvalidArgumentError('a nick is 1-24 letters, digits, _ or -, starting with a letter');
  return value;
}

function parseAddress(value: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new InvalidArgumentError('must be host:port, e.g. 127.0.0.1:5555');
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}
