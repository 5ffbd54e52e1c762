import { codedError, type PrivateMessage, type RoomMessage, type ServerFrame } from '@teamchat/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ChatEvents } from '../metrics/chat-events.js';
import type { LoadedRoom, NewMessage, StateWrite, StoreSnapshot } from './records.js';
import { inMemoryReads } from './in-memory-reads.js';
import { ChatCore } from './chat-core.js';
import type { CoreEffects, PersistCallbacks } from './core-effects.js';
import type { Room } from './room.js';
import type { Session } from './session.js';

class TestSession implements Session {
  nick: string | null = null;
  key: string | null = null;
  owner: string | null = null;
  readonly rooms = new Set<Room>();
  readonly inbox: ServerFrame[] = [];
  closedWith: ServerFrame | null = null;
  constructor(
    readonly id: number,
    readonly dialect: 'json' | 'plain' = 'json',
    readonly remote = 'test',
  ) {}
  of<T extends ServerFrame['type']>(type: T): Extract<ServerFrame, { type: T }>[] {
    return this.inbox.filter((f) => f.type === type) as Extract<ServerFrame, { type: T }>[];
  }
}

/** Effects that keep everything in memory; `commit()` plays the database committing the queue. */
class TestWorld implements CoreEffects<TestSession> {
  queue: ({ message: NewMessage & { id: number }; callbacks: PersistCallbacks } | { run: () => void })[] = [];
  stored: (NewMessage & { id: number })[] = [];
  state: StateWrite[] = [];
  nextId = 1;
  full = false;
  clock = 1_000;
  counts = { message: 0, pm: 0, join: 0, leave: 0, open: 0, close: 0 };
  events: ChatEvents = {
    message: () => void this.counts.message++,
    privateMessage: () => void this.counts.pm++,
    join: () => void this.counts.join++,
    leave: () => void this.counts.leave++,
    connectionOpened: () => void this.counts.open++,
    connectionClosed: () => void this.counts.close++,
  };
  send(session: TestSession, frame: ServerFrame) {
    if (!session.closedWith) session.inbox.push(frame);
  }
  broadcast(sessions: Iterable<TestSession>, frame: ServerFrame) {
    for (const s of sessions) this.send(s, frame);
  }
  persist(message: NewMessage, callbacks: PersistCallbacks) {
    if (this.full) return false;
    const id = this.nextId++;
    this.queue.push({ message: { ...message, id }, callbacks });
    return true;
  }
  readonly reads = inMemoryReads(this.state, {}, this.stored);
  accountHash = this.reads.accountHash;
  createAccount = this.reads.createAccount;
  roomAccess = this.reads.roomAccess;
  membershipsOf = this.reads.membershipsOf;
  claimNick = this.reads.claimNick;
  messageInfo = this.reads.messageInfo;
  unreadCounts = this.reads.unreadCounts;
  pmUnreadCounts = this.reads.pmUnreadCounts;
  highlightWords = this.reads.highlightWords;
  mentions = this.reads.mentions;
  search = this.reads.search;
  instance = 'local';
  clustered = false;
  inOrder(run: () => void) {
    if (this.queue.length === 0) run();
    else this.queue.push({ run });
  }
  persistState(write: StateWrite, stored?: (ok: boolean) => void) {
    this.state.push(write);
    if (stored) this.inOrder(() => stored(true));
  }
  rooms: LoadedRoom[] = [];
  async loadRoom(name: string): Promise<LoadedRoom | null> {
    return this.rooms.find((r) => r.room.name === name) ?? null;
  }
  identities = new Map<string, string>();
  #identities = 0;
  async checkIdentity(token: string) {
    const [id, secret] = token.split('.');
    return this.identities.get(id) === secret ? id : null;
  }
  newIdentity() {
    const id = (++this.#identities).toString(16).padStart(16, '0');
    const secret = `secret-of-identity-${id}`;
    this.identities.set(id, secret);
    return { id, token: `${id}.${secret}`, secretHash: `sha:${secret}` };
  }
  creationRefused = false;
  allowRoomCreation() {
    return this.creationRefused ? codedError('TC_ERR_ROOM_CREATION_LIMITED') : null;
  }
  async whenWritable() {}
  close(session: TestSession, bye: ServerFrame) {
    this.send(session, bye);
    session.closedWith = bye;
  }
  async roomHistory(room: string, q: { before?: number; after?: number; limit: number }): Promise<RoomMessage[]> {
    const rows = this.stored
      .filter((m): m is NewMessage & { kind: 'room'; id: number } => m.kind === 'room' && m.room === room)
      .filter((m) => (q.before === undefined || m.id < q.before) && (q.after === undefined || m.id > q.after))
      .map((m) => ({ id: m.id, ts: m.ts, room: m.room, nick: m.nick, text: m.text }));
    return q.after !== undefined ? rows.slice(0, q.limit) : rows.slice(-q.limit);
  }
  async privateHistory(owner: string): Promise<PrivateMessage[]> {
    return this.stored
      .filter(
        (m): m is NewMessage & { kind: 'pm'; id: number } =>
          m.kind === 'pm' && (m.fromOwner === owner || m.toOwner === owner),
      )
      .map((m) => ({ id: m.id, ts: m.ts, from: m.from, to: m.to, text: m.text }));
  }
  /** A stand-in for scrypt: deterministic, and async like the real one. */
  async hashSecret(secret: string) {
    return `hash:${secret}`;
  }
  failures = 0;
  async verifySecret(_session: TestSession, secret: string, hash: string) {
    const ok = hash === `hash:${secret}`;
    if (!ok) this.failures++;
    return ok;
  }
  now() {
    return this.clock;
  }
  logs: string[] = [];
  log(line: string) {
    this.logs.push(line);
  }
  /** The database commits everything queued, in order. */
  commit() {
    for (const item of this.queue.splice(0)) {
      if ('run' in item) item.run();
      else {
        this.stored.push(item.message);
        item.callbacks.deliver(item.message.id);
        item.callbacks.committed({ ok: true, id: item.message.id });
      }
    }
  }
}

const EMPTY: StoreSnapshot = { rooms: [], memberships: [], recent: [] };

describe('ChatCore', () => {
  let world: TestWorld;
  let core: ChatCore<TestSession>;
  let ids = 0;
  /** Lets the store reads (resume tokens, rooms read back) answer. */
  const settle = () => new Promise((r) => setTimeout(r, 0));
  /** Connects, says hello and lets the login's store reads answer. */
  const connect = async (nick?: string, token?: string) => {
    const s = new TestSession(++ids);
    core.connect(s);
    if (nick) core.handle(s, { type: 'hello', v: 1, nick, ...(token ? { token } : {}) });
    await settle();
    return s;
  };
  const say = (s: TestSession, room: string, text: string, ref?: string) =>
    core.handle(s, { type: 'msg', room, text, ...(ref ? { ref } : {}) });
  /** Alice on two connections (the first renamed, the second resumed by her token), and a stranger. */
  const twoConnectionsOfAlice = async () => {
    const first = await connect('alice');
    const token = first.of('welcome')[0].token!;
    core.handle(first, { type: 'nick', nick: 'alice_phone' });
    await settle();
    const second = await connect('alice', token);
    const stranger = await connect('mallory');
    return { first, second, stranger };
  };

  beforeEach(() => {
    world = new TestWorld();
    core = new ChatCore(world, EMPTY);
  });

  it('welcomes a client that says hello with a valid nick', async () => {
    const alice = await connect('alice');
    expect(alice.inbox[0]).toMatchObject({ type: 'welcome', v: 1, nick: 'alice', rooms: [] });
    expect(core.isOnline('ALICE')).toBe(true);
  });

  it('refuses commands before a nick is chosen, and lets the client retry', async () => {
    const s = await connect();
    core.handle(s, { type: 'join', room: 'general' });
    expect(s.of('error')[0].code).toBe('TC_ERR_NOT_REGISTERED');
    core.handle(s, { type: 'hello', v: 1, nick: 'ok_nick' });
    await settle();
    expect(s.of('welcome')).toHaveLength(1);
  });

  it('rejects an invalid nick and a nick in use (case-insensitively), leaving the client free to retry', async () => {
    await connect('alice');
    const s = await connect();
    core.handle(s, { type: 'hello', v: 1, nick: '9lives' });
    core.handle(s, { type: 'hello', v: 1, nick: 'Alice' });
    expect(s.of('error').map((e) => e.code)).toEqual(['TC_ERR_BAD_NICK', 'TC_ERR_NICK_IN_USE']);
    core.handle(s, { type: 'hello', v: 1, nick: 'bob' });
    await settle();
    expect(s.nick).toBe('bob');
  });

  it('closes a client speaking another protocol version', async () => {
    const s = await connect();
    core.handle(s, { type: 'hello', v: 99, nick: 'x' });
    expect(s.of('error')[0].code).toBe('TC_ERR_VERSION');
    expect(s.closedWith).toMatchObject({ type: 'bye', code: 'TC_ERR_VERSION' });
  });

  it('delivers a room message to every member, sender included, only after it is stored', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const carol = await connect('carol');
    core.handle(alice, { type: 'join', room: 'general' });
    core.handle(bob, { type: 'join', room: 'general' });
    core.handle(carol, { type: 'join', room: 'random' });
    say(alice, 'general', 'hello', 'r1');
    expect(bob.of('message')).toHaveLength(0);
    world.commit();
    const expected = { type: 'message', id: 1, room: 'general', nick: 'alice', text: 'hello', ts: 1_000 };
    expect(alice.of('message')).toEqual([expected]);
    expect(bob.of('message')).toEqual([expected]);
    expect(carol.of('message')).toEqual([]);
    expect(alice.of('ack')).toEqual([{ type: 'ack', ref: 'r1', id: 1, ts: 1_000 }]);
    expect(world.counts.message).toBe(1);
  });

  it('announces joins to the room and sends the joiner the recent history', async () => {
    const alice = await connect('alice');
    core.handle(alice, { type: 'join', room: 'general' });
    for (let i = 0; i < 60; i++) say(alice, 'general', `m${i}`);
    world.commit();
    const bob = await connect('bob');
    core.handle(bob, { type: 'join', room: '#General' });
    const joined = bob.of('joined')[0];
    expect(joined.room).toBe('general');
    expect(joined.users).toEqual(['alice', 'bob']);
    expect(joined.history).toHaveLength(50);
    expect(joined.history[0].text).toBe('m10');
    expect(joined.history[49].text).toBe('m59');
    expect(joined.more).toBe(true);
    expect(alice.of('presence')).toEqual([
      { type: 'presence', room: 'general', nick: 'bob', event: 'join', ts: 1_000 },
    ]);
    expect(bob.of('presence')).toEqual([]);
  });

  it('resumes a room after a given id from memory, with no gap and no duplicate', async () => {
    const alice = await connect('alice');
    core.handle(alice, { type: 'join', room: 'general' });
    for (let i = 0; i < 10; i++) say(alice, 'general', `m${i}`);
    world.commit();
    const bob = await connect('bob');
    core.handle(bob, { type: 'join', room: 'general', after: 7 });
    const joined = bob.of('joined')[0];
    expect(joined.history.map((m) => m.id)).toEqual([8, 9, 10]);
    expect(joined.more).toBe(false);
  });

  it('marks a gap when a resume reaches further back than memory holds', async () => {
    core = new ChatCore(world, EMPTY, { recentCapacity: 50 });
    const alice = await connect('alice');
    core.handle(alice, { type: 'join', room: 'general' });
    for (let i = 0; i < 120; i++) say(alice, 'general', `m${i}`);
    world.commit();
    const bob = await connect('bob');
    core.handle(bob, { type: 'join', room: 'general', after: 5 });
    const joined = bob.of('joined')[0];
    expect(joined.history[0].id).toBe(71);
    expect(joined.more).toBe(true);
  });

  it('pages older history from the store once memory runs out, by id', async () => {
    core = new ChatCore(world, EMPTY, { recentCapacity: 50 });
    const alice = await connect('alice');
    core.handle(alice, { type: 'join', room: 'general' });
    for (let i = 0; i < 120; i++) say(alice, 'general', `m${i}`);
    world.commit();
    core.handle(alice, { type: 'history', room: 'general', before: 71, limit: 30 });
    await new Promise((r) => setImmediate(r));
    const page = alice.of('history')[0];
    expect(page.messages.map((m) => m.id)).toEqual(Array.from({ length: 30 }, (_, i) => 41 + i));
    expect(page.more).toBe(true);
    core.handle(alice, { type: 'history', room: 'general', before: 3, limit: 30 });
    await new Promise((r) => setImmediate(r));
    expect(alice.of('history')[1]).toMatchObject({ messages: [{ id: 1 }, { id: 2 }], more: false });
  });

  it('lists users of a room and rooms with member counts', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    core.handle(alice, { type: 'join', room: 'general' });
    core.handle(bob, { type: 'join', room: 'general' });
    core.handle(bob, { type: 'join', room: 'random' });
    core.handle(alice, { type: 'users', room: 'general', ref: 'u' });
    core.handle(alice, { type: 'rooms' });
    core.handle(alice, { type: 'users', room: 'nowhere' });
    expect(alice.of('users')).toEqual([{ type: 'users', room: 'general', users: ['alice', 'bob'], ref: 'u' }]);
    expect(alice.of('rooms')[0].rooms).toEqual([
      { name: 'general', members: 2, topic: null },
      { name: 'random', members: 1, topic: null },
    ]);
    expect(alice.of('error')[0].code).toBe('TC_ERR_NO_SUCH_ROOM');
  });

  it('delivers a private message to its recipient and sender only, wherever they are', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const carol = await connect('carol');
    core.handle(alice, { type: 'join', room: 'general' });
    core.handle(carol, { type: 'join', room: 'general' });
    core.handle(alice, { type: 'pm', to: 'BOB', text: 'psst', ref: 'p' });
    world.commit();
    const pm = { type: 'pm', id: 1, ts: 1_000, from: 'alice', to: 'bob', text: 'psst' };
    expect(bob.of('pm')).toEqual([pm]);
    expect(alice.of('pm')).toEqual([pm]);
    expect(carol.inbox.filter((f) => f.type === 'pm' || f.type === 'message')).toEqual([]);
    expect(alice.of('ack')).toHaveLength(1);
  });

  it('refuses a private message to an unknown or offline user', async () => {
    const alice = await connect('alice');
    core.handle(alice, { type: 'pm', to: 'ghost', text: 'boo' });
    expect(alice.of('error')[0].code).toBe('TC_ERR_NO_SUCH_USER');
    expect(world.queue).toHaveLength(0);
  });

  it('renames a user, announcing it per shared room; the rooms stay with the person', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    core.handle(alice, { type: 'join', room: 'general' });
    core.handle(bob, { type: 'join', room: 'general' });
    core.handle(alice, { type: 'nick', nick: 'bob' });
    expect(alice.of('error')[0].code).toBe('TC_ERR_NICK_IN_USE');
    core.handle(alice, { type: 'nick', nick: 'alicia' });
    await settle();
    expect(alice.nick).toBe('alicia');
    expect(alice.of('nick').find((f) => f.room === undefined)).toMatchObject({ old: 'alice', new: 'alicia' });
    expect(bob.of('nick')).toEqual([{ type: 'nick', room: 'general', old: 'alice', new: 'alicia', ts: 1_000 }]);
    expect(core.isOnline('alice')).toBe(false);
    const token = alice.of('welcome')[0].token!;
    core.disconnect(alice);
    // A stranger taking the old nick gets nothing; the person (by token) gets the room back.
    const stranger = await connect('alice');
    expect(stranger.of('welcome')[0]).toMatchObject({ rooms: [] });
    const back = await connect('alicia', token);
    await settle();
    expect(back.of('welcome')[0]).toMatchObject({ rooms: ['general'], token });
  });

  it('shows and sets the topic; only members may set it', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    core.handle(alice, { type: 'join', room: 'general' });
    core.handle(bob, { type: 'topic', room: 'general', topic: 'hijack' });
    expect(bob.of('error')[0].code).toBe('TC_ERR_NOT_IN_ROOM');
    core.handle(alice, { type: 'topic', room: 'general', topic: 'Release day' });
    core.handle(bob, { type: 'topic', room: 'general' });
    expect(alice.of('topic')[0]).toMatchObject({ topic: 'Release day', by: 'alice' });
    expect(bob.of('topic')[0]).toMatchObject({ topic: 'Release day' });
    expect(bob.of('topic')[0].by).toBeUndefined();
  });

  it('announces a part and a disconnect, and keeps memberships for the next connection', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    core.handle(alice, { type: 'join', room: 'general' });
    core.handle(alice, { type: 'join', room: 'random' });
    core.handle(bob, { type: 'join', room: 'general' });
    core.handle(alice, { type: 'part', room: 'random' });
    expect(alice.of('parted')).toEqual([{ type: 'parted', room: 'random' }]);
    core.disconnect(alice);
    expect(bob.of('presence').map((p) => p.event)).toEqual(['disconnect']);
    const again = await connect('alice', alice.of('welcome')[0].token);
    await settle();
    expect(again.of('welcome')[0].rooms).toEqual(['general']);
    expect(again.of('joined').map((j) => j.room)).toEqual(['general']);
    expect(world.counts).toMatchObject({ join: 4, leave: 2 });
  });

  it('announces a quit with its reason and closes the connection after what was queued', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    core.handle(alice, { type: 'join', room: 'general' });
    core.handle(bob, { type: 'join', room: 'general' });
    say(alice, 'general', 'bye all', 'last');
    core.handle(alice, { type: 'quit', reason: 'lunch' });
    expect(alice.closedWith).toBeNull();
    world.commit();
    expect(alice.of('ack')).toHaveLength(1);
    expect(alice.closedWith).toMatchObject({ type: 'bye' });
    expect(bob.inbox.filter((f) => f.type === 'message' || f.type === 'presence').map((f) => f.type)).toEqual([
      'message',
      'presence',
    ]);
    expect(bob.of('presence')[0]).toMatchObject({ event: 'quit', reason: 'lunch' });
  });

  it('keeps notices in order with the messages queued before them', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    core.handle(alice, { type: 'join', room: 'general' });
    core.handle(bob, { type: 'join', room: 'general' });
    say(alice, 'general', 'first');
    core.handle(alice, { type: 'topic', room: 'general', topic: 'after first' });
    say(alice, 'general', 'second');
    world.commit();
    expect(
      bob.inbox
        .filter((f) => f.type === 'message' || f.type === 'topic')
        .map((f) => (f.type === 'message' ? f.text : 'topic')),
    ).toEqual(['first', 'topic', 'second']);
  });

  it('tells the sender when the write queue is full instead of dropping the message', async () => {
    const alice = await connect('alice');
    core.handle(alice, { type: 'join', room: 'general' });
    world.full = true;
    say(alice, 'general', 'too much', 'x');
    expect(alice.of('error')).toEqual([expect.objectContaining({ code: 'TC_ERR_STORE_BUSY', ref: 'x' })]);
  });

  it('replaces control characters in text and refuses empty text', async () => {
    const alice = await connect('alice');
    core.handle(alice, { type: 'join', room: 'general' });
    say(alice, 'general', 'a\u0000b\u001b[31mc\nd');
    say(alice, 'general', '  \n ');
    world.commit();
    expect(alice.of('message')[0].text).toBe('a b [31mc d');
    expect(alice.of('error')[0].code).toBe('TC_ERR_EMPTY_TEXT');
  });

  it('restores memberships from a snapshot, reading the room back from the store on the way in', async () => {
    const general = { name: 'general', topic: 'hi', topicBy: 'bob', createdAt: 1 };
    const { id, token } = world.newIdentity();
    const snapshot: StoreSnapshot = { rooms: [general], memberships: [], recent: [] };
    world.state.push({ op: 'membership-add', nick: `~${id}`, room: 'general', ts: 1 });
    world.rooms.push({
      room: general,
      invites: [],
      recent: [{ id: 41, ts: 5, room: 'general', nick: 'bob', text: 'before the restart' }],
    });
    core = new ChatCore(world, snapshot);
    const alice = await connect('Alice', token);
    await settle();
    await settle();
    expect(alice.of('joined')[0]).toMatchObject({
      room: 'general',
      topic: 'hi',
      history: [{ id: 41, text: 'before the restart' }],
      more: false,
    });
  });

  it('lets an empty room leave memory after the idle time, and reads it back on the next join', async () => {
    const alice = await connect('alice');
    core.handle(alice, { type: 'join', room: 'general' });
    core.handle(alice, { type: 'topic', room: 'general', topic: 'kept' });
    core.handle(alice, { type: 'part', room: 'general' });
    expect(core.sweep(world.clock + 1_000)).toBe(0);
    expect(core.sweep(world.clock + 60_000)).toBe(1);
    expect(core.roomMembers().size).toBe(0);
    world.rooms.push({
      room: { name: 'general', topic: 'kept', topicBy: 'alice', createdAt: 1 },
      invites: [],
      recent: [],
    });
    core.handle(alice, { type: 'join', room: 'general', ref: 'j' });
    expect(core.isBusy(alice)).toBe(true);
    await settle();
    expect(alice.of('joined').at(-1)).toMatchObject({ room: 'general', topic: 'kept', ref: 'j' });
  });

  it('keeps a session to its room limit and a hello to the same cap', async () => {
    core = new ChatCore(world, EMPTY, { maxRoomsPerSession: 2 });
    const alice = await connect('alice');
    for (const room of ['a', 'b', 'c']) core.handle(alice, { type: 'join', room, ref: room });
    expect(alice.of('joined').map((j) => j.room)).toEqual(['a', 'b']);
    expect(alice.of('error')[0]).toMatchObject({ code: 'TC_ERR_TOO_MANY_ROOMS', ref: 'c' });
    const bob = new TestSession(++ids);
    core.connect(bob);
    core.handle(bob, { type: 'hello', v: 1, nick: 'bob', rooms: { x: null, y: null, z: null } });
    await settle();
    expect(bob.of('welcome')[0].rooms).toEqual(['x', 'y']);
    expect(bob.of('error')[0]).toMatchObject({ code: 'TC_ERR_TOO_MANY_ROOMS' });
  });

  it('refuses a new room when the runtime says creation is spent, but lets people join existing ones', async () => {
    const alice = await connect('alice');
    core.handle(alice, { type: 'join', room: 'old' });
    world.creationRefused = true;
    core.handle(alice, { type: 'join', room: 'new', ref: 'n' });
    expect(alice.of('error')[0]).toMatchObject({ code: 'TC_ERR_ROOM_CREATION_LIMITED', ref: 'n' });
    const bob = await connect('bob');
    core.handle(bob, { type: 'join', room: 'old', ref: 'o' });
    expect(bob.of('joined')[0]).toMatchObject({ room: 'old', ref: 'o' });
  });

  it('pages the room list and the user list', async () => {
    const people = await Promise.all(Array.from({ length: 3 }, (_, i) => connect(`user${i}`)));
    for (const [i, p] of people.entries()) core.handle(p, { type: 'join', room: `room${i}` });
    core.handle(people[0], { type: 'join', room: 'room1' });
    core.handle(people[0], { type: 'rooms', after: 'room0', ref: 'r' });
    expect(people[0].of('rooms')[0]).toMatchObject({
      rooms: [
        { name: 'room1', members: 2 },
        { name: 'room2', members: 1 },
      ],
      ref: 'r',
    });
    core.handle(people[0], { type: 'users', room: 'room1', after: 'user0', ref: 'u' });
    expect(people[0].of('users')[0]).toMatchObject({ users: ['user1'], ref: 'u' });
  });

  it('counts connections in and out once each', async () => {
    const a = await connect('a');
    core.handle(a, { type: 'quit' });
    core.disconnect(a);
    expect(core.connections).toBe(0);
    expect(world.counts).toMatchObject({ open: 1, close: 1 });
  });

  describe('team features', () => {
    /** Alice and Bob in `general`, Alice's message stored with the given text; returns its id. */
    const scene = async (text = 'first draft') => {
      const alice = await connect('alice');
      const bob = await connect('bob');
      core.handle(alice, { type: 'join', room: 'general' });
      core.handle(bob, { type: 'join', room: 'general' });
      say(alice, 'general', text, 'm');
      world.commit();
      const id = alice.of('ack')[0].id;
      return { alice, bob, id };
    };

    it('lets the author edit, shows everyone the new text, and keeps it for joiners', async () => {
      const { alice, bob, id } = await scene();
      core.handle(bob, { type: 'edit', id, text: 'not mine', ref: 'e0' });
      await settle();
      expect(bob.of('error').at(-1)).toMatchObject({ code: 'TC_ERR_NOT_AUTHOR', ref: 'e0' });
      core.handle(alice, { type: 'edit', id, text: 'final text', ref: 'e1' });
      await settle();
      world.commit();
      expect(alice.of('edited')[0]).toMatchObject({ id, text: 'final text', by: 'alice', ref: 'e1' });
      expect(bob.of('edited')[0]).toMatchObject({ id, text: 'final text' });
      expect(world.state).toContainEqual(expect.objectContaining({ op: 'edit', id, text: 'final text' }));
      const carol = await connect('carol');
      core.handle(carol, { type: 'join', room: 'general' });
      expect(carol.of('joined')[0].history.at(-1)).toMatchObject({ id, text: 'final text', edited: 1_000 });
    });

    it('deletes for the author or the room creator, leaving a tombstone without the text', async () => {
      const { alice, bob, id } = await scene('secret');
      core.handle(bob, { type: 'delete', id, ref: 'd0' });
      await settle();
      expect(bob.of('error').at(-1)).toMatchObject({ code: 'TC_ERR_NOT_AUTHOR' });
      core.handle(alice, { type: 'delete', id, ref: 'd1' });
      await settle();
      world.commit();
      expect(bob.of('deleted')[0]).toMatchObject({ id, by: 'alice' });
      core.handle(bob, { type: 'history', room: 'general', ref: 'h' });
      const page = bob.of('history')[0];
      expect(page.messages.find((m) => m.id === id)).toEqual({
        id,
        ts: 1_000,
        room: 'general',
        nick: 'alice',
        text: '',
        deleted: true,
      });
      core.handle(alice, { type: 'edit', id, text: 'back', ref: 'e' });
      await settle();
      expect(alice.of('error').at(-1)).toMatchObject({ code: 'TC_ERR_NO_SUCH_MESSAGE', ref: 'e' });
    });

    it('counts reactions per emoji with who reacted, and takes one back', async () => {
      const { alice, bob, id } = await scene();
      core.handle(bob, { type: 'react', id, emoji: '👍', ref: 'r1' });
      await settle();
      world.commit();
      expect(alice.of('reaction')[0]).toMatchObject({ id, emoji: '👍', nick: 'bob', added: true, count: 1 });
      core.handle(alice, { type: 'react', id, emoji: 'has space', ref: 'bad' });
      expect(alice.of('error').at(-1)).toMatchObject({ code: 'TC_ERR_BAD_EMOJI', ref: 'bad' });
      core.handle(bob, { type: 'react', id, emoji: '👍', remove: true, ref: 'r2' });
      await settle();
      world.commit();
      expect(alice.of('reaction')[1]).toMatchObject({ added: false, count: 0 });
    });

    it('replies to a message of the same room only', async () => {
      const { alice, bob, id } = await scene();
      core.handle(bob, { type: 'msg', room: 'general', text: 'agreed', replyTo: id, ref: 'r' });
      world.commit();
      expect(alice.of('message').at(-1)).toMatchObject({ text: 'agreed', replyTo: id });
      core.handle(bob, { type: 'msg', room: 'general', text: 'to nowhere', replyTo: 999_999, ref: 'bad' });
      await settle();
      expect(bob.of('error').at(-1)).toMatchObject({ code: 'TC_ERR_NO_SUCH_MESSAGE', ref: 'bad' });
    });

    it('tells every connection of the same person its new read marker', async () => {
      const { first, second, stranger } = await twoConnectionsOfAlice();
      core.handle(first, { type: 'mark', room: 'general', id: 42, ref: 'k' });
      world.commit();
      expect(first.of('marker')[0]).toEqual({ type: 'marker', room: 'general', id: 42, ref: 'k' });
      expect(second.of('marker')[0]).toEqual({ type: 'marker', room: 'general', id: 42 });
      expect(stranger.of('marker')).toEqual([]);
    });

    it('counts unread private messages per conversation on connect, each one a mention, and after a marker', async () => {
      const first = await connect('alice');
      const token = first.of('welcome')[0].token!;
      const bob = await connect('bob');
      const carol = await connect('carol');
      for (const [from, text] of [
        [bob, 'are you there?'],
        [bob, 'ping'],
        [carol, 'lunch?'],
      ] as const)
        core.handle(from, { type: 'pm', to: 'alice', text });
      core.handle(first, { type: 'pm', to: 'bob', text: 'my own reply is never unread' });
      world.commit();
      const [fromBob] = first.of('pm').filter((m) => m.from === 'bob');
      core.handle(first, { type: 'quit' });
      core.disconnect(first);

      // Back on another device, in no room: the counts come anyway, newest conversation first.
      const back = await connect('alice', token);
      const [counts] = back.of('unread');
      expect(counts).toEqual({
        type: 'unread',
        rooms: {},
        pms: { carol: { unread: 1, mentions: 1, marker: 0 }, bob: { unread: 2, mentions: 2, marker: 0 } },
      });
      expect(Object.keys(counts.pms!)).toEqual(['carol', 'bob']);

      core.handle(back, { type: 'mark', with: 'Bob', id: fromBob.id, ref: 'k' });
      world.commit();
      core.handle(back, { type: 'unread', ref: 'u' });
      await settle();
      expect(back.of('unread').at(-1)).toEqual({
        type: 'unread',
        rooms: {},
        pms: { carol: { unread: 1, mentions: 1, marker: 0 }, bob: { unread: 1, mentions: 1, marker: fromBob.id } },
        ref: 'u',
      });
    });

    it('sends no counts at login when there is nothing to count', async () => {
      const alice = await connect('alice');
      expect(alice.of('unread')).toEqual([]);
      core.handle(alice, { type: 'unread', ref: 'u' });
      await settle();
      expect(alice.of('unread')).toEqual([{ type: 'unread', rooms: {}, pms: {}, ref: 'u' }]);
    });

    it('keeps highlight words per person and tells every connection of that person', async () => {
      const { first, second, stranger } = await twoConnectionsOfAlice();
      core.handle(first, { type: 'highlights', words: ['Deploy', 'on-call', 'deploy'], ref: 'h' });
      world.commit();
      expect(first.of('highlights')).toEqual([{ type: 'highlights', words: ['deploy', 'on-call'], ref: 'h' }]);
      expect(second.of('highlights')).toEqual([{ type: 'highlights', words: ['deploy', 'on-call'] }]);
      expect(stranger.of('highlights')).toEqual([]);
      expect(world.state).toContainEqual({
        op: 'highlights',
        owner: first.owner,
        words: ['deploy', 'on-call'],
        ts: 1_000,
      });

      // Asked for, only the asking connection answers.
      core.handle(second, { type: 'highlights', ref: 'q' });
      await settle();
      expect(second.of('highlights').at(-1)).toEqual({ type: 'highlights', words: ['deploy', 'on-call'], ref: 'q' });
      expect(first.of('highlights')).toHaveLength(1);
      core.handle(stranger, { type: 'highlights', ref: 'q2' });
      await settle();
      expect(stranger.of('highlights')).toEqual([{ type: 'highlights', words: [], ref: 'q2' }]);

      core.handle(second, { type: 'highlights', words: [], ref: 'c' });
      world.commit();
      expect(first.of('highlights').at(-1)).toEqual({ type: 'highlights', words: [] });
    });

    it('refuses a bad highlight word or too many, and changes nothing', async () => {
      const alice = await connect('alice');
      for (const bad of ['two words', '', 'x'.repeat(33), 'dé', 'a.b', '(x|y)', '\\d+', '@room']) {
        core.handle(alice, { type: 'highlights', words: ['fine', bad], ref: 'b' });
        expect(alice.of('error').at(-1), bad).toMatchObject({ code: 'TC_ERR_BAD_HIGHLIGHT', ref: 'b' });
      }
      const many = Array.from({ length: 17 }, (_, i) => `word${i}`);
      core.handle(alice, { type: 'highlights', words: many, ref: 'm' });
      expect(alice.of('error').at(-1)).toMatchObject({ code: 'TC_ERR_TOO_MANY_HIGHLIGHTS', ref: 'm' });
      // Repeats count once: 16 distinct words are fine.
      core.handle(alice, { type: 'highlights', words: [...many.slice(0, 16), 'WORD0'], ref: 'ok' });
      world.commit();
      expect(alice.of('highlights').at(-1)).toMatchObject({ ref: 'ok', words: many.slice(0, 16) });
      expect(world.state.filter((w) => w.op === 'highlights')).toHaveLength(1);
    });

    it('publishes a highlight change to the other nodes, and applies theirs to local connections', async () => {
      const alice = await connect('alice');
      const published: unknown[] = [];
      world.clustered = true;
      const inOrder = world.inOrder.bind(world);
      world.inOrder = (run: () => void, event?: unknown) => {
        if (event) published.push(event);
        inOrder(run);
      };
      core.handle(alice, { type: 'highlights', words: ['release'], ref: 'h' });
      world.commit();
      expect(published).toContainEqual({ kind: 'highlights', owner: alice.owner, words: ['release'] });
      core.applyRemote({ kind: 'highlights', owner: alice.owner!, words: ['hotfix'] });
      expect(alice.of('highlights').at(-1)).toEqual({ type: 'highlights', words: ['hotfix'] });
      core.applyRemote({ kind: 'highlights', owner: '~someone-else', words: ['x'] });
      expect(alice.of('highlights').at(-1)).toEqual({ type: 'highlights', words: ['hotfix'] });
    });

    it('refuses to search a room the user may not read, even by naming it', async () => {
      const { bob } = await scene();
      core.handle(bob, { type: 'search', q: 'draft', room: 'elsewhere', ref: 's' });
      await settle();
      expect(bob.of('error').at(-1)).toMatchObject({ code: 'TC_ERR_NOT_IN_ROOM', ref: 's' });
      core.handle(bob, { type: 'search', q: ' ', ref: 'empty' });
      await settle();
      expect(bob.of('error').at(-1)).toMatchObject({ code: 'TC_ERR_BAD_QUERY', ref: 'empty' });
    });
  });
});

describe('ChatCore room operators, modes, kicks and notices', () => {
  let world: TestWorld;
  let core: ChatCore<TestSession>;
  let ids = 100;
  const settle = () => new Promise((r) => setTimeout(r, 0));
  const connect = async (nick: string, dialect: 'json' | 'plain' = 'json') => {
    const s = new TestSession(++ids, dialect);
    core.connect(s);
    core.handle(s, { type: 'hello', v: 1, nick });
    await settle();
    return s;
  };
  const joinAll = async (room: string, ...who: TestSession[]) => {
    for (const s of who) core.handle(s, { type: 'join', room });
    await settle();
  };

  beforeEach(() => {
    world = new TestWorld();
    core = new ChatCore(world, EMPTY, { guestRoomModes: true, minPasswordLength: 3 });
  });

  it('makes the creator an operator, who may grant operator to another member', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    await joinAll('ops', alice, bob);
    expect(core.isOperator('ops', 'alice')).toBe(true);
    expect(core.isOperator('ops', 'bob')).toBe(false);
    core.handle(bob, { type: 'mode', room: 'ops', members: [{ nick: 'bob', role: 'op', add: true }], ref: 'no' });
    expect(bob.of('error').at(-1)).toMatchObject({ code: 'TC_ERR_NOT_ROOM_CREATOR', ref: 'no' });
    core.handle(alice, { type: 'mode', room: 'ops', members: [{ nick: 'bob', role: 'op', add: true }], ref: 'op' });
    world.commit();
    expect(core.isOperator('ops', 'bob')).toBe(true);
    expect(bob.of('mode').at(-1)).toMatchObject({ by: 'alice', changes: [{ mode: 'o', add: true, arg: 'bob' }] });
    expect(alice.of('mode').at(-1)).toMatchObject({ ref: 'op' });
  });

  it('refuses member modes for someone who is not in the room, with a code of its own', async () => {
    const alice = await connect('alice');
    await connect('carol');
    await joinAll('ops', alice);
    core.handle(alice, { type: 'mode', room: 'ops', members: [{ nick: 'carol', role: 'op', add: true }], ref: 'a' });
    core.handle(alice, { type: 'mode', room: 'ops', members: [{ nick: 'nobody', role: 'op', add: true }], ref: 'b' });
    expect(alice.of('error').map((e) => e.code)).toEqual(['TC_ERR_USER_NOT_IN_ROOM', 'TC_ERR_NO_SUCH_USER']);
  });

  it('locks the topic to operators with +t', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    await joinAll('news', alice, bob);
    core.handle(alice, { type: 'mode', room: 'news', topicLock: true });
    world.commit();
    core.handle(bob, { type: 'topic', room: 'news', topic: 'mine now', ref: 't' });
    expect(bob.of('error').at(-1)).toMatchObject({ code: 'TC_ERR_NOT_OPERATOR', ref: 't' });
    core.handle(alice, { type: 'topic', room: 'news', topic: 'the news' });
    world.commit();
    expect(bob.of('topic').at(-1)).toMatchObject({ topic: 'the news', by: 'alice' });
  });

  it('lets only operators and voiced members speak in a moderated room', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    await joinAll('stage', alice, bob);
    core.handle(alice, { type: 'mode', room: 'stage', moderated: true });
    world.commit();
    core.handle(bob, { type: 'msg', room: 'stage', text: 'hello?', ref: 'm' });
    expect(bob.of('error').at(-1)).toMatchObject({ code: 'TC_ERR_MODERATED', ref: 'm' });
    core.handle(alice, { type: 'mode', room: 'stage', members: [{ nick: 'bob', role: 'voice', add: true }] });
    world.commit();
    core.handle(bob, { type: 'msg', room: 'stage', text: 'now I may' });
    world.commit();
    expect(alice.of('message').at(-1)).toMatchObject({ nick: 'bob', text: 'now I may' });
    expect(core.isVoiced('stage', 'bob')).toBe(true);
  });

  it('keeps banned masks out unless an exception matches, and caps members with +l unless invited', async () => {
    const alice = await connect('alice');
    await joinAll('club', alice);
    core.handle(alice, { type: 'mode', room: 'club', lists: [{ list: 'ban', mask: 'bob', add: true }], limit: 2 });
    world.commit();
    expect(alice.of('mode').at(-1)!.changes).toEqual([
      { mode: 'l', add: true, arg: '2' },
      { mode: 'b', add: true, arg: 'bob!*@*' },
    ]);
    const bob = await connect('Bob');
    core.handle(bob, { type: 'join', room: 'club', ref: 'j' });
    expect(bob.of('error').at(-1)).toMatchObject({ code: 'TC_ERR_BANNED', ref: 'j' });
    core.handle(alice, { type: 'mode', room: 'club', lists: [{ list: 'except', mask: 'bob!*@teamchat', add: true }] });
    world.commit();
    core.handle(bob, { type: 'join', room: 'club' });
    await settle();
    expect(bob.of('joined')).toHaveLength(1);
    const carol = await connect('carol');
    core.handle(carol, { type: 'join', room: 'club', ref: 'full' });
    expect(carol.of('error').at(-1)).toMatchObject({ code: 'TC_ERR_ROOM_FULL' });
    core.handle(alice, { type: 'invite', room: 'club', nick: 'carol' });
    await settle();
    world.commit();
    core.handle(carol, { type: 'join', room: 'club' });
    await settle();
    expect(carol.of('joined')).toHaveLength(1);
    core.handle(alice, { type: 'mode', room: 'club', ref: 'q' });
    expect(alice.of('mode').at(-1)).toMatchObject({ limit: 2, bans: [{ mask: 'bob!*@*', by: 'alice' }] });
  });

  it('hides a secret room from the room list of non-members', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    await joinAll('hush', alice);
    core.handle(alice, { type: 'mode', room: 'hush', secret: true });
    world.commit();
    core.handle(bob, { type: 'rooms' });
    expect(bob.of('rooms').at(-1)!.rooms).toEqual([]);
    core.handle(alice, { type: 'rooms' });
    expect(
      alice
        .of('rooms')
        .at(-1)!
        .rooms.map((r) => r.name),
    ).toEqual(['hush']);
  });

  it('kicks a member: it leaves with who and why, the room sees the kick, only operators may', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const carol = await connect('carol', 'plain');
    await joinAll('den', alice, bob, carol);
    core.handle(bob, { type: 'kick', room: 'den', nick: 'carol', ref: 'x' });
    expect(bob.of('error').at(-1)).toMatchObject({ code: 'TC_ERR_NOT_OPERATOR', ref: 'x' });
    core.handle(alice, { type: 'kick', room: 'den', nick: 'bob', reason: 'spam', ref: 'k' });
    world.commit();
    expect(bob.of('parted').at(-1)).toEqual({ type: 'parted', room: 'den', by: 'alice', reason: 'spam' });
    expect(carol.of('presence').at(-1)).toMatchObject({ event: 'kick', nick: 'bob', by: 'alice', reason: 'spam' });
    expect(alice.of('presence').at(-1)).toMatchObject({ event: 'kick', nick: 'bob', ref: 'k' });
    expect(bob.rooms.size).toBe(0);
    expect(world.state).toContainEqual({ op: 'membership-remove', nick: bob.owner, room: 'den' });
    core.handle(alice, { type: 'kick', room: 'den', nick: 'bob' });
    expect(alice.of('error').at(-1)).toMatchObject({ code: 'TC_ERR_USER_NOT_IN_ROOM' });
  });

  it('carries a part reason to the room', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    await joinAll('den', alice, bob);
    core.handle(bob, { type: 'part', room: 'den', reason: 'lunch\u0007' });
    world.commit();
    expect(alice.of('presence').at(-1)).toMatchObject({ event: 'part', nick: 'bob', reason: 'lunch' });
  });

  it('relays a notice as a notice, and keeps it out of the recent history as a flag', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    await joinAll('den', alice, bob);
    core.handle(alice, { type: 'msg', room: 'den', text: 'heads up', notice: true });
    core.handle(alice, { type: 'pm', to: 'bob', text: 'psst', notice: true });
    world.commit();
    expect(bob.of('message').at(-1)).toMatchObject({ text: 'heads up', notice: true });
    expect(bob.of('pm').at(-1)).toMatchObject({ text: 'psst', notice: true });
    core.handle(bob, { type: 'history', room: 'den' });
    expect(bob.of('history').at(-1)!.messages.at(-1)).not.toHaveProperty('notice');
  });

  it('lets non-members send when an operator lifts +n', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    await joinAll('open', alice);
    core.handle(bob, { type: 'msg', room: 'open', text: 'from outside', ref: 'o' });
    expect(bob.of('error').at(-1)).toMatchObject({ code: 'TC_ERR_NOT_IN_ROOM' });
    core.handle(alice, { type: 'mode', room: 'open', noExternal: false });
    world.commit();
    core.handle(bob, { type: 'msg', room: 'open', text: 'from outside' });
    world.commit();
    expect(alice.of('message').at(-1)).toMatchObject({ nick: 'bob', text: 'from outside' });
  });

  it('keeps room modes to registered operators unless guest room modes are on', async () => {
    const strict = new ChatCore(world, EMPTY);
    const s = new TestSession(++ids);
    strict.connect(s);
    strict.handle(s, { type: 'hello', v: 1, nick: 'guest' });
    await settle();
    strict.handle(s, { type: 'join', room: 'g' });
    strict.handle(s, { type: 'mode', room: 'g', topicLock: true });
    expect(s.of('error').at(-1)).toMatchObject({ code: 'TC_ERR_NOT_REGISTERED_NICK' });
  });

  it('checks an account password without logging in, and never takes an unknown name as a guest', async () => {
    const s = new TestSession(++ids, 'json');
    core.connect(s);
    const alice = await connect('alice');
    core.handle(alice, { type: 'register', password: 'abc' });
    await settle();
    world.commit();
    const results: (string | null)[] = [];
    core.checkAccount(s, 'alice', 'abc', (e) => results.push(e?.code ?? null));
    core.checkAccount(s, 'alice', 'nope', (e) => results.push(e?.code ?? null));
    core.checkAccount(s, 'stranger', 'abc', (e) => results.push(e?.code ?? null));
    await settle();
    await settle();
    expect(results.sort()).toEqual([null, 'TC_ERR_BAD_PASSWORD', 'TC_ERR_BAD_PASSWORD'].sort());
    expect(s.nick).toBeNull();
    let refused: string | undefined;
    core.login(
      s,
      { nick: 'stranger', password: 'whatever', restore: false, accountOnly: true },
      (e) => (refused = e?.code),
    );
    await settle();
    expect(refused).toBe('TC_ERR_BAD_PASSWORD');
    expect(s.nick).toBeNull();
  });

  it('refuses a password shorter than the configured minimum', async () => {
    const alice = await connect('alice');
    core.handle(alice, { type: 'register', password: 'ab', ref: 'r' });
    expect(alice.of('error').at(-1)).toMatchObject({ code: 'TC_ERR_WEAK_PASSWORD', ref: 'r' });
  });
});
