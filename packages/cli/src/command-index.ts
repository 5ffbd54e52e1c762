/**
 * What `teamchat --help` lists, without loading the commands: each command's name, its help term
 * and its one-line description, next to the loader of the real command. Loading every command
 * module (the server, the stress tool, the demo) for the top-level help cost ~60 ms of a 200 ms
 * budget (first-contact issue). command-index.test.ts fails when an entry drifts from its command.
 */
import type { Command } from 'commander';

export interface CommandEntry {
  /** How the top-level help shows the command: its name, `[options]` and its arguments. */
  term: string;
  description: string;
  load: () => Promise<Command>;
}

export const COMMANDS: Record<string, CommandEntry> = {
  serve: {
    term: 'serve [options]',
    description: 'run the chat server: TCP (NDJSON and plain text) and HTTP (WebSocket /ws, dashboard, metrics)',
    load: async () => (await import('./commands/serve.js')).serveCommand(),
  },
  connect: {
    term: 'connect [options] [server]',
    description: 'chat in the terminal: full-screen UI, or line mode when piped',
    load: async () => (await import('./commands/connect.js')).connectCommand(),
  },
  stress: {
    term: 'stress [options]',
    description:
      'load-test a server: N clients join rooms and chat; live figures, then a summary (exit 1 on failed clients or lost messages)',
    load: async () => (await import('./commands/stress.js')).stressCommand(),
  },
  'export-metrics': {
    term: 'export-metrics [options] <out>',
    description:
      'write stored metrics snapshots as CSV (asks a running server over HTTP, or reads the database when none runs)',
    load: async () => (await import('./commands/export-metrics.js')).exportMetricsCommand(),
  },
  demo: {
    term: 'demo [options]',
    description:
      'run the full demo: a server, a scripted conversation, stress clients and the live dashboard, then a metrics CSV',
    load: async () => (await import('./commands/demo.js')).demoCommand(),
  },
  account: {
    term: 'account',
    description: 'manage accounts on a running server',
    load: async () => (await import('./commands/account.js')).accountCommand(),
  },
};

/**
 * The command the arguments run, if any: `teamchat serve ...` and `teamchat help serve` need the
 * real `serve`; anything else (help, `--version`, a typo, nothing) needs only the index.
 */
export function commandToLoad(args: readonly string[]): string | undefined {
  const [first, second] = args;
  const named = first === 'help' ? second : first;
  return named !== undefined && Object.hasOwn(COMMANDS, named) ? named : undefined;
}
