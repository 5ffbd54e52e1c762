import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PGliteWorker } from './pglite-worker.js';

describe('PGliteWorker', () => {
  it('hands the worker prestart() began to the next open() of that folder, once', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'teamchat-prestart-')), 'data');
    PGliteWorker.prestart(dataDir);
    PGliteWorker.prestart(dataDir); // a second call starts nothing more
    const adopted = await PGliteWorker.open(join(dataDir, '.', ''));
    try {
      expect((await adopted.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
      // The folder is now locked by the adopted worker: a fresh open is a second owner, refused.
      await expect(PGliteWorker.open(dataDir)).rejects.toMatchObject({ code: 'TC_STORE_LOCKED' });
    } finally {
      await adopted.close();
    }
  }, 120_000);

  it('reports a failed prestart from the open() that adopts it', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'teamchat-prestart-')), 'data');
    const owner = await PGliteWorker.open(dataDir);
    try {
      PGliteWorker.prestart(dataDir);
      await expect(PGliteWorker.open(dataDir)).rejects.toMatchObject({ code: 'TC_STORE_LOCKED' });
    } finally {
      await owner.close();
    }
  }, 120_000);
});
