/**
 * `teamchat connect`: the terminal client. A full-screen Ink UI on a terminal; a line mode when
 * stdin or stdout is not a terminal (pipes, scripts, tests).
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { isValidNick, normalizeRoom } from '@teamchat/protocol';
import { parseDuration, parsePositiveInt } from '../parse.js';
import { loadClient } from './connect-client.js';

interface ConnectFlags {
  nick?: string;
  room: string[];
  line?: boolean;
  color: boolean;
  scrollback: number;
  tls?: boolean;
  ca?: string;
  password?: string;
  connectTimeout: number;
  token: boolean;
  theme?: 'light' | 'dark';
  bell: boolean;
  highlight: string[];
}

const LINE_MODE_HELP = `
Line mode (used when stdin or stdout is not a terminal, or with --line):
  each stdin line is sent to the current room or conversation, or run as a /command;
  EOF sends what is still queued, then quits. Output, one line per event:
    [general] alice: hi            a room message
    [general] * alice waves        a /me action
    [PM] bob: psst                 a private message to you
    [PM -> bob] see you            your own private message
    * bob has joined general       a notice
    ! ... [TC_ERR_...]             an error, with its code
  A nick already in use at start is an error (exit 1): pick another one.
  A server that cannot be reached within --connect-timeout (15s) is an error (exit 1):
    teamchat connect: cannot reach host:port: connection refused (ECONNREFUSED); gave up after 15s
  A bad address or flag is a usage error (exit 2).

Examples:
  teamchat connect localhost:5555 --nick alice --room general
  teamchat connect a:5555,b:5555,c:5555 --nick alice     a cluster: on a lost connection, the next node
  printf '/join ops\\ndeploy done\\n' | teamchat connect --nick deploybot
`;

function roomArg(value: string, previous: string[]): string[] {
  const room = normalizeRoom(value);
  if (!room) throw new InvalidArgumentError('must be a room name: 1-32 letters, digits, _ . or - [TC_ERR_BAD_ROOM]');
  return [...previous, room];
}

/** `--connect-timeout`: a duration, or 0 to keep retrying. */
function connectTimeoutArg(value: string): number {
  return value.trim() === '0' ? 0 : parseDuration(value);
}

/** `--highlight deploy,oncall`: words (repeatable, comma-separated). */
function highlightArg(value: string, previous: string[]): string[] {
  const words = value
    .split(',')
    .map((w) => w.trim())
    .filter((w) => w !== '');
  return [...previous, ...words];
}

/** TEAMCHAT_BELL=0 (or off, false, no) turns the bell off, like --no-bell. */
function bellFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.TEAMCHAT_BELL?.trim().toLowerCase();
  return !(v === '0' || v === 'off' || v === 'false' || v === 'no');
}

function nickArg(value: string): string {
  if (!isValidNick(value))
    throw new InvalidArgumentError('must be 1-24 letters, digits, _ or -, starting with a letter [TC_ERR_BAD_NICK]');
  return value;
}

export function connectCommand(): Command {
  return new Command('connect')
    .description('chat in the terminal: full-screen UI, or line mode when piped')
    .argument(
      '[server]',
      'host:port of a teamchat server; several, comma-separated (a:5555,b:5555), are the nodes of a cluster, tried in turn',
      'localhost:5555',
    )
    .addOption(new Option('-n, --nick <nick>', 'your nick').env('TEAMCHAT_NICK').argParser(nickArg))
    .addOption(
      new Option('-r, --room <room>', 'room to join (repeatable)')
        .default([], 'none (your saved rooms)')
        .argParser(roomArg),
    )
    .option('--line', 'force line mode even on a terminal')
    .option('--no-color', 'no colours (also when NO_COLOR is set)')
    .addOption(
      new Option(
        '--theme <theme>',
        'colours for a light or dark terminal background (default: from COLORFGBG when set, else dark)',
      )
        .choices(['light', 'dark'])
        .env('TEAMCHAT_THEME'),
    )
    .addOption(
      new Option('--scrollback <lines>', 'lines kept in memory per window').default(5000).argParser(parsePositiveInt),
    )
    .option('--tls', 'connect over TLS (a server started with --tls-cert/--tls-key)')
    .addOption(new Option('--ca <file>', 'PEM certificate to trust (a self-signed server); implies --tls'))
    .addOption(
      new Option('--password <password>', 'password of your registered nick (prefer the environment variable)').env(
        'TEAMCHAT_PASSWORD',
      ),
    )
    .addOption(
      new Option(
        '--connect-timeout <duration>',
        'line mode: give up (exit 1) when no session is open after this long; 0 keeps retrying',
      )
        .env('TEAMCHAT_CONNECT_TIMEOUT')
        .default(15_000, '15s')
        .argParser(connectTimeoutArg),
    )
    .option('--no-token', 'a throwaway identity: neither read nor save the resume token ($TEAMCHAT_HOME/tokens.json)')
    .option(
      '--no-bell',
      'full-screen UI: do not ring the terminal bell when a message mentions you (also TEAMCHAT_BELL=0)',
    )
    .addOption(
      new Option(
        '--highlight <words>',
        'full-screen UI: words (comma-separated; letters, digits, _ or -) added to your highlight words kept on the server (/highlight): a message naming one is a mention, like your nick',
      )
        .env('TEAMCHAT_HIGHLIGHT')
        .default([], 'none')
        .argParser(highlightArg),
    )
    .addHelpText('after', LINE_MODE_HELP)
    .exitOverride()
    .action(async (server: string, flags: ConnectFlags, cmd: Command) => {
      // The bundled client when built (a dozen files, not ~600 modules: a faster full UI).
      const { ChatConnection, checkAddresses, FileTokenStore, runLineMode, runTui } = await loadClient();
      const address = checkAddresses(server);
      if (!address.ok)
        return cmd.error(
          `teamchat connect: bad server address ${JSON.stringify(server)}: ${address.reason} [TC_ERR_BAD_ARGUMENT]`,
          { exitCode: 2, code: 'TC_ERR_BAD_ARGUMENT' },
        );
      const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
      const lineMode = flags.line === true || !tty;
      if (!flags.nick && lineMode)
        cmd.error('teamchat connect: --nick is required in line mode [TC_ERR_BAD_ARGUMENT]', {
          exitCode: 2,
          code: 'TC_ERR_BAD_ARGUMENT',
        });
      const connection = new ChatConnection({
        addresses: address.addresses,
        nick: flags.nick ?? '',
        rooms: flags.room,
        ...(flags.tls || flags.ca ? { tls: flags.ca ? { ca: readCa(flags.ca, cmd) } : {} } : {}),
        ...(flags.password !== undefined ? { password: flags.password } : {}),
        ...(flags.token ? { tokens: new FileTokenStore() } : {}),
        // A script must not hang on a server that is not there; a person at a terminal sees the
        // status bar and may wait.
        ...(lineMode && flags.connectTimeout > 0 ? { giveUpAfterMs: flags.connectTimeout } : {}),
      });
      let code: number;
      if (lineMode) {
        code = await runLineMode({ connection, input: process.stdin, output: process.stdout, errors: process.stderr });
      } else {
        const noColor = !flags.color || (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '');
        code = await runTui({
          connection,
          noColor,
          scrollbackCap: flags.scrollback,
          ...(flags.theme ? { theme: flags.theme } : {}),
          bell: flags.bell && bellFromEnv(),
          highlight: flags.highlight,
        });
      }
      process.exit(code);
    });
}

function readCa(file: string, cmd: Command): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    return cmd.error(`teamchat connect: cannot read --ca ${file}: ${(err as Error).message} [TC_ERR_BAD_ARGUMENT]`, {
      exitCode: 2,
      code: 'TC_ERR_BAD_ARGUMENT',
    });
  }
}
