import { describe, expect, it } from 'vitest';
import { diagnose } from './stress-diagnosis.js';
import { DEFAULT_INTERVAL_MS, DEFAULT_SERVER_FLOOD, paceWarning, stressPace } from './stress-pace.js';
import type { StressReport } from './stress-run.js';

describe('stressPace', () => {
  it('keeps the default pace inside a default server flood budget, PMs and room switches included', () => {
    const pace = stressPace({ intervalMs: DEFAULT_INTERVAL_MS });
    expect(pace.ratePerClient).toBeCloseTo(1.5);
    expect(pace.tokensPerSec).toBeCloseTo(1.5375);
    expect(pace.tokensPerSec).toBeLessThan(0.8 * DEFAULT_SERVER_FLOOD.ratePerSecond);
    // hello (2) then a switch (part 0.5 + join 1) right away still fit the burst.
    expect(pace.startTokens + 1.5).toBeLessThanOrEqual(DEFAULT_SERVER_FLOOD.burst);
    expect(pace.withinBudget).toBe(true);
    expect(paceWarning({ intervalMs: DEFAULT_INTERVAL_MS })).toBeNull();
  });

  it('finds the old default of 2 messages a second over budget and says what to change', () => {
    const pace = stressPace({ intervalMs: 500, switchChance: 0.05 });
    expect(pace.tokensPerSec).toBeCloseTo(2.05);
    expect(pace.withinBudget).toBe(false);
    expect(pace.maxRatePerClient).toBe(1.95);
    expect(pace.suggestedRatePerClient).toBe(1.5);
    expect(paceWarning({ intervalMs: 500 })).toMatch(
      /2\.05 flood tokens a second.*--rate 1\.5 or less.*--flood-rate 3 \(or --no-flood-control\)/,
    );
  });

  it('charges room switches their part and join', () => {
    expect(stressPace({ intervalMs: 1000, switchChance: 1 }).tokensPerSec).toBe(1.5);
    expect(stressPace({ intervalMs: 1000, switchChance: 0 }).tokensPerSec).toBe(1);
  });
});

const report = (
  over: { intervalMs?: number; switchChance?: number; p99?: number; byCode?: Record<string, number> } = {},
) =>
  ({
    config: { intervalMs: over.intervalMs ?? DEFAULT_INTERVAL_MS, switchChance: over.switchChance ?? 0.05 },
    clients: { requested: 50, connected: 50, failed: 0, disconnected: 0 },
    errors: { total: 0, byCode: over.byCode ?? {} },
    latencyMs: { samples: 100, p50: 1, p90: 2, p99: over.p99 ?? 5, max: 9 },
  }) as unknown as StressReport;

describe('diagnose', () => {
  it('has nothing to say about a healthy run at the default pace', () => {
    expect(diagnose(report())).toEqual([]);
  });

  it('names the per-address limit and its flags when clients were refused', () => {
    const [note] = diagnose(report({ byCode: { TC_ERR_TOO_MANY_CONNECTIONS: 34 } }));
    expect(note.code).toBe('connections-refused');
    expect(note.message).toMatch(
      /34 of 50 clients were refused.*TC_ERR_TOO_MANY_CONNECTIONS.*--no-exempt-loopback.*--max-connections-per-ip 0/,
    );
  });

  it('names the flood flags for refused commands and the room flags for refused rooms', () => {
    const notes = diagnose(report({ byCode: { TC_ERR_RATE_LIMITED: 3, TC_ERR_ROOM_CREATION_LIMITED: 2 } }));
    expect(notes.map((n) => n.code)).toEqual(['rate-limited', 'room-creation-limited']);
    expect(notes[0].message).toMatch(/--flood-rate, --flood-burst\) or --no-flood-control/);
    expect(notes[1].message).toMatch(/--room-count.*--new-rooms-per-minute 0/);
  });

  it('blames flood control for a high p99 at a pace over the budget, and the server at a pace within it', () => {
    const flood = diagnose(report({ intervalMs: 500, p99: 2_000 }));
    expect(flood.map((n) => n.code)).toEqual(['flood-delayed']);
    expect(flood[0].message).toMatch(
      /latency p99 2000 ms: each client spent 2\.05 flood tokens a second.*waited behind flood control.*--rate \(1\.5 or less.*--flood-rate 3.*--no-flood-control/,
    );
    expect(diagnose(report({ intervalMs: 500, p99: 5 })).map((n) => n.code)).toEqual(['over-budget']);
    expect(diagnose(report({ p99: 3_000 })).map((n) => n.code)).toEqual(['slow']);
  });
});
