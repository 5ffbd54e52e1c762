import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../store-error.js';
import { PGLITE_LOCK_FILE } from './pglite-files.js';
import { copyTemplate, isInitialized } from './pglite-template.js';

describe('copyTemplate', () => {
  let root: string;
  let template: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'teamchat-template-'));
    template = join(root, 'template');
    mkdirSync(join(template, 'base', '5'), { recursive: true });
    writeFileSync(join(template, 'PG_VERSION'), '17\n');
    writeFileSync(join(template, 'base', '5', '1259'), 'catalog');
    writeFileSync(join(template, PGLITE_LOCK_FILE), '1\n');
  });

  it('makes a new folder a database, without the lock and without leftovers beside it', () => {
    const target = join(root, 'nested', 'data');
    copyTemplate(target, template);
    expect(isInitialized(target)).toBe(true);
    expect(readFileSync(join(target, 'base', '5', '1259'), 'utf8')).toBe('catalog');
    expect(readdirSync(target)).not.toContain(PGLITE_LOCK_FILE);
    expect(readdirSync(join(root, 'nested'))).toEqual(['data']);
  });

  it('fills an empty folder the user made', () => {
    const target = join(root, 'empty');
    mkdirSync(target);
    copyTemplate(target, template);
    expect(isInitialized(target)).toBe(true);
  });

  it('refuses a folder holding other files, and changes nothing in it', () => {
    const target = join(root, 'stuff');
    mkdirSync(target);
    writeFileSync(join(target, 'notes.txt'), 'mine');
    let error: unknown;
    try {
      copyTemplate(target, template);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('TC_STORE_INIT_FAILED');
    expect(readdirSync(target)).toEqual(['notes.txt']);
    expect(readdirSync(root).sort()).toEqual(['stuff', 'template']);
  });
});
