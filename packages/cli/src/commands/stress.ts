import { Command } from 'commander';

/** `teamchat stress`: placeholder until its issue lands (see the issue list). */
export function stressCommand(): Command {
  return new Command('stress').description('(not built yet)').action(() => {
    console.error('teamchat stress is not built yet');
    process.exit(1);
  });
}
