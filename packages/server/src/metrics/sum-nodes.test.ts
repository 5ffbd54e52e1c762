import { describe, expect, it } from 'vitest';
import type { MetricSnapshot } from './metric-snapshot.js';
import { combineNodes, sumNodes } from './sum-nodes.js';

const room = (messages: number, members: number) => ({
  mps: messages / 2,
  avgMps: messages / 2,
  messages,
  messagesTotal: messages * 10,
  joins: 1,
  leaves: 0,
  joinsTotal: 5,
  leavesTotal: 2,
  members,
});

function snap(ts: number, node: string | undefined, messages: number, connections: number): MetricSnapshot {
  return {
    ts,
    intervalMs: 2000,
    v: 2,
    ...(node ? { node } : {}),
    rooms: { general: room(messages, connections) },
    totals: {
      mps: messages / 2,
      avgMps: messages / 2,
      messages,
      messagesTotal: messages * 10,
      privateMessages: 1,
      privateMessagesTotal: 3,
      joins: 1,
      leaves: 0,
      connections,
      rooms: 1,
    },
  };
}

async function* pages(...list: MetricSnapshot[][]): AsyncGenerator<MetricSnapshot[]> {
  for (const page of list) yield page;
}

describe('sumNodes', () => {
  it("adds the nodes' counts of one interval; a room in use on two nodes stays one room", () => {
    const sum = sumNodes([snap(10_000, 'a', 4, 3), snap(10_500, 'b', 6, 2)]);
    expect(sum.totals).toMatchObject({
      messages: 10,
      mps: 5,
      connections: 5,
      privateMessages: 2,
      messagesTotal: 100,
      rooms: 1,
    });
    expect(sum.rooms.general).toMatchObject({ messages: 10, members: 5 });
    expect(sum).toMatchObject({ ts: 10_500, intervalMs: 2000, nodes: 2 });
  });
});

describe('combineNodes', () => {
  it("sums the nodes' snapshots interval by interval, across page boundaries, and passes single-server rows through", async () => {
    const out: MetricSnapshot[] = [];
    for await (const page of combineNodes(
      pages(
        [snap(1_000, undefined, 1, 1), snap(1_900, 'a', 2, 1)],
        [snap(2_300, 'b', 3, 1), snap(3_900, 'a', 4, 1)],
        [snap(4_200, 'b', 5, 1)],
      ),
    )) {
      out.push(...page);
    }
    expect(out.map((s) => [s.ts, s.totals.messages, s.nodes ?? 1])).toEqual([
      [1_000, 1, 1],
      [2_300, 5, 2],
      [4_200, 9, 2],
    ]);
  });

  it('never sums two snapshots of the same node', async () => {
    const out: MetricSnapshot[] = [];
    for await (const page of combineNodes(pages([snap(2_000, 'a', 1, 1), snap(2_500, 'a', 2, 1)]))) out.push(...page);
    expect(out.map((s) => s.totals.messages)).toEqual([1, 2]);
  });
});
