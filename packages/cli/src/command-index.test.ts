import { Command, Help } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS, commandToLoad } from './command-index.js';

describe('command index', () => {
  it.each(Object.keys(COMMANDS))('lists %s as the command itself describes it', async (name) => {
    const entry = COMMANDS[name];
    const command = await entry.load();
    expect(command.name()).toBe(name);
    expect(entry.description).toBe(command.description());
    // The term commander would print for the real command, inside a program.
    const program = new Command('teamchat').addCommand(command);
    expect(entry.term).toBe(new Help().subcommandTerm(program.commands[0]));
  });

  it('loads a command only when the arguments run it', () => {
    expect(commandToLoad(['serve', '--port', '1'])).toBe('serve');
    expect(commandToLoad(['help', 'connect'])).toBe('connect');
    expect(commandToLoad(['--help'])).toBeUndefined();
    expect(commandToLoad(['help'])).toBeUndefined();
    expect(commandToLoad([])).toBeUndefined();
    expect(commandToLoad(['serv'])).toBeUndefined();
    expect(commandToLoad(['constructor'])).toBeUndefined();
  });
});
