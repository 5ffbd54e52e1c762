import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConnectionState } from '../connection/chat-connection.js';
import { cleanupUi, renderUi, stripAnsi } from './render-for-test.js';
import { StatusBar } from './StatusBar.js';

afterEach(() => {
  cleanupUi();
  vi.restoreAllMocks();
});

const connected: ConnectionState = {
  status: 'connected',
  server: '127.0.0.1:5555',
  nick: 'alice',
  retryAt: null,
  reason: null,
  ready: true,
};

describe('StatusBar', () => {
  it('shows the right reconnect countdown from the first frame, however long it has been mounted', async () => {
    // The bar is mounted at start; the connection drops 258 s later. The countdown must come
    // from the clock at that render, not from when the bar was mounted.
    const realNow = Date.now.bind(Date);
    let offset = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
    const ui = renderUi(<StatusBar connection={connected} nick="alice" title="2:#general" topic={null} width={80} />);
    await ui.waitFor((f) => stripAnsi(f).includes('[connected]'));
    offset = 258_000;
    ui.rerender(
      <StatusBar
        connection={{ ...connected, status: 'reconnecting', ready: false, retryAt: Date.now() + 3_000 }}
        nick="alice"
        title="2:#general"
        topic={null}
        width={80}
      />,
    );
    const first = stripAnsi(await ui.waitFor((f) => stripAnsi(f).includes('reconnecting')));
    expect(first).toContain('[reconnecting in 3s]');
    // And it counts down.
    await ui.waitFor((f) => stripAnsi(f).includes('[reconnecting in 2s]'), 2_500);
  });

  it('says "retrying" while it never connected, "reconnecting" after a drop', () => {
    const state: ConnectionState = { ...connected, status: 'reconnecting', ready: false, retryAt: 10_000 };
    const never = renderUi(
      <StatusBar
        connection={state}
        nick="alice"
        title="1:srv"
        topic={null}
        width={80}
        everConnected={false}
        now={8_000}
      />,
    );
    expect(never.text()).toContain('[retrying in 2s]');
    const again = renderUi(
      <StatusBar connection={state} nick="alice" title="1:srv" topic={null} width={80} now={8_000} />,
    );
    expect(again.text()).toContain('[reconnecting in 2s]');
  });

  it('puts the activity list first when compact, so a narrow terminal never cuts it off', () => {
    const activity: Array<[number, boolean]> = [
      [3, false],
      [4, true],
    ];
    const ui = renderUi(
      <StatusBar
        connection={{ ...connected, status: 'reconnecting', retryAt: 5_000, ready: false }}
        nick="alice"
        title="2:#general"
        topic="a long topic"
        width={40}
        compact
        activity={activity}
        now={0}
      />,
      { columns: 40 },
    );
    const row = ui.text().split('\n')[0];
    expect(row.startsWith(' [act: 3,4!]')).toBe(true);
    expect(row.length).toBeLessThanOrEqual(40);
    // The mention mark is bold, not only coloured.
    expect(ui.frame()).toMatch(/\x1b\[1m[^\n]*4!/);
  });

  it('leaves the activity out when the sidebar shows it', () => {
    const ui = renderUi(
      <StatusBar
        connection={connected}
        nick="alice"
        title="2:#general"
        topic={null}
        width={80}
        activity={[[3, false]]}
      />,
    );
    expect(ui.text()).not.toContain('[act:');
    expect(ui.text()).toContain('127.0.0.1:5555 | alice | 2:#general');
  });
});
