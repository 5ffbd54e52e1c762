import { codedError, type PrivateMessage, type RoomMessage } from '@teamchat/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatCore } from '../../core/chat-core.js';
import type { CoreEffects, PersistCallbacks } from '../../core/core-effects.js';
import { inMemoryReads } from '../../core/in-memory-reads.js';
import type { NewMessage, StateWrite } from '../../core/records.js';
import { Connection, type ConnectionHost } from '../connection.js';
import { EncodedFrame } from '../encoded-frame.js';
import type { Link } from '../link.js';
import { IrcDialect } from './irc-dialect.js';
import { IrcGateway } from './irc-gateway.js';

class MemoryLink implements Link {
  text = '';
  ended = false;
  buffered = 0;
  write(data: Buffer) {
    this.text += data.toString();
  }
  end() {
    this.ended = true;
  }
  destroy() {}
  pauseInput() {}
  resumeInput() {}
}

/**
 * The world below commits on a timer, and the dialect holds replies on timers: the tests run on a
 * fake clock, and a tick moves it on 5 ms, running what fell due and the promises they settle.
 */
const tick = () => vi.advanceTimersByTimeAsync(5);
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A core with in-memory effects: messages are "committed" on the next turn, in order. */
function world(accounts: Record<string, string> = {}, options: { guestRoomModes?: boolean } = {}) {
  const state: StateWrite[] = [];
  const queue: ({ message: NewMessage & { id: number }; callbacks: PersistCallbacks } | { run: () => void })[] = [];
  let nextId = 100;
  let identities = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    for (const item of queue.splice(0)) {
      if ('run' in item) item.run();
      else {
        item.callbacks.deliver(item.message.id);
        item.callbacks.committed({ ok: true, id: item.message.id });
      }
    }
  };
  const schedule = () => {
    if (!scheduled) setTimeout(flush, 1);
    scheduled = true;
  };
  const inOrder = (run: () => void) => {
    if (queue.length === 0) run();
    else queue.push({ run });
  };
  const effects: CoreEffects<Connection> = {
    ...inMemoryReads(state, accounts),
    send: (s, f) => s.send(f),
    broadcast: (sessions, frame) => {
      const e = new EncodedFrame(frame);
      for (const s of sessions) s.deliver(e);
    },
    persist: (message, callbacks) => {
      queue.push({ message: { ...message, id: nextId++ }, callbacks });
      schedule();
      return true;
    },
    inOrder,
    persistState: (write, stored) => {
      state.push(write);
      if (stored) inOrder(() => stored(true));
    },
    loadRoom: async () => null,
    checkIdentity: async () => null,
    // A fresh identity each time: owners (and so room operators) are told apart by it.
    newIdentity: () => ({ id: `i${++identities}`, token: `i${identities}.x`, secretHash: 'h' }),
    allowRoomCreation: () => null,
    whenWritable: async () => {},
    close: (s, bye) => s.close(bye),
    roomHistory: async (): Promise<RoomMessage[]> => [],
    privateHistory: async (): Promise<PrivateMessage[]> => [],
    hashSecret: async (secret) => `hash:${secret}`,
    verifySecret: async (_s, secret, hash) => hash === `hash:${secret}`,
    events: { message() {}, privateMessage() {}, join() {}, leave() {}, connectionOpened() {}, connectionClosed() {} },
    now: () => 1_700_000_000_000,
    log: () => {},
  };
  const core = new ChatCore(effects, { rooms: [], memberships: [], recent: [] }, options);
  let id = 0;
  const host: ConnectionHost = {
    core,
    maxSendQueueBytes: 1 << 20,
    accepting: true,
    log: () => {},
    nextId: () => ++id,
    adopt() {},
    forget() {},
  };
  const gateway = new IrcGateway({
    serverName: 'irc.test',
    version: '0.0.0',
    startedAt: 0,
    inOrder,
    opers: [{ name: 'operuser', password: 'operpassword' }],
  });
  return {
    core,
    /** A connected IRC client: `send` lines, read `lines()` received since the last read. */
    client() {
      const link = new MemoryLink();
      const conn = new Connection('irc', '127.0.0.1:5000', link, host, {
        lineDialect: (c, k) => new IrcDialect(c, k, gateway),
      });
      let read = 0;
      return {
        conn,
        link,
        async send(...lines: string[]) {
          for (const l of lines) conn.receive(Buffer.from(l));
          await tick();
          await tick();
        },
        lines(): string[] {
          const all = link.text.split('\r\n').filter(Boolean);
          const out = all.slice(read);
          read = all.length;
          return out;
        },
        async register(nick: string, caps: string[] = []) {
          if (caps.length > 0) await this.send('CAP LS 302', `CAP REQ :${caps.join(' ')}`);
          await this.send(`NICK ${nick}`, `USER ${nick} 0 * :${nick} real`, ...(caps.length > 0 ? ['CAP END'] : []));
          return this.lines();
        },
      };
    },
  };
}

const commands = (lines: string[]) => lines.map((l) => l.replace(/^@\S+ /, '').split(' ')[1]);

describe('IrcDialect', () => {
  it('registers with CAP, NICK and USER: 001 to 005, then 422 without a MOTD', async () => {
    const w = world();
    const c = w.client();
    await c.send('CAP LS 302');
    expect(c.lines()[0]).toMatch(/^:irc\.test CAP \* LS :.*\bsasl=PLAIN\b.*\bserver-time\b/);
    await c.send('NICK alice', 'USER al 0 * :Alice');
    expect(c.lines()).toEqual([]); // CAP negotiation still open
    await c.send('CAP REQ :echo-message server-time', 'CAP END');
    const lines = c.lines();
    expect(lines[0]).toBe(':irc.test CAP * ACK :echo-message server-time');
    expect(commands(lines.slice(1))).toEqual(['001', '002', '003', '004', '005', '005', '251', '255', '422']);
    expect(lines.join('\n')).toMatch(/005 alice .*CHANMODES=beI,k,l,imnst .*CHANTYPES=# .*PREFIX=\(ov\)@\+/s);
  });

  it('answers commands before registration with 451, and NAKs unknown capabilities', async () => {
    const c = world().client();
    await c.send('JOIN #a', 'CAP REQ :no-such-cap');
    expect(c.lines()).toEqual([':irc.test 451 * JOIN :You have not registered', ':irc.test CAP * NAK no-such-cap']);
  });

  it('refuses a nick in use with 433 and an erroneous one with 432', async () => {
    const w = world();
    await w.client().register('alice');
    const c = w.client();
    await c.send('NICK 9lives');
    await c.send('NICK alice', 'USER b 0 * :B');
    expect(c.lines()).toEqual([
      ':irc.test 432 * 9lives :Erroneous nickname (letters, digits, _ and -, starting with a letter, at most 24)',
      expect.stringMatching(/^:irc\.test 433 \* alice :/),
    ]);
  });

  it('joins a room: JOIN, NAMES with the first one in as @, and the queries irssi sends after a join', async () => {
    const w = world();
    const a = w.client();
    await a.register('alice');
    await a.send('JOIN #general', 'MODE #general', 'MODE #general b', 'WHO #general');
    expect(a.lines()).toEqual([
      ':alice!alice@127.0.0.1 JOIN #general',
      ':irc.test 353 alice = #general @alice',
      ':irc.test 366 alice #general :End of /NAMES list',
      ':irc.test 324 alice #general +n',
      ':irc.test 329 alice #general 1700000000',
      ':irc.test 368 alice #general :End of channel ban list',
      ':irc.test 352 alice #general alice 127.0.0.1 irc.test alice H@ :0 alice real',
      ':irc.test 315 alice #general :End of WHO list',
    ]);
  });

  it('relays PRIVMSG between IRC users, echoing to the sender only with echo-message', async () => {
    const w = world();
    const a = w.client();
    const b = w.client();
    await a.register('alice', ['echo-message', 'message-tags']);
    await b.register('bob');
    await a.send('JOIN #general');
    await b.send('JOIN #general');
    a.lines();
    b.lines();
    await b.send('PRIVMSG #general :hello alice', 'PRIVMSG alice :just you');
    expect(b.lines()).toEqual([]);
    expect(a.lines()).toEqual([
      '@msgid=100 :bob!bob@127.0.0.1 PRIVMSG #general :hello alice',
      '@msgid=101 :bob!bob@127.0.0.1 PRIVMSG alice :just you',
    ]);
    await a.send('NOTICE #general :fyi');
    expect(a.lines()).toEqual(['@msgid=102 :alice!alice@127.0.0.1 NOTICE #general fyi']);
    expect(b.lines()).toEqual([':alice!alice@127.0.0.1 NOTICE #general fyi']);
  });

  it('answers PING after the messages queued before it', async () => {
    const w = world();
    const a = w.client();
    const b = w.client();
    await a.register('alice');
    await b.register('bob');
    await a.send('JOIN #r');
    await b.send('JOIN #r');
    a.lines();
    b.conn.receive(Buffer.from('PRIVMSG #r :first'));
    a.conn.receive(Buffer.from('PING sync'));
    await tick();
    expect(a.lines()).toEqual([':bob!bob@127.0.0.1 PRIVMSG #r first', ':irc.test PONG irc.test sync']);
  });

  it('uses the standard error numerics', async () => {
    const w = world();
    const a = w.client();
    await a.register('alice');
    await a.send(
      'PRIVMSG nobody :hi',
      'PRIVMSG',
      'PRIVMSG alice',
      'JOIN',
      'JOIN nohash',
      'PART #elsewhere',
      'FROB',
      'TOPIC #elsewhere :x',
      'OPER operuser wrong',
      'PASS x',
    );
    expect(a.lines().map((l) => l.split(' ').slice(1, 4).join(' '))).toEqual([
      '401 alice nobody',
      '411 alice :No',
      '412 alice :No',
      '461 alice JOIN',
      '403 alice nohash',
      '442 alice #elsewhere',
      '421 alice FROB',
      '442 alice #elsewhere',
      '464 alice :Password',
      '462 alice :You',
    ]);
  });

  it('answers a line over 512 bytes with 417', async () => {
    const a = world().client();
    await a.register('alice');
    await a.send(`PRIVMSG alice :${'x'.repeat(600)}`);
    expect(a.lines()).toEqual([':irc.test 417 alice :Input line was too long']);
  });

  it('wraps the answer to a labeled command in a batch, and acknowledges one without output with ACK', async () => {
    const w = world();
    const a = w.client();
    await a.register('alice', ['labeled-response', 'batch']);
    await a.send('@label=j1 JOIN #x');
    const lines = a.lines();
    expect(lines[0]).toMatch(/^@label=j1 :irc\.test BATCH \+(\S+) labeled-response$/);
    const id = /BATCH \+(\S+)/.exec(lines[0])![1];
    expect(lines.slice(1, -1).every((l) => l.startsWith(`@batch=${id} `))).toBe(true);
    expect(lines.at(-1)).toBe(`:irc.test BATCH -${id}`);
    await a.send('@label=m1 PRIVMSG #x :no echo asked');
    expect(a.lines()).toEqual(['@label=m1 :irc.test ACK']);
  });

  it('logs in to an account with SASL PLAIN, and refuses a wrong password with 904', async () => {
    const w = world({ carol: 'hash:sesame-open' });
    const c = w.client();
    const blob = (user: string, pass: string) => Buffer.from(`${user}\0${user}\0${pass}`).toString('base64');
    await c.send('CAP LS 302', 'CAP REQ :sasl', 'AUTHENTICATE PLAIN');
    expect(c.lines().at(-1)).toBe('AUTHENTICATE +');
    await c.send(`AUTHENTICATE ${blob('carol', 'wrong')}`);
    expect(c.lines()).toEqual([':irc.test 904 * :SASL authentication failed']);
    const d = w.client();
    await d.send('CAP LS 302', 'CAP REQ :sasl', 'AUTHENTICATE PLAIN', `AUTHENTICATE ${blob('carol', 'sesame-open')}`);
    expect(d.lines().slice(-2)).toEqual([
      ':irc.test 900 * carol!user@127.0.0.1 carol :You are now logged in as carol',
      ':irc.test 903 * :SASL authentication successful',
    ]);
    await d.send('NICK carol', 'USER c 0 * :C', 'CAP END');
    expect(d.lines()[0]).toMatch(/^:irc\.test 001 carol /);
  });

  it('tells a teamchat frame it cannot map as a NOTICE with its code', () => {
    const w = world();
    const c = w.client();
    c.conn.send({ type: 'error', code: 'TC_ERR_STORE_BUSY', message: 'busy' });
    expect(c.link.text).toBe(':irc.test NOTICE * :busy [TC_ERR_STORE_BUSY]\r\n');
    void codedError;
  });

  it('maps channel modes to the core: +o, +v, +b with its list, +l, and 696 for a bad parameter', async () => {
    const w = world({}, { guestRoomModes: true });
    const a = w.client();
    const b = w.client();
    await a.register('alice', ['multi-prefix']);
    await b.register('bob');
    await a.send('JOIN #m');
    await b.send('JOIN #m');
    a.lines();
    b.lines();
    await b.send('MODE #m +o bob');
    expect(b.lines()).toEqual([expect.stringMatching(/^:irc\.test 482 bob #m /)]);
    await a.send('MODE #m +ov bob bob', 'MODE #m +o nobody', 'MODE #m +l 0', 'MODE #m +b evil!*@*', 'MODE #m +b');
    expect(a.lines()).toEqual([
      ':alice!alice@127.0.0.1 MODE #m +ov bob bob',
      ':irc.test 401 alice nobody :No such nick/channel',
      ':irc.test 696 alice #m l 0 :A member limit is a number from 1 to 100000',
      ':alice!alice@127.0.0.1 MODE #m +b evil!*@*',
      ':irc.test 367 alice #m evil!*@* alice 1700000000',
      ':irc.test 368 alice #m :End of channel ban list',
    ]);
    expect(b.lines()).toEqual([
      ':alice!alice@127.0.0.1 MODE #m +ov bob bob',
      ':alice!alice@127.0.0.1 MODE #m +b evil!*@*',
    ]);
    await a.send('NAMES #m');
    expect(a.lines()[0]).toBe(':irc.test 353 alice = #m :@alice @+bob');
  });

  it('kicks through the core: the kicked IRC user sees KICK, and so does the room', async () => {
    const w = world();
    const a = w.client();
    const b = w.client();
    await a.register('alice');
    await b.register('bob');
    await a.send('JOIN #k');
    await b.send('JOIN #k');
    a.lines();
    b.lines();
    await b.send('KICK #k alice');
    expect(b.lines()).toEqual([expect.stringMatching(/^:irc\.test 482 bob #k /)]);
    await a.send('KICK #k bob :bye now', 'KICK #k carol', 'KICK #nowhere bob');
    expect(a.lines()).toEqual([
      ':alice!alice@127.0.0.1 KICK #k bob :bye now',
      ':irc.test 401 alice carol :No such nick/channel',
      ':irc.test 403 alice #nowhere :No such channel',
    ]);
    expect(b.lines()).toEqual([':alice!alice@127.0.0.1 KICK #k bob :bye now']);
    expect([...b.conn.rooms]).toEqual([]);
  });

  it('answers WHO with a mask, and WHOX with the fields asked for', async () => {
    const w = world();
    const a = w.client();
    const b = w.client();
    await a.register('alice');
    await b.register('bobby');
    await a.send('WHO bob*', 'WHO bobby %tna,42');
    expect(a.lines()).toEqual([
      ':irc.test 352 alice * bobby 127.0.0.1 irc.test bobby H :0 bobby real',
      ':irc.test 315 alice bob* :End of WHO list',
      ':irc.test 354 alice 42 bobby 0',
      ':irc.test 315 alice bobby :End of WHO list',
    ]);
  });

  it('relays TAGMSG with client-only tags to IRC users who asked for message-tags, and keeps read markers', async () => {
    const w = world();
    const a = w.client();
    const b = w.client();
    await a.register('alice', ['message-tags', 'draft/read-marker']);
    await b.register('bob', ['message-tags']);
    await a.send('JOIN #t');
    await b.send('JOIN #t');
    a.lines();
    b.lines();
    await a.send('@+typing=active;secret=no TAGMSG #t');
    expect(a.lines()).toEqual([]);
    expect(b.lines()).toEqual([
      expect.stringMatching(/^@\+typing=active;msgid=t\S+ :alice!alice@127\.0\.0\.1 TAGMSG #t$/),
    ]);
    await a.send(
      'MARKREAD #t timestamp=2024-01-02T03:04:05.678Z',
      'MARKREAD #t timestamp=2023-01-01T00:00:00.000Z',
      'MARKREAD #t',
      'MARKREAD #t *',
    );
    expect(a.lines()).toEqual([
      ':irc.test MARKREAD #t timestamp=2024-01-02T03:04:05.678Z',
      ':irc.test MARKREAD #t timestamp=2024-01-02T03:04:05.678Z',
      ':irc.test MARKREAD #t timestamp=2024-01-02T03:04:05.678Z',
      ':irc.test FAIL MARKREAD INVALID_PARAMS #t * :The marker is timestamp=<ISO 8601 time>',
    ]);
  });

  it('answers CHATHISTORY AROUND and a backwards BETWEEN by message id, oldest first', async () => {
    const w = world();
    const a = w.client();
    await a.register('alice', ['draft/chathistory', 'batch', 'message-tags']);
    await a.send('JOIN #h');
    for (let i = 0; i < 6; i++) await a.send(`PRIVMSG #h :m${i}`);
    a.lines();
    const texts = (lines: string[]) => lines.filter((l) => l.includes(' PRIVMSG ')).map((l) => l.split(' ').at(-1));
    // Ids 100..105 hold m0..m5.
    await a.send('CHATHISTORY AROUND #h msgid=102 3');
    expect(texts(a.lines())).toEqual(['m1', 'm2', 'm3']);
    await a.send('CHATHISTORY BETWEEN #h msgid=105 msgid=100 2');
    expect(texts(a.lines())).toEqual(['m3', 'm4']);
    await a.send('CHATHISTORY LATEST #h msgid=103 10');
    expect(texts(a.lines())).toEqual(['m4', 'm5']);
    await a.send('CHATHISTORY BEFORE #h timestamp=nonsense 10');
    expect(a.lines()).toEqual([
      ':irc.test FAIL CHATHISTORY INVALID_PARAMS BEFORE #h :A reference is *, msgid=<id> or timestamp=<ISO time>',
    ]);
  });
});
