/**
 * The core's accounts and room modes, with in-memory effects (the password hash is a stand-in:
 * the real scrypt lives in transport/security and has its own tests).
 */
import type { ServerFrame } from '@teamchat/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ChatEvents } from '../metrics/chat-events.js';
import type { StateWrite, StoreSnapshot } from './records.js';
import { inMemoryReads } from './in-memory-reads.js';
import { ChatCore } from './chat-core.js';
import type { CoreEffects } from './core-effects.js';
import type { Room } from './room.js';
import type { Session } from './session.js';

class S implements Session {
  nick: string | null = null;
  key: string | null = null;
  owner: string | null = null;
  readonly rooms = new Set<Room>();
  readonly inbox: ServerFrame[] = [];
  settled = 0;
  constructor(readonly id: number) {}
  readonly dialect = 'json' as const;
  readonly remote = 'test';
  resume() {
    this.settled++;
  }
  last<T extends ServerFrame['type']>(type: T): Extract<ServerFrame, { type: T }> | undefined {
    return this.inbox.filter((f) => f.type === type).at(-1) as Extract<ServerFrame, { type: T }> | undefined;
  }
}

const noop = () => {};
const events: ChatEvents = {
  message: noop,
  privateMessage: noop,
  join: noop,
  leave: noop,
  connectionOpened: noop,
  connectionClosed: noop,
};

function world(state: StateWrite[], failures: { n: number }, accounts: Record<string, string> = {}): CoreEffects<S> {
  let id = 0;
  let identities = 0;
  return {
    ...inMemoryReads(state, accounts),
    send: (s, f) => void s.inbox.push(f),
    broadcast: (ss, f) => {
      for (const s of ss) s.inbox.push(f);
    },
    persist: (_m, cb) => {
      const n = ++id;
      cb.deliver(n);
      cb.committed({ ok: true, id: n });
      return true;
    },
    inOrder: (run) => run(),
    persistState: (w, stored) => {
      state.push(w);
      stored?.(true);
    },
    loadRoom: async () => null,
    checkIdentity: async () => null,
    newIdentity: () => {
      const id = (++identities).toString(16).padStart(16, '0');
      return { id, token: `${id}.secret-of-${id}`, secretHash: `sha:${id}` };
    },
    allowRoomCreation: () => null,
    whenWritable: async () => {},
    close: noop,
    roomHistory: async () => [],
    privateHistory: async () => [],
    hashSecret: async (secret) => `hash:${secret}`,
    verifySecret: async (_s, secret, hash) => {
      const ok = hash === `hash:${secret}`;
      if (!ok) failures.n++;
      return ok;
    },
    events,
    now: () => 1_000,
    log: noop,
  };
}

/** Lets pending promise callbacks (the async hash and check) run. */
const settle = () => new Promise((r) => setTimeout(r, 0));
const EMPTY: StoreSnapshot = { rooms: [], memberships: [], recent: [] };

describe('ChatCore accounts', () => {
  let state: StateWrite[];
  let failures: { n: number };
  let core: ChatCore<S>;
  let ids = 0;
  const session = () => {
    const s = new S(++ids);
    core.connect(s);
    return s;
  };

  beforeEach(() => {
    state = [];
    failures = { n: 0 };
    core = new ChatCore(world(state, failures, { alice: 'hash:open-sesame' }), EMPTY);
  });

  it('asks a registered nick for its password and welcomes it with the right one', async () => {
    const s = session();
    core.handle(s, { type: 'hello', v: 1, nick: 'Alice', ref: 'a' });
    await settle();
    expect(s.last('error')).toMatchObject({ code: 'TC_ERR_AUTH_REQUIRED', ref: 'a' });
    core.handle(s, { type: 'hello', v: 1, nick: 'alice', password: 'nope-nope', ref: 'b' });
    expect(core.isBusy(s)).toBe(true);
    core.handle(s, { type: 'hello', v: 1, nick: 'alice', password: 'again', ref: 'c' });
    expect(s.last('error')).toMatchObject({ code: 'TC_ERR_ALREADY_REGISTERED', ref: 'c' });
    await settle();
    expect(s.last('error')).toMatchObject({ code: 'TC_ERR_BAD_PASSWORD', ref: 'b' });
    expect(failures.n).toBe(1);
    core.handle(s, { type: 'hello', v: 1, nick: 'alice', password: 'open-sesame', ref: 'd' });
    await settle();
    expect(s.last('welcome')).toMatchObject({ nick: 'alice', account: true, ref: 'd' });
    // Input held while the store and the checks answered was let go each time.
    expect(core.isBusy(s)).toBe(false);
    expect(s.settled).toBeGreaterThanOrEqual(2);
  });

  it('registers with /register, persisting only the hash', async () => {
    const s = session();
    core.handle(s, { type: 'hello', v: 1, nick: 'bob' });
    await settle();
    core.handle(s, { type: 'register', password: 'short', ref: 'w' });
    expect(s.last('error')).toMatchObject({ code: 'TC_ERR_WEAK_PASSWORD' });
    core.handle(s, { type: 'register', password: 'bobs-password', ref: 'r' });
    await settle();
    expect(s.last('registered')).toEqual({ type: 'registered', nick: 'bob', ref: 'r' });
    expect(state).toContainEqual({ op: 'account', nick: 'bob', hash: 'hash:bobs-password', ts: 1_000 });
    expect(JSON.stringify(state)).not.toMatch(/"bobs-password"/);
    expect(await world(state, failures).accountHash('bob')).toBe('hash:bobs-password');
  });

  it('requires an account for every nick with requireAccounts, registering in the hello', async () => {
    core = new ChatCore(world(state, failures), EMPTY, { requireAccounts: true });
    const s = session();
    let refused: unknown;
    core.login(s, { nick: 'carol', restore: false }, (error) => (refused = error));
    await settle();
    expect(refused).toMatchObject({ code: 'TC_ERR_AUTH_REQUIRED' });
    core.handle(s, { type: 'hello', v: 1, nick: 'carol', password: 'carols-password', register: true });
    await settle();
    expect(s.last('welcome')).toMatchObject({ nick: 'carol', account: true });
  });
});

describe('ChatCore room modes', () => {
  let core: ChatCore<S>;
  let ids = 0;
  const user = async (nick: string, password?: string) => {
    const s = new S(++ids);
    core.connect(s);
    core.handle(s, { type: 'hello', v: 1, nick, ...(password ? { password } : {}) });
    await settle();
    return s;
  };

  beforeEach(() => {
    core = new ChatCore(world([], { n: 0 }, { owner: 'hash:owner-password' }), EMPTY);
  });

  it('lets only the registered creator set a key, and members keep their seat', async () => {
    const owner = await user('owner', 'owner-password');
    const guest = await user('guest');
    core.handle(owner, { type: 'join', room: 'keep' });
    core.handle(guest, { type: 'join', room: 'keep' });
    await settle();
    core.handle(guest, { type: 'mode', room: 'keep', key: 'k', ref: 'g' });
    expect(guest.last('error')).toMatchObject({ code: 'TC_ERR_NOT_ROOM_CREATOR' });
    core.handle(owner, { type: 'mode', room: 'keep', key: 'has space', ref: 'bad' });
    expect(owner.last('error')).toMatchObject({ code: 'TC_ERR_BAD_ARGUMENT' });
    core.handle(owner, { type: 'mode', room: 'keep', key: 'k3y', ref: 'o' });
    await settle();
    expect(owner.last('mode')).toMatchObject({ key: true, creator: 'owner', ref: 'o' });
    expect(guest.last('mode')).toMatchObject({ key: true, by: 'owner' });

    const stranger = await user('stranger');
    core.handle(stranger, { type: 'users', room: 'keep', ref: 'u' });
    expect(stranger.last('error')).toMatchObject({ code: 'TC_ERR_NOT_IN_ROOM' });
    core.handle(stranger, { type: 'join', room: 'keep', key: 'nope', ref: 'j' });
    await settle();
    expect(stranger.last('error')).toMatchObject({ code: 'TC_ERR_BAD_KEY', ref: 'j' });
    core.handle(stranger, { type: 'join', room: 'keep', key: 'k3y', ref: 'k' });
    await settle();
    expect(stranger.last('joined')).toMatchObject({ room: 'keep', ref: 'k' });
  });

  it('admits invited nicks only to an invite-only room', async () => {
    const owner = await user('owner', 'owner-password');
    core.handle(owner, { type: 'join', room: 'club' });
    core.handle(owner, { type: 'mode', room: 'club', inviteOnly: true });
    const guest = await user('guest');
    core.handle(guest, { type: 'join', room: 'club', ref: 'a' });
    await settle();
    expect(guest.last('error')).toMatchObject({ code: 'TC_ERR_INVITE_ONLY' });
    core.handle(owner, { type: 'invite', nick: 'Guest', room: 'club', ref: 'i' });
    await settle();
    expect(guest.last('invite')).toMatchObject({ room: 'club', by: 'owner' });
    core.handle(guest, { type: 'join', room: 'club', ref: 'b' });
    await settle();
    expect(guest.last('joined')).toMatchObject({ room: 'club', users: ['guest', 'owner'] });
  });
});
