import { afterEach, describe, expect, it, vi } from 'vitest';
import { ALL_COMMAND_NAMES } from '../input/interpret-input.js';
import { InputLine } from './InputLine.js';
import { cleanupUi, renderUi, stripAnsi } from './render-for-test.js';

afterEach(() => cleanupUi());

function setup() {
  const submitted: string[] = [];
  const ui = renderUi(
    <InputLine
      prompt="[#general] "
      width={60}
      nicks={['bob', 'carol']}
      commands={ALL_COMMAND_NAMES}
      onSubmit={(l) => submitted.push(l)}
    />,
  );
  return { ui, submitted };
}

describe('InputLine', () => {
  it('submits what was typed on Enter and clears the line', async () => {
    const { ui, submitted } = setup();
    await ui.type('hello', ' world');
    await ui.waitFor((f) => f.includes('hello world'));
    await ui.type('\r');
    expect(submitted).toEqual(['hello world']);
    await ui.waitFor((f) => !f.includes('hello world'));
  });

  it('completes a slash command with Tab', async () => {
    const { ui, submitted } = setup();
    await ui.type('/jo', '\t');
    await ui.waitFor((f) => f.includes('/join '));
    await ui.type('dev', '\r');
    expect(submitted).toEqual(['/join dev']);
  });

  it('completes nicks with Tab and cycles on repeated Tab', async () => {
    const { ui } = setup();
    await ui.type('c', '\t');
    await ui.waitFor((f) => f.includes('carol: '));
    const { ui: ui2 } = setup();
    await ui2.type('thanks ', '\t');
    // An empty word has nothing to complete: the line stays.
    await ui2.type('b', '\t');
    await ui2.waitFor((f) => f.includes('thanks bob '));
  });

  it('recalls earlier lines with Up and Down', async () => {
    const { ui } = setup();
    await ui.type('first', '\r', 'second', '\r');
    await ui.type('\x1b[A');
    await ui.waitFor((f) => f.includes('second'));
    await ui.type('\x1b[A');
    await ui.waitFor((f) => f.includes('first'));
    await ui.type('\x1b[B', '\x1b[B');
    await ui.waitFor((f) => !f.includes('first') && !f.includes('second'));
  });

  it('deletes with Backspace', async () => {
    const { ui, submitted } = setup();
    await ui.type('helloo', '\x7f', '\r');
    expect(submitted).toEqual(['hello']);
  });

  it('sends text and Enter that arrive in one chunk (a fast paste, tmux send-keys)', async () => {
    const { ui, submitted } = setup();
    await ui.type('hello world\r');
    expect(submitted).toEqual(['hello world']);
    await ui.type('half ', 'typed\r');
    expect(submitted).toEqual(['hello world', 'half typed']);
  });

  it('sends a pasted block of a few lines as separate lines, keeping an unfinished last line', async () => {
    const { ui, submitted } = setup();
    await ui.type('one\rtwo\r\rthree\rfou');
    await ui.waitFor((f) => f.includes('fou'));
    expect(submitted).toEqual(['one', 'two', 'three']);
    await ui.type('r\r');
    expect(submitted).toEqual(['one', 'two', 'three', 'four']);
  });

  it('collects a paste that arrives in several chunks', async () => {
    const { ui, submitted } = setup();
    // No pause between chunks: one paste of four lines.
    ui.stdin.write('a1\ra2\ra');
    ui.stdin.write('3\ra4\r');
    await ui.waitFor(() => submitted.length === 4);
    expect(submitted).toEqual(['a1', 'a2', 'a3', 'a4']);
  });

  it('asks before sending a paste of more than 5 lines, and sends on "y"', async () => {
    const { ui, submitted } = setup();
    const lines = Array.from({ length: 12 }, (_, i) => `line ${i + 1}`);
    await ui.type(`${lines.join('\r')}\r`);
    await ui.waitFor((f) => stripAnsi(f).includes('Paste 12 lines? (y/n)'));
    expect(submitted).toEqual([]);
    await ui.type('y');
    await ui.waitFor(() => submitted.length === 12);
    expect(submitted).toEqual(lines);
    await ui.waitFor((f) => !stripAnsi(f).includes('Paste'));
  });

  it('drops a long paste on "n" and gives back what was typed before it', async () => {
    const { ui, submitted } = setup();
    await ui.type('draft');
    await ui.type(Array.from({ length: 8 }, (_, i) => `x${i}`).join('\r') + '\r');
    await ui.waitFor((f) => stripAnsi(f).includes('Paste 8 lines? (y/n)'));
    await ui.type('n');
    await ui.waitFor((f) => stripAnsi(f).includes('[#general] draft'));
    await ui.type('\r');
    expect(submitted).toEqual(['draft']);
  });

  it('understands a bracketed paste (ESC[200~ ... ESC[201~)', async () => {
    const { ui, submitted } = setup();
    await ui.type('\x1b[200~first\rsecond\rthi', 'rd\x1b[201~');
    await ui.waitFor((f) => stripAnsi(f).includes('third'));
    expect(submitted).toEqual(['first', 'second']);
    expect(stripAnsi(ui.frame())).not.toContain('[200~');
    await ui.type('\r');
    expect(submitted).toEqual(['first', 'second', 'third']);
  });

  it('ends a bracketed paste whose end marker was split across two reads', async () => {
    const { ui, submitted } = setup();
    // A slow read can cut ESC[201~ in two: Ink then hands on "[201" (its ESC flushed alone) and "~".
    await ui.type('\x1b[200~first\rsecond\r', '\x1b[20', '1~');
    await ui.type('typed after\r');
    expect(submitted).toEqual(['first', 'second', 'typed after']);
    expect(stripAnsi(ui.frame())).not.toContain('[20');
  });

  it('ends a bracketed paste whose end marker never came once input pauses', async () => {
    const { ui, submitted } = setup();
    await ui.type('\x1b[200~one\rtwo\r');
    await vi.waitFor(() => expect(submitted).toEqual(['one', 'two']), { timeout: 5_000 });
    await ui.type('next\r');
    expect(submitted).toEqual(['one', 'two', 'next']);
  });

  it('starts with the text it is given (a suggested nick)', async () => {
    const submitted: string[] = [];
    const ui = renderUi(
      <InputLine
        prompt="Choose a nick: "
        initial="alice"
        width={60}
        nicks={[]}
        commands={[]}
        onSubmit={(l) => submitted.push(l)}
      />,
    );
    await ui.waitFor((f) => stripAnsi(f).includes('Choose a nick: alice'));
    await ui.type('\r');
    expect(submitted).toEqual(['alice']);
  });

  it('takes keys typed faster than they are read one by one (Ctrl+U, a word and Enter in one chunk)', async () => {
    const submitted: string[] = [];
    const ui = renderUi(
      <InputLine
        prompt="Choose a nick: "
        initial="suggested"
        width={60}
        nicks={[]}
        commands={[]}
        onSubmit={(l) => submitted.push(l)}
      />,
    );
    await ui.waitFor((f) => stripAnsi(f).includes('suggested'));
    await ui.type('\x15newcomer\r');
    expect(submitted).toEqual(['newcomer']);
    await ui.type('helloo\x7f\x01> \r');
    expect(submitted).toEqual(['newcomer', '> hello']);
  });
});
