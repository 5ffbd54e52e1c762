/**
 * The teamchat command line: commander wiring only; each command lives in commands/.
 */
import { Command, CommanderError } from 'commander';
import { UsageError } from './serve/usage-error.js';
import { VERSION } from './version.js';

/**
 * Each command's module, loaded only when needed: `teamchat connect ...` loads connect alone
 * (not the server, stress and demo modules: ~60 ms of a start-up that aims at 0.5 s); help, a
 * typo or a global flag loads them all, in this order.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./commands/serve.js')).serveCommand(),
  connect: async () => (await import('./commands/connect.js')).connectCommand(),
  stress: async () => (await import('./commands/stress.js')).stressCommand(),
  'export-metrics': async () => (await import('./commands/export-metrics.js')).exportMetricsCommand(),
  demo: async () => (await import('./commands/demo.js')).demoCommand(),
  account: async () => (await import('./commands/account.js')).accountCommand(),
};

const program = new Command('teamchat')
  .description('Self-hosted team chat: server, terminal client, load generator and metrics')
  .version(VERSION)
  .showHelpAfterError()
  .exitOverride();
const named = process.argv[2];
const needed = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
for (const command of await Promise.all(needed.map((name) => COMMANDS[name]()))) program.addCommand(command);

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
