import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { ALL_COMMAND_NAMES } from '../input/interpret-input.js';
import { InputLine } from './InputLine.js';
import { renderUi } from './render-for-test.js';

afterEach(() => cleanup());

function setup() {
  const submitted: string[] = [];
  const ui = renderUi(<InputLine prompt="[#general] " width={60} nicks={['bob', 'carol']} commands={ALL_COMMAND_NAMES} onSubmit={(l) => submitted.push(l)} />);
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
});
