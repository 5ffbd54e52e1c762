import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileTokenStore, teamchatHome } from './token-store.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(path.join(tmpdir(), 'teamchat-tokens-'));
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

const file = () => path.join(home, 'tokens.json');

describe('FileTokenStore', () => {
  it('keeps a token per server and nick across instances (a new run)', () => {
    new FileTokenStore({ home }).set('chat.example:5555', 'Alice', 'tok-a');
    const next = new FileTokenStore({ home });
    expect(next.get('chat.example:5555', 'alice')).toBe('tok-a');
    expect(next.get('chat.example:5555', 'ALICE')).toBe('tok-a');
    expect(next.get('chat.example:5555', 'bob')).toBeUndefined();
    expect(next.get('other.example:5555', 'alice')).toBeUndefined();
  });

  it('starts empty when there is no file, and creates the folder on the first save', () => {
    const nested = path.join(home, 'not', 'yet');
    const store = new FileTokenStore({ home: nested });
    expect(store.get('h:1', 'alice')).toBeUndefined();
    store.set('h:1', 'alice', 't');
    expect(JSON.parse(readFileSync(path.join(nested, 'tokens.json'), 'utf8'))).toEqual({
      version: 1,
      servers: { 'h:1': { alice: 't' } },
    });
  });

  it('writes the file with mode 0600 and leaves no temporary file behind', () => {
    writeFileSync(file(), JSON.stringify({ version: 1, servers: {} }), { mode: 0o644 });
    new FileTokenStore({ home }).set('h:1', 'alice', 'secret');
    if (process.platform !== 'win32') expect(statSync(file()).mode & 0o777).toBe(0o600);
    expect(readdirSync(home)).toEqual(['tokens.json']);
  });

  it('keeps the tokens another client wrote meanwhile', () => {
    const first = new FileTokenStore({ home });
    const second = new FileTokenStore({ home });
    expect(first.get('h:1', 'alice')).toBeUndefined();
    second.set('h:1', 'bob', 'tok-b');
    first.set('h:1', 'alice', 'tok-a');
    const after = new FileTokenStore({ home });
    expect(after.get('h:1', 'alice')).toBe('tok-a');
    expect(after.get('h:1', 'bob')).toBe('tok-b');
  });

  it('ignores a corrupt file with one warning, then replaces it on the next save', () => {
    writeFileSync(file(), '{"version":1,"servers":{"h:1":{"alice":"to');
    const store = new FileTokenStore({ home });
    expect(() => store.get('h:1', 'alice')).toThrow(/tokens\.json: it is not valid JSON/);
    expect(store.get('h:1', 'alice')).toBeUndefined();
    store.set('h:1', 'alice', 'fresh');
    expect(new FileTokenStore({ home }).get('h:1', 'alice')).toBe('fresh');
  });

  it('ignores a file of another shape, and entries that are not tokens', () => {
    writeFileSync(file(), JSON.stringify([1, 2]));
    expect(() => new FileTokenStore({ home }).get('h:1', 'alice')).toThrow(/not a version 1 token file/);
    writeFileSync(
      file(),
      JSON.stringify({ version: 1, servers: { 'h:1': { alice: 42, bob: 'tok-b' }, 'h:2': 'nope' } }),
    );
    const store = new FileTokenStore({ home });
    expect(store.get('h:1', 'alice')).toBeUndefined();
    expect(store.get('h:1', 'bob')).toBe('tok-b');
  });

  it('reports a file it cannot read instead of crashing', () => {
    mkdirSync(file()); // a folder where the file should be: EISDIR
    const store = new FileTokenStore({ home });
    expect(() => store.get('h:1', 'alice')).toThrow(/cannot read it \(EISDIR\)/);
    expect(store.get('h:1', 'alice')).toBeUndefined();
    expect(() => store.set('h:1', 'alice', 't')).toThrow();
  });

  it('never returns what an object inherits for a nick like "constructor"', () => {
    const store = new FileTokenStore({ home });
    expect(store.get('h:1', 'constructor')).toBeUndefined();
    store.set('h:1', 'toString', 'tok');
    expect(new FileTokenStore({ home }).get('h:1', 'tostring')).toBe('tok');
    expect(new FileTokenStore({ home }).get('h:1', 'constructor')).toBeUndefined();
  });
});

describe('teamchatHome', () => {
  it('is $TEAMCHAT_HOME, else ~/.teamchat', () => {
    expect(teamchatHome({ TEAMCHAT_HOME: home })).toBe(home);
    expect(teamchatHome({})).toMatch(/\.teamchat$/);
    expect(new FileTokenStore({ home }).path).toBe(file());
  });
});
