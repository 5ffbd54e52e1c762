/**
 * Property-based fuzzing of the decoders and parsers: whatever the bytes, they never throw and
 * always return a frame or a coded error. FUZZ_RUNS raises the number of inputs (`npm run fuzz`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeClientFrame, decodeServerFrame } from './decode.js';
import { isErrorCode } from './errors.js';
import { LineFramer } from './line-framer.js';
import { formatPlain, parseUserInput } from './plain-text.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2_500);
export const fuzzInputs = { total: 0 };

const TYPES = [
  'hello',
  'join',
  'part',
  'msg',
  'pm',
  'users',
  'rooms',
  'nick',
  'topic',
  'history',
  'pm-history',
  'quit',
  'ping',
  'nope',
];
const jsonValue = fc.jsonValue({ maxDepth: 3 });
/** Any UTF-16 code units, unpaired surrogates included (JSON.stringify writes those as `\udXXX` escapes). */
const utf16 = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  maxLength: 40,
});
/** Objects shaped like frames, with fields of every type: exercises validation, not just JSON.parse. */
const frameLike = fc.record(
  {
    type: fc.oneof(fc.constantFrom(...TYPES), jsonValue),
    v: fc.oneof(fc.constant(1), jsonValue),
    nick: fc.oneof(fc.string(), jsonValue),
    room: fc.oneof(fc.string(), jsonValue),
    text: fc.oneof(fc.string(), fc.string({ unit: 'binary' }), utf16, jsonValue),
    to: fc.oneof(fc.string(), jsonValue),
    ref: fc.oneof(fc.string(), utf16, jsonValue),
    before: fc.oneof(fc.integer(), fc.double(), jsonValue),
    after: fc.oneof(fc.nat(), jsonValue),
    limit: fc.oneof(fc.integer({ min: -5, max: 600 }), jsonValue),
    rooms: fc.oneof(
      fc.dictionary(fc.oneof(fc.string(), utf16), fc.oneof(fc.nat(), fc.constant(null), jsonValue)),
      jsonValue,
    ),
  },
  { requiredKeys: [] },
);
const lineInputs = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }).map((s) => Buffer.from(s)),
  frameLike.map((f) => Buffer.from(JSON.stringify(f))),
  jsonValue.map((v) => Buffer.from(JSON.stringify(v))),
);

function assertCoded(result: { ok: boolean; error?: { code: string } }) {
  if (!result.ok) expect(isErrorCode(result.error!.code)).toBe(true);
}

type WellFormedString = string & { isWellFormed(): boolean };
/** Every key and string value in a decoded frame is well-formed UTF-16 (no unpaired surrogate). */
function assertWellFormed(frame: unknown) {
  let broken = false;
  JSON.stringify(frame, (key: string, value: unknown) => {
    if (
      !(key as WellFormedString).isWellFormed() ||
      (typeof value === 'string' && !(value as WellFormedString).isWellFormed())
    )
      broken = true;
    return value;
  });
  expect(broken).toBe(false);
}

describe('fuzzing the protocol', () => {
  it(`decodeClientFrame never throws, always answers a frame or a coded error, and never lets an unpaired surrogate through (${RUNS} inputs)`, () => {
    fc.assert(
      fc.property(lineInputs, (bytes) => {
        fuzzInputs.total++;
        const r = decodeClientFrame(bytes);
        assertCoded(r);
        if (r.ok) expect(typeof r.frame.type).toBe('string');
        if (r.ok) assertWellFormed(r.frame);
      }),
      { numRuns: RUNS },
    );
  });

  it(`decodeServerFrame never throws (${RUNS} inputs)`, () => {
    fc.assert(
      fc.property(lineInputs, (bytes) => {
        fuzzInputs.total++;
        assertCoded(decodeServerFrame(bytes));
      }),
      { numRuns: RUNS },
    );
  });

  it(`parseUserInput (the plain-text dialect and slash commands) never throws (${RUNS} inputs)`, () => {
    const typed = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc
        .tuple(
          fc.constantFrom(
            '/join',
            '/part',
            '/pm',
            '/msg',
            '/nick',
            '/me',
            '/topic',
            '/history',
            '/quit',
            '/users',
            '/rooms',
            '/help',
            '//',
            '/',
          ),
          fc.string({ unit: 'binary' }),
        )
        .map(([c, a]) => `${c} ${a}`),
    );
    fc.assert(
      fc.property(typed, (line) => {
        fuzzInputs.total++;
        const r = parseUserInput(line);
        expect(['empty', 'text', 'command', 'error']).toContain(r.kind);
        if (r.kind === 'error') expect(isErrorCode(r.error.code)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it(`LineFramer never buffers past its limit and never throws, however the bytes are chunked (${RUNS} inputs)`, () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 4096 }), { maxLength: 20 }), (chunks) => {
        fuzzInputs.total++;
        const framer = new LineFramer({ maxLineBytes: 1024, maxUnterminatedBytes: 8192 });
        for (const chunk of chunks) {
          framer.push(
            Buffer.from(chunk),
            (line) => expect(line.length).toBeLessThanOrEqual(1024),
            (code) => expect(isErrorCode(code)).toBe(true),
          );
          expect(framer.bufferedBytes).toBeLessThanOrEqual(1024);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('formatPlain renders every decodable server frame without throwing', () => {
    fc.assert(
      fc.property(lineInputs, (bytes) => {
        const r = decodeServerFrame(bytes);
        if (r.ok) expect(Array.isArray(formatPlain(r.frame, 'me'))).toBe(true);
      }),
      { numRuns: Math.min(RUNS, 1000) },
    );
    expect(fuzzInputs.total).toBeGreaterThanOrEqual(4 * RUNS);
  });
});
