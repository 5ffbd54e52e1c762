import { Command } from 'commander';

/** `teamchat export-metrics`: placeholder until its issue lands (see the issue list). */
export function exportMetricsCommand(): Command {
  return new Command('export-metrics').description('(not built yet)').action(() => {
    console.error('teamchat export-metrics is not built yet');
    process.exit(1);
  });
}
