import { afterEach, describe, expect, it } from 'vitest';
import { Scrollback, type Line } from '../state/scrollback.js';
import { MessagePane } from './MessagePane.js';
import { cleanupUi, renderUi, stripAnsi } from './render-for-test.js';

afterEach(() => cleanupUi());

function scrollback(lines: Array<Omit<Line, 'seq' | 'ts'>>): Scrollback {
  const sb = new Scrollback(100);
  lines.forEach((l, i) =>
    l.kind === 'notice' ? sb.addNotice('notice', l.text, 0) : sb.add({ ...l, seq: i + 1, id: i + 1, ts: 0 }),
  );
  return sb;
}

/** The escape sequence printed right before a nick on the row that contains `text`. */
function colourBefore(frame: string, text: string, nick: string): string {
  const row = frame.split('\n').find((r) => stripAnsi(r).includes(text))!;
  const at = row.indexOf(nick);
  const before = row.slice(0, at);
  const codes = before.match(/\x1b\[[0-9;]*m/g) ?? [];
  return codes.filter((c) => /\x1b\[(3[0-7]|9[0-7]|38;)/.test(c)).at(-1) ?? 'none';
}

describe('MessagePane', () => {
  const sb = scrollback([
    { kind: 'message', nick: 'bob', text: 'first from bob' },
    { kind: 'message', nick: 'carol', text: 'carol here' },
    { kind: 'message', nick: 'bob', text: 'second from bob' },
    { kind: 'message', nick: 'alice', text: 'my own line' },
    { kind: 'notice', text: 'dave has joined general' },
    { kind: 'action', nick: 'bob', text: 'waves' },
  ]);

  it('draws the same nick in the same colour, and another nick differently', () => {
    const ui = renderUi(
      <MessagePane lines={sb.lines} rev={sb.rev} self="alice" width={60} height={10} bottom={null} />,
    );
    const frame = ui.frame();
    const bob1 = colourBefore(frame, 'first from bob', 'bob');
    const bob2 = colourBefore(frame, 'second from bob', 'bob');
    const carol = colourBefore(frame, 'carol here', 'carol');
    const self = colourBefore(frame, 'my own line', 'alice');
    expect(bob1).not.toBe('none');
    expect(bob1).toBe(bob2);
    expect(carol).not.toBe(bob1);
    expect(self).not.toBe(bob1);
    expect(self).not.toBe(carol);
  });

  it('draws your own nick bold in the terminal default colour, never bright white', () => {
    for (const theme of ['dark', 'light'] as const) {
      const ui = renderUi(
        <MessagePane lines={sb.lines} rev={sb.rev} self="alice" width={60} height={10} bottom={null} />,
        { theme },
      );
      const frame = ui.frame();
      expect(colourBefore(frame, 'my own line', 'alice')).toBe('none');
      const row = frame.split('\n').find((r) => stripAnsi(r).includes('my own line'))!;
      expect(row.slice(0, row.indexOf('alice'))).toContain('\x1b[1m');
      expect(frame).not.toMatch(/\x1b\[(97|37|93)m/);
    }
  });

  it('gives a nick a theme colour: a lighter one on a dark background, a darker one on a light background', () => {
    const dark = colourBefore(
      renderUi(<MessagePane lines={sb.lines} rev={sb.rev} self="alice" width={60} height={10} bottom={null} />, {
        theme: 'dark',
      }).frame(),
      'first from bob',
      'bob',
    );
    const light = colourBefore(
      renderUi(<MessagePane lines={sb.lines} rev={sb.rev} self="alice" width={60} height={10} bottom={null} />, {
        theme: 'light',
      }).frame(),
      'first from bob',
      'bob',
    );
    expect(dark).toMatch(/^\x1b\[38;5;\d+m$/);
    expect(light).toMatch(/^\x1b\[38;5;\d+m$/);
    expect(dark).not.toBe(light);
  });

  it('makes a mention stand out without colour: the nick in inverse and the text bold', () => {
    const m = new Scrollback(100);
    m.add({ seq: 1, id: 1, ts: 0, kind: 'message', nick: 'bob', text: 'alice: lunch?', mention: true });
    m.add({ seq: 2, id: 2, ts: 0, kind: 'message', nick: 'bob', text: 'plain words' });
    for (const noColor of [false, true]) {
      const frame = renderUi(
        <MessagePane lines={m.lines} rev={m.rev} self="alice" width={60} height={6} bottom={null} />,
        { noColor },
      ).frame();
      const mention = frame.split('\n').find((r) => stripAnsi(r).includes('lunch?'))!;
      const plain = frame.split('\n').find((r) => stripAnsi(r).includes('plain words'))!;
      expect(mention).toContain('\x1b[7m');
      expect(mention.slice(mention.indexOf('>'))).toContain('\x1b[1m');
      expect(plain).not.toContain('\x1b[7m');
    }
  });

  it('renders actions as actions and dims notices', () => {
    const ui = renderUi(
      <MessagePane lines={sb.lines} rev={sb.rev} self="alice" width={60} height={10} bottom={null} />,
    );
    expect(ui.text()).toMatch(/\* bob waves/);
    const notice = ui
      .frame()
      .split('\n')
      .find((r) => r.includes('dave has joined'))!;
    expect(notice).toContain('\x1b[2m');
  });

  it('uses no colours when colour is off (NO_COLOR), only bold, dim and inverse', () => {
    const ui = renderUi(
      <MessagePane lines={sb.lines} rev={sb.rev} self="alice" width={60} height={10} bottom={null} />,
      { noColor: true },
    );
    expect(ui.frame()).not.toMatch(/\x1b\[(3[0-7]|9[0-7]|38;)/);
    expect(ui.text()).toContain('<bob> first from bob');
  });

  it('wraps long lines under the text, not under the time', () => {
    const long = scrollback([{ kind: 'message', nick: 'bob', text: 'word '.repeat(30).trim() }]);
    const ui = renderUi(
      <MessagePane lines={long.lines} rev={long.rev} self="alice" width={40} height={10} bottom={null} />,
    );
    const rows = ui
      .text()
      .split('\n')
      .filter((r) => r.includes('word'));
    expect(rows.length).toBeGreaterThan(2);
    expect(rows[1].startsWith(' '.repeat(6))).toBe(true);
    expect(rows.every((r) => r.trimEnd().length <= 40)).toBe(true);
  });

  it('shows a marker with the number of lines below when scrolled up', () => {
    const ui = renderUi(<MessagePane lines={sb.lines} rev={sb.rev} self="alice" width={60} height={10} bottom={2} />);
    expect(ui.text()).toContain('3 more lines below (PgDn)');
    expect(ui.text()).not.toContain('my own line');
  });
});
