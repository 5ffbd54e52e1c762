import { Command } from 'commander';

/** `teamchat demo`: placeholder until its issue lands (see the issue list). */
export function demoCommand(): Command {
  return new Command('demo').description('(not built yet)').action(() => {
    console.error('teamchat demo is not built yet');
    process.exit(1);
  });
}
