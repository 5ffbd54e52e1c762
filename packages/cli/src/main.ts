/**
 * The teamchat command line: commander wiring only; each command lives in commands/.
 */
import { Command, CommanderError, Help } from 'commander';
import { COMMANDS, commandToLoad } from './command-index.js';
import { UsageError } from './serve/usage-error.js';
import { VERSION } from './version.js';

const program = new Command('teamchat')
  .description('Self-hosted team chat: server, terminal client, load generator and metrics')
  .version(VERSION)
  .showHelpAfterError()
  .exitOverride();
// A command being run is loaded alone (`teamchat connect` never loads the server); help, a typo
// or a global flag gets the index's stand-ins, which commander lists and suggests from.
const named = commandToLoad(process.argv.slice(2));
if (named !== undefined) {
  program.addCommand(await COMMANDS[named].load());
} else {
  for (const [name, entry] of Object.entries(COMMANDS)) program.command(name).description(entry.description);
  const standard = new Help();
  program.configureHelp({
    subcommandTerm: (command) =>
      Object.hasOwn(COMMANDS, command.name()) ? COMMANDS[command.name()].term : standard.subcommandTerm(command),
  });
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version exit 0; usage errors (unknown flag, bad value) exit 2.
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  console.error(`teamchat: ${(err as Error).message}`);
  // A call that cannot work (bad TLS files, an unusable database URL) is a usage error, like a bad flag.
  process.exit(err instanceof UsageError ? 2 : 1);
}
