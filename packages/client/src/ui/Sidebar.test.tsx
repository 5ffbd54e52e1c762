import { afterEach, describe, expect, it } from 'vitest';
import { newWindow, type ChatWindow } from '../state/chat-state.js';
import { cleanupUi, renderUi, stripAnsi } from './render-for-test.js';
import { Sidebar } from './Sidebar.js';

afterEach(() => cleanupUi());

function w(key: string, kind: ChatWindow['kind'], name: string, unread = 0, mentioned = false): ChatWindow {
  return { ...newWindow(key, kind, name, 100), unread, mentioned };
}

const windows = [
  w('*', 'status', 'teamchat'),
  w('#general', 'room', 'general'),
  w('#random', 'room', 'random', 12),
  w('#ops', 'room', 'ops', 3, true),
  w('@bob', 'pm', 'bob', 1, true),
];

describe('Sidebar', () => {
  it('lists rooms and conversations with their unread counts', () => {
    const ui = renderUi(<Sidebar windows={windows} current="#general" width={20} height={10} />);
    const rows = ui
      .text()
      .split('\n')
      .map((r) => r.replace(/│\s*$/, '').trimEnd());
    expect(rows[1]).toMatch(/^2 #general$/);
    expect(rows[2]).toMatch(/^3 #random\s+12$/);
    expect(rows[4]).toMatch(/^5 @bob\s+1!$/);
  });

  it('marks windows where you were mentioned with "!"', () => {
    const ui = renderUi(<Sidebar windows={windows} current="#general" width={20} height={10} />);
    const text = ui.text();
    expect(text).toMatch(/#ops\s+3!/);
    expect(text).not.toMatch(/#random\s+12!/);
  });

  it('highlights the current window', () => {
    const ui = renderUi(<Sidebar windows={windows} current="#random" width={20} height={10} />);
    const current = ui
      .frame()
      .split('\n')
      .find((r) => stripAnsi(r).includes('#random'))!;
    const other = ui
      .frame()
      .split('\n')
      .find((r) => stripAnsi(r).includes('#general'))!;
    expect(current).toContain('\x1b[7m');
    expect(other).not.toContain('\x1b[7m');
  });
});
