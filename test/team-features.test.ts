/**
 * Team features end to end, on a real `teamchat serve` over TCP and WebSocket: read markers and
 * highlight words synced across two connections of one account, unread and mention counts (rooms
 * and private conversations) on connect, edits, deletes (the text gone from history and search),
 * replies and threads, reactions, mentions, and search that never reaches a room the user may not
 * read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient, WsClient } from './helpers/chat-clients.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn-server.js';

let server: SpawnedServer;
const open: { close(): void }[] = [];
beforeAll(async () => {
  server = await spawnServer();
});
afterAll(async () => {
  for (const c of open) c.close();
  await server?.cleanup();
});

async function tcp(nick: string, extra: Record<string, unknown> = {}): Promise<JsonClient> {
  const c = await JsonClient.connect(server.tcpPort);
  open.push(c);
  await c.hello(nick, extra);
  return c;
}

async function send(
  c: JsonClient | WsClient,
  room: string,
  text: string,
  ref: string,
  extra: Record<string, unknown> = {},
): Promise<number> {
  c.send({ type: 'msg', room, text, ref, ...extra });
  return (await c.seen('ack', (a) => a.ref === ref)).id;
}

describe('team features', () => {
  it('syncs a read marker to every connection of the account and counts unread and mentions on connect', async () => {
    const laptop = await tcp('dana', { register: true, password: 'dana password' });
    await laptop.join('standup');
    const bob = await tcp('bobby');
    await bob.join('standup');
    await send(bob, 'standup', 'morning all', 'b1');
    const id2 = await send(bob, 'standup', 'dana: can you review?', 'b2');
    await send(bob, 'standup', '@room deploy at noon', 'b3');

    laptop.close();
    const back = await tcp('dana', { password: 'dana password' });
    const counts = await back.seen('unread');
    expect(counts.rooms.standup).toEqual({ unread: 3, mentions: 2, marker: 0 });

    // A second device of the same account, over WebSocket: the first one goes by another nick meanwhile.
    const other = await WsClient.connect(server.httpPort);
    open.push(other);
    back.send({ type: 'nick', nick: 'dana_laptop', ref: 'n' });
    await back.seen('nick', (n) => n.ref === 'n');
    other.send({ type: 'hello', v: 1, nick: 'dana', password: 'dana password', ref: 'w' });
    await other.seen('welcome');
    back.send({ type: 'mark', room: 'standup', id: id2, ref: 'mk' });
    expect(await back.seen('marker', (m) => m.ref === 'mk')).toMatchObject({ room: 'standup', id: id2 });
    expect(await other.seen('marker')).toEqual({ type: 'marker', room: 'standup', id: id2 });
    other.send({ type: 'unread', ref: 'u' });
    expect((await other.seen('unread', (u) => u.ref === 'u')).rooms.standup).toEqual({
      unread: 1,
      mentions: 1,
      marker: id2,
    });
    // Markers only move forward.
    other.send({ type: 'mark', room: 'standup', id: 1, ref: 'back' });
    await other.seen('marker', (m) => m.ref === 'back');
    other.send({ type: 'unread', ref: 'u2' });
    expect((await other.seen('unread', (u) => u.ref === 'u2')).rooms.standup.marker).toBe(id2);
  });

  it('keeps highlight words on the server: a change reaches the other device, and they count as mentions', async () => {
    const laptop = await tcp('erin', { register: true, password: 'erin password' });
    await laptop.join('ops');
    laptop.send({ type: 'highlights', words: ['release'], ref: 'h1' });
    expect(await laptop.seen('highlights', (h) => h.ref === 'h1')).toEqual({
      type: 'highlights',
      words: ['release'],
      ref: 'h1',
    });
    laptop.send({ type: 'nick', nick: 'erin_laptop', ref: 'n' });
    await laptop.seen('nick', (n) => n.ref === 'n');
    const phone = await WsClient.connect(server.httpPort);
    open.push(phone);
    phone.send({ type: 'hello', v: 1, nick: 'erin', password: 'erin password', ref: 'w' });
    await phone.seen('welcome');
    phone.send({ type: 'highlights', ref: 'q' });
    expect((await phone.seen('highlights', (h) => h.ref === 'q')).words).toEqual(['release']);

    // Changed on the laptop: the phone learns it without asking.
    laptop.send({ type: 'highlights', words: ['release', 'Hotfix'], ref: 'h2' });
    await laptop.seen('highlights', (h) => h.ref === 'h2');
    expect(await phone.seen('highlights', (h) => h.ref === undefined)).toEqual({
      type: 'highlights',
      words: ['release', 'hotfix'],
    });
    laptop.send({ type: 'highlights', words: ['no spaces'], ref: 'bad' });
    expect(await laptop.seen('error', (e) => e.ref === 'bad')).toMatchObject({ code: 'TC_ERR_BAD_HIGHLIGHT' });

    // While Erin is away, a highlight word is said in a room; a friend's private messages wait unread.
    const frank = await tcp('franky');
    await frank.join('ops');
    frank.send({ type: 'pm', to: 'erin', text: 'got a minute?', ref: 'p1' });
    await frank.seen('ack', (a) => a.ref === 'p1');
    frank.send({ type: 'pm', to: 'erin', text: 'about the rollout', ref: 'p2' });
    await frank.seen('ack', (a) => a.ref === 'p2');
    laptop.close();
    phone.close();
    await send(frank, 'ops', 'the hotfix is out', 'f1');
    await send(frank, 'ops', 'lunch anyone?', 'f2');

    const back = await tcp('erin', { password: 'erin password' });
    const counts = await back.seen('unread');
    expect(counts.rooms.ops).toEqual({ unread: 2, mentions: 1, marker: 0 });
    expect(counts.pms).toEqual({ franky: { unread: 2, mentions: 2, marker: 0 } });
    back.send({ type: 'mentions', ref: 'm' });
    expect((await back.seen('mentions', (m) => m.ref === 'm')).messages.map((m) => m.text)).toEqual([
      'the hotfix is out',
    ]);
  });

  it('edits, deletes (text gone from history and search), replies, threads and reactions', async () => {
    const ann = await tcp('annie');
    const ben = await tcp('benny');
    await ann.join('eng');
    await ben.join('eng');
    const root = await send(ann, 'eng', 'the getUserById refactor is ready', 'r');
    const reply = await send(ben, 'eng', 'looks good', 'rep', { replyTo: root });
    expect(await ann.seen('message', (m) => m.id === reply)).toMatchObject({ replyTo: root });
    ben.send({ type: 'history', room: 'eng', thread: root, ref: 'th' });
    expect((await ben.seen('history', (h) => h.ref === 'th')).messages.map((m) => m.id)).toEqual([root, reply]);

    ann.send({ type: 'edit', id: root, text: 'the getUserById refactor is merged', ref: 'e' });
    expect(await ben.seen('edited')).toMatchObject({
      id: root,
      text: 'the getUserById refactor is merged',
      by: 'annie',
    });
    ben.send({ type: 'react', id: root, emoji: '🎉', ref: 'x' });
    expect(await ann.seen('reaction')).toMatchObject({ id: root, emoji: '🎉', nick: 'benny', added: true, count: 1 });

    ben.send({ type: 'search', q: 'UserBy', ref: 's1' });
    const found = await ben.seen('search-results', (s) => s.ref === 's1');
    expect(found.results.map((r) => r.id)).toContain(root);

    const secret = await send(ann, 'eng', 'the password is hunter2', 'sec');
    ann.send({ type: 'delete', id: secret, ref: 'd' });
    expect(await ben.seen('deleted')).toMatchObject({ id: secret, by: 'annie' });
    ben.send({ type: 'history', room: 'eng', ref: 'h' });
    const page = await ben.seen('history', (h) => h.ref === 'h');
    expect(page.messages.find((m) => m.id === secret)).toMatchObject({ text: '', deleted: true });
    expect(page.messages.find((m) => m.id === root)).toMatchObject({
      text: 'the getUserById refactor is merged',
      reactions: { '🎉': ['benny'] },
    });
    expect(JSON.stringify(page)).not.toContain('hunter2');
    ben.send({ type: 'search', q: 'hunter2', ref: 's2' });
    expect((await ben.seen('search-results', (s) => s.ref === 's2')).results).toEqual([]);
    ben.send({ type: 'edit', id: root, text: 'hijack', ref: 'no' });
    expect(await ben.seen('error', (e) => e.ref === 'no')).toMatchObject({ code: 'TC_ERR_NOT_AUTHOR' });
  });

  it('never shows a search hit from a room the user may not read', async () => {
    const owner = await tcp('keeper', { register: true, password: 'keeper password' });
    await owner.join('vaultroom');
    owner.send({ type: 'mode', room: 'vaultroom', key: 'sesame', ref: 'k' });
    await owner.seen('mode', (m) => m.ref === 'k');
    await send(owner, 'vaultroom', 'launch codes zebra-42', 'v');
    const outsider = await tcp('outsider');
    outsider.send({ type: 'search', q: 'zebra', ref: 'q' });
    expect((await outsider.seen('search-results', (s) => s.ref === 'q')).results).toEqual([]);
    outsider.send({ type: 'search', q: 'zebra', room: 'vaultroom', ref: 'q2' });
    expect(await outsider.seen('error', (e) => e.ref === 'q2')).toMatchObject({ code: 'TC_ERR_NOT_IN_ROOM' });
    owner.send({ type: 'search', q: 'zebra-42', ref: 'q3' });
    expect((await owner.seen('search-results', (s) => s.ref === 'q3')).results).toHaveLength(1);
  });

  it('lists mentions, including those that came while the user was away', async () => {
    const eve = await tcp('evelyn', { register: true, password: 'evelyn password' });
    await eve.join('ops');
    eve.close();
    const fred = await tcp('fred');
    await fred.join('ops');
    await send(fred, 'ops', 'evelyn, the pager fired', 'f1');
    await send(fred, 'ops', 'nobody in particular', 'f2');
    const back = await tcp('evelyn', { password: 'evelyn password' });
    back.send({ type: 'mentions', ref: 'm' });
    const list = await back.seen('mentions', (m) => m.ref === 'm');
    expect(list.messages.map((m) => m.text)).toEqual(['evelyn, the pager fired']);
  });
});
