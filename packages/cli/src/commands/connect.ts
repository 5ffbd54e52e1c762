import { Command } from 'commander';

/** `teamchat connect`: placeholder until its issue lands (see the issue list). */
export function connectCommand(): Command {
  return new Command('connect').description('(not built yet)').action(() => {
    console.error('teamchat connect is not built yet');
    process.exit(1);
  });
}
