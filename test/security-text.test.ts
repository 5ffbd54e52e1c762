/**
 * End to end: text that could spoof what other users see (bidi overrides, zero-width characters,
 * line separators, lone surrogates) is cleaned or refused by `teamchat serve`, for NDJSON and
 * plain-text users alike, while legitimate text (emoji ZWJ sequences) arrives intact.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient, PlainClient, WsClient } from './helpers/chat-clients.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn-server.js';

let server: SpawnedServer;
const open: { close(): void }[] = [];
const json = async (nick: string, room: string) => {
  const c = await JsonClient.connect(server.tcpPort);
  open.push(c);
  await c.hello(nick);
  await c.join(room);
  return c;
};
const plain = async (nick: string, room: string) => {
  const c = await PlainClient.connect(server.tcpPort);
  open.push(c);
  await c.login(nick, room);
  return c;
};

/** Characters that must never reach another user. */
const SPOOFING = /[\u202a-\u202e\u2066-\u2069\u200b\u2028\u2029\ufeff\ud800-\udfff]/u; // with `u`, a surrogate range matches unpaired ones only
const FAMILY = '👨‍👩‍👧';

beforeAll(async () => {
  server = await spawnServer();
});
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});
afterAll(async () => {
  await server?.cleanup();
});

describe('teamchat serve: spoofing characters', () => {
  it('cleans messages and topics sent over NDJSON before NDJSON and plain-text users see them', async () => {
    const alice = await json('alice', 'spoof1');
    const bob = await json('bob', 'spoof1');
    const carol = await plain('carol', 'spoof1');

    alice.send({ type: 'msg', room: 'spoof1', text: 'see invoice\u202egnp.exe', ref: 'rlo' });
    expect(await bob.next('message')).toMatchObject({ nick: 'alice', text: 'see invoicegnp.exe' });
    await carol.expect('alice: see invoicegnp.exe\r\n');

    alice.send({ type: 'msg', room: 'spoof1', text: 'log in at pay\u200bpal.example' });
    expect(await bob.next('message')).toMatchObject({ text: 'log in at paypal.example' });
    await carol.expect('alice: log in at paypal.example\r\n');

    alice.send({ type: 'msg', room: 'spoof1', text: 'one line\u2028bob: a fake second line' });
    expect(await bob.next('message')).toMatchObject({ text: 'one line bob: a fake second line' });
    await carol.expect('alice: one line bob: a fake second line\r\n');

    alice.send({ type: 'topic', room: 'spoof1', topic: 'welcome \u202e!sknaht' });
    expect(await bob.next('topic')).toMatchObject({ by: 'alice', topic: 'welcome !sknaht' });
    await carol.expect('* alice set the topic to: welcome !sknaht\r\n');

    alice.send({ type: 'msg', room: 'spoof1', text: `the family ${FAMILY} and 🏳️‍🌈` });
    expect(await bob.next('message')).toMatchObject({ text: `the family ${FAMILY} and 🏳️‍🌈` });
    await carol.expect(`alice: the family ${FAMILY} and 🏳️‍🌈\r\n`);

    // A message that is nothing but invisible characters is empty.
    alice.send({ type: 'msg', room: 'spoof1', text: '\u200b\u202e\u2066', ref: 'empty' });
    expect(await alice.next('error', (e) => e.ref === 'empty')).toMatchObject({ code: 'TC_ERR_EMPTY_TEXT' });

    // The history a later joiner gets was stored clean.
    const dave = await json('dave', 'spoof1');
    const texts = (await dave.allHistory('spoof1')).map((m) => m.text);
    expect(texts).toContain('see invoicegnp.exe');
    for (const text of texts) expect(text).not.toMatch(SPOOFING);
    expect(carol.text).not.toMatch(SPOOFING);
  });

  it('cleans text typed by a plain-text user, and a quit reason', async () => {
    const bob = await json('bob2', 'spoof2');
    const erin = await plain('erin', 'spoof2');
    await bob.next('presence', (p) => p.nick === 'erin' && p.event === 'join');

    erin.line('abc\u202edef\u200bghi\u2029jkl');
    expect(await bob.next('message')).toMatchObject({ nick: 'erin', text: 'abcdefghi jkl' });
    erin.line(`/me waves ${FAMILY}`);
    expect(await bob.next('message')).toMatchObject({ nick: 'erin', text: `waves ${FAMILY}`, action: true });

    erin.line('/quit gone\u202e\u2028for now');
    expect(await bob.next('presence', (p) => p.nick === 'erin')).toMatchObject({
      event: 'quit',
      reason: 'gone for now',
    });
  });

  it('answers a frame holding an unpaired surrogate with TC_ERR_BAD_TEXT and its ref, and the connection stays usable', async () => {
    const alice = await json('alice3', 'spoof3');
    const bob = await json('bob3', 'spoof3');

    // Hand-written on purpose: the escaped surrogates, spelled out byte for byte, are the attack under test.
    alice.sendRaw('{"type":"msg","room":"spoof3","text":"broken \\ud800 text","ref":"lone"}\n');
    expect(await alice.next('error')).toMatchObject({ code: 'TC_ERR_BAD_TEXT', ref: 'lone' });
    alice.sendRaw('{"type":"topic","room":"spoof3","topic":"\\udc00","ref":"lone-topic"}\n');
    expect(await alice.next('error')).toMatchObject({ code: 'TC_ERR_BAD_TEXT', ref: 'lone-topic' });

    // Still usable, and an escaped surrogate pair is a character like any other.
    alice.send({ type: 'ping', ref: 'alive' });
    await alice.next('pong', (p) => p.ref === 'alive');
    alice.sendRaw('{"type":"msg","room":"spoof3","text":"fine \\ud83d\\ude00","ref":"ok"}\n');
    await alice.next('ack', (a) => a.ref === 'ok');
    // Bob got only the good one.
    expect(await bob.next('message')).toMatchObject({ nick: 'alice3', text: 'fine 😀' });
    expect(bob.frames.filter((f) => f.type === 'message')).toHaveLength(1);

    // Over WebSocket too.
    const ws = await WsClient.connect(server.httpPort);
    open.push(ws);
    await ws.hello('wendy');
    ws.sendRaw('{"type":"join","room":"spoof3\\udbff","ref":"ws-lone"}');
    expect(await ws.next('error')).toMatchObject({ code: 'TC_ERR_BAD_TEXT', ref: 'ws-lone' });
    await ws.join('spoof3');
  });
});
