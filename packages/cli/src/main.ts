/**
 * The teamchat command line: commander wiring only; each command lives in commands/.
 */
import { Command, CommanderError } from 'commander';
import { connectCommand } from './commands/connect.js';
import { demoCommand } from './commands/demo.js';
import { exportMetricsCommand } from './commands/export-metrics.js';
import { serveCommand } from './commands/serve.js';
import { stressCommand } from './commands/stress.js';
import { UsageError } from './serve/usage-error.js';
import { VERSION } from './version.js';

const program = new Command('teamchat')
  .description('Self-hosted team chat: server, terminal client, load generator and metrics')
  .version(VERSION)
  .showHelpAfterError()
  .exitOverride()
  .addCommand(serveCommand())
  .addCommand(connectCommand())
  .addCommand(stressCommand())
  .addCommand(exportMetricsCommand())
  .addCommand(demoCommand());

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
